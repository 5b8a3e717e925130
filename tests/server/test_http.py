"""The sync server's HTTP layer over real sockets: refusals, JSONP, compression, limits, CORS, cookies.

Every request the spec refuses is checked for its exact status and body
(legacy JSON-string bodies, P-55, or ``{"code", "message"}`` with
``error_format='json'``, F-06).  Servers are echo-server processes started
with the options each test needs; message handlers run inline
(``async_handlers=False``) so an echo is queued before its POST is answered,
and the ping interval is long enough (5 s) that no ping lands in a response
a test reads.  ``logger=True`` sends the server's warnings to its stderr,
where tests look for the size-limit warnings (H-41..H-43).
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import shutil
import socket
import subprocess
import time
import zlib
from urllib.parse import quote_plus

import pytest
from raw_clients import (
    SEP,
    TIMEOUT,
    PollingClient,
    RawWebSocket,
    Response,
    ResultThread,
    assert_error,
    eio_path,
    events_for,
    http_request,
    next_event,
    wait_for_stderr,
    websocket_handshake,
)
from server_process import ASYNC_MODES, SERVER_MODES

BASE = {'ping_interval': 5, 'ping_timeout': 5, 'async_handlers': False, 'logger': True}

BAD_VERSION = 'The client is using an unsupported version of the Socket.IO or Engine.IO protocols'
HANDSHAKE = eio_path(EIO=4, transport='polling')


#: gevent_uwsgi is left out of this module: uWSGI's own HTTP socket refuses
#: chunked request bodies and unusual methods before the app sees them, and
#: its websocket layer enforces its own message size (websockets-max-size)
#: and close handshake, so those cases test uWSGI rather than engineio_fast.
#: The protocol suite, the reference client and the node clients run on it.
@pytest.fixture(scope='module', params=[mode for mode in SERVER_MODES if mode != 'gevent_uwsgi'])
def server_mode(request: pytest.FixtureRequest) -> str:
    """The async modes of this module's servers."""
    return request.param


@pytest.fixture(scope='module')
def server(start_server):
    """Echo server with the default limits (1 MB) and CORS (same origin)."""
    return start_server(**BASE)


@pytest.fixture(scope='module')
def small_server(start_server):
    """Echo server with ``max_http_buffer_size=1000``."""
    return start_server(**BASE, max_http_buffer_size=1000)


def assert_origin_refused(response: Response, process, origin: str) -> None:
    """H-10: a refused Origin; the async server names the origin, as python-engineio's does."""
    if process.mode in ASYNC_MODES:
        assert_error(response, 400, origin + ' is not an accepted origin.')
    else:
        assert_error(response, 400, 'Not an accepted origin.')


def assert_json_error(response: Response, status: int, code: int) -> None:
    """A ``error_format='json'`` refusal (F-06): ``{"code", "message"}``, ``application/json``."""
    assert response.status == status, (response.status, response.body)
    assert response.headers['Content-Type'] == 'application/json'
    body = response.json()
    assert list(body) == ['code', 'message'], body
    assert body['code'] == code, body
    assert isinstance(body['message'], str) and body['message'], body


def closed_for(process, sid: str, reason: str) -> None:
    """The session was closed with ``reason`` and later requests are refused."""
    process.wait_for_event(event='disconnect', sid=sid, reason=reason)
    response = http_request(
        process.port, 'GET', eio_path(EIO=4, transport='polling', sid=sid), timeout=TIMEOUT
    )
    assert_error(response, 400, 'Invalid session %s' % sid)


# -- handshake and query checks ------------------------------------------------------


def test_unsupported_protocol_version_is_refused(server):
    """P-03, P-55: no EIO, EIO=3 or EIO=abc without a sid → 400 with the version message."""
    for eio in (None, 3, 'abc'):
        for transport in ('polling', 'websocket'):
            path = eio_path(EIO=eio, transport=transport)
            if transport == 'websocket':
                response = websocket_handshake(server.port, path)
            else:
                response = http_request(server.port, 'GET', path)
            assert_error(response, 400, BAD_VERSION)


def test_missing_or_unknown_transport_is_refused(server):
    """P-04, P-55: transport missing or unknown → 400 ``"Invalid transport"``, no session."""
    for query in ({'EIO': 4}, {'EIO': 4, 'transport': 'abc'}, {'EIO': 4, 'transport': ''}):
        assert_error(http_request(server.port, 'GET', eio_path(**query)), 400, 'Invalid transport')
    response = websocket_handshake(server.port, eio_path(EIO=4, transport='abc'))
    assert_error(response, 400, 'Invalid transport')


def test_transport_not_enabled_is_refused_and_not_offered(start_server):
    """P-04, P-06: with ``transports=['polling']`` a websocket handshake → 400 and ``upgrades`` is []."""
    process = start_server(**BASE, transports=['polling'])
    response = websocket_handshake(process.port, eio_path(EIO=4, transport='websocket'))
    assert_error(response, 400, 'Invalid transport')
    assert PollingClient(process).open['upgrades'] == []


def test_checks_run_in_order_origin_transport_version_jsonp_method(server):
    """S-16, P-55: origin → transport → version → JSONP index → method."""
    path = eio_path(EIO=3, transport='abc', j='x')
    response = http_request(server.port, 'PUT', path, headers={'Origin': 'http://evil.example'})
    assert_origin_refused(response, server, 'http://evil.example')
    assert_error(http_request(server.port, 'PUT', path), 400, 'Invalid transport')
    path = eio_path(EIO=3, transport='polling', j='x')
    assert_error(http_request(server.port, 'PUT', path), 400, BAD_VERSION)
    path = eio_path(EIO=4, transport='polling', j='x')
    assert_error(http_request(server.port, 'PUT', path), 400, 'Invalid JSONP index number')


def test_handshake_methods(server):
    """P-05: POST without sid and PUT/DELETE/PATCH → 400 ``"Bad Request"`` (not 405); OPTIONS → 200."""
    for method in ('POST', 'PUT', 'DELETE', 'PATCH'):
        response = http_request(server.port, method, HANDSHAKE, body=b'4hello')
        assert_error(response, 400, 'Bad Request')
    response = http_request(server.port, 'OPTIONS', HANDSHAKE)
    assert response.status == 200
    assert response.headers['Access-Control-Allow-Methods'] == 'OPTIONS, GET, POST'


def test_websocket_handshake_needs_the_upgrade_header(server):
    """P-43, P-55: transport=websocket without ``Upgrade: websocket`` → 400 ``"Invalid websocket upgrade"``."""
    response = http_request(server.port, 'GET', eio_path(EIO=4, transport='websocket'))
    assert_error(response, 400, 'Invalid websocket upgrade')
    client = PollingClient(server)
    response = http_request(
        server.port, 'GET', eio_path(EIO=4, transport='websocket', sid=client.sid)
    )
    assert_error(response, 400, 'Invalid websocket upgrade')
    assert client.post('4still polling').body == b'ok'
    assert client.get().text == '4still polling'


def test_eio_is_only_required_on_the_handshake(server):
    """P-02, P-03: requests carrying a sid are served without ``EIO``."""
    client = PollingClient(server)
    path = eio_path(transport='polling', sid=client.sid)
    assert http_request(server.port, 'POST', path, body='4hello').body == b'ok'
    response = http_request(server.port, 'GET', path)
    assert (response.status, response.text) == (200, '4hello')


# -- OPEN packet -------------------------------------------------------------------


def test_open_packet_with_grace_period_and_custom_limits(start_server):
    """P-06, P-07, S-01: ``(interval, grace)`` advertises their sum; ``allow_upgrades=False`` → []."""
    process = start_server(
        ping_interval=[5, 2.5],
        ping_timeout=2.25,
        max_http_buffer_size=12345,
        allow_upgrades=False,
    )
    client = PollingClient(process)
    assert client.handshake.text == '0' + json.dumps(
        {
            'sid': client.sid,
            'upgrades': [],
            'pingTimeout': 2250,
            'pingInterval': 7500,
            'maxPayload': 12345,
        },
        separators=(',', ':'),
    )
    assert client.handshake.headers['Content-Type'] == 'text/plain; charset=UTF-8'


def test_sub_second_intervals_survive(suite_server):
    """P-07, B-04: 0.3 s / 0.2 s are advertised as 300 / 200, on polling and websocket."""
    client = PollingClient(suite_server)
    assert (client.open['pingInterval'], client.open['pingTimeout']) == (300, 200)
    ws, open_data = RawWebSocket.connect(suite_server.port)
    ws.close()
    assert (open_data['pingInterval'], open_data['pingTimeout']) == (300, 200)


def test_initial_packet_follows_open(start_server):
    """F-15, P-09: ``initial_packet`` is queued right after OPEN, on polling and websocket."""
    process = start_server(**BASE, initial_packet='welcome')
    client = PollingClient(process)
    packets = client.handshake.text.split(SEP)
    assert packets[1:] == ['4welcome']
    ws, _ = RawWebSocket.connect(process.port)
    try:
        assert ws.recv() == '4welcome'
    finally:
        ws.close()


def test_introspection_counts_clients_and_reports_the_peer(start_server):
    """F-14: ``clients_count`` follows opens and closes; the environ has the real peer address."""
    process = start_server(**BASE, initial_packet='count me')
    first = PollingClient(process)
    assert first.handshake.text.endswith(SEP + '4count me')
    first.post('4stats')
    before = json.loads(first.get().text[1:])['clients']
    second = PollingClient(process)
    first.post('4stats')
    assert json.loads(first.get().text[1:])['clients'] == before + 1
    assert second.post('1').body == b'ok'
    process.wait_for_event(event='disconnect', sid=second.sid, reason='client disconnect')
    first.post('4stats')
    assert json.loads(first.get().text[1:])['clients'] == before
    assert process.wait_for_event(event='connect', sid=second.sid)['remote'] == '127.0.0.1'


def test_environ_has_the_real_peer_and_scheme(server):
    """A-12, A-13, B-13, B-14: REMOTE_ADDR is the peer (not a hard-coded 127.0.0.1) and the
    scheme is the transport's, overridden by the first X-Forwarded-Proto value."""
    response = http_request(server.port, 'GET', HANDSHAKE, source_address=('127.0.0.2', 0))
    sid = json.loads(response.body[1:])['sid']
    event = server.wait_for_event(event='connect', sid=sid)
    assert (event['remote'], event['scheme']) == ('127.0.0.2', 'http')
    response = http_request(
        server.port, 'GET', HANDSHAKE, headers={'X-Forwarded-Proto': 'https, http'}
    )
    sid = json.loads(response.body[1:])['sid']
    # On WSGI the scheme is the WSGI server's own (proxies are ProxyFix's business).
    expected = 'https' if server.mode in ASYNC_MODES else 'http'
    assert server.wait_for_event(event='connect', sid=sid)['scheme'] == expected


# -- sessions ----------------------------------------------------------------------


def test_unknown_sid_is_refused(server):
    """P-21, P-55: GET and POST for an unknown sid → 400 ``"Invalid session <sid>"``."""
    path = eio_path(EIO=4, transport='polling', sid='nope')
    assert_error(http_request(server.port, 'GET', path), 400, 'Invalid session nope')
    assert_error(
        http_request(server.port, 'POST', path, body='4hello'), 400, 'Invalid session nope'
    )


def test_closed_session_is_refused(server):
    """P-21, P-27: after the client's ``1`` a POST → 400; one GET gets ``6``, the next 400.

    The one GET stands for a poll the client sent before its ``1`` that a
    threaded server handles after it (the suite's polling close case).
    """
    client = PollingClient(server)
    assert client.post('1').body == b'ok'
    server.wait_for_event(event='disconnect', sid=client.sid, reason='client disconnect')
    assert_error(client.post('4hello'), 400, 'Invalid session %s' % client.sid)
    response = client.get()
    assert (response.status, response.text) == (200, '6')
    closed_for(server, client.sid, 'client disconnect')


def test_session_inside_its_connect_handler_is_refused(start_server):
    """P-21, S-30: while the connect handler runs, GET/POST for the new sid → 400; then it works."""
    process = start_server(**BASE, connect_delay=1.0)
    handshake = ResultThread(http_request, process.port, 'GET', HANDSHAKE)
    sid = process.wait_for_event(event='connect')['sid']
    path = eio_path(EIO=4, transport='polling', sid=sid)
    assert_error(http_request(process.port, 'GET', path), 400, 'Invalid session %s' % sid)
    assert_error(
        http_request(process.port, 'POST', path, body='4early'), 400, 'Invalid session %s' % sid
    )
    response = handshake.result()
    assert response.status == 200
    assert json.loads(response.text[1:])['sid'] == sid
    assert http_request(process.port, 'POST', path, body='4late').body == b'ok'
    assert http_request(process.port, 'GET', path).text == '4late'


def test_upgraded_session_refuses_polling(server):
    """P-21: once upgraded, GET and POST on polling → 400 ``"Invalid session <sid>"``."""
    client = PollingClient(server)
    ws = RawWebSocket(server.port, sid=client.sid)
    try:
        ws.send('2probe')
        assert ws.recv() == '3probe'
        ws.send('5')
        ws.send('4upgraded')
        assert ws.recv_message() == '4upgraded'
        assert_error(client.get(), 400, 'Invalid session %s' % client.sid)
        assert_error(client.post('4hello'), 400, 'Invalid session %s' % client.sid)
        ws.send('4still here')
        assert ws.recv_message() == '4still here'
    finally:
        ws.close()


def test_concurrent_post_closes_the_session(server):
    """P-24: a POST while another is being read → 400 and the session closes (``transport error``)."""
    client = PollingClient(server)
    head = (
        'POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: 10\r\n'
        'Content-Type: text/plain\r\n\r\n' % (client.path(), server.port)
    ).encode()
    with socket.create_connection(('127.0.0.1', server.port), timeout=TIMEOUT) as first:
        first.sendall(head + b'4ab')  # the server now waits for 7 more bytes
        time.sleep(0.2)
        assert_error(client.post('4hello'), 400, 'Bad Request')
        first.sendall(b'cdefghi')  # complete: the first POST gets its answer
        assert first.recv(65536).startswith(b'HTTP/1.1 ')
    closed_for(server, client.sid, 'transport error')


def test_parse_error_delivers_valid_prefix_then_closes(server):
    """P-25, P-22: ``4a␞4b␞abc`` → 400; a and b are delivered first; the pending GET gets them then ``1``."""
    client = PollingClient(server)
    pending = client.get_in_background()
    time.sleep(0.2)
    assert_error(client.post(SEP.join(['4a', '4b', 'abc'])), 400, 'Bad Request')
    response = pending.result()
    assert (response.status, response.text) == (200, SEP.join(['4a', '4b', '1']))
    closed_for(server, client.sid, 'transport error')


@pytest.mark.parametrize(
    'body',
    [
        pytest.param(b'abc', id='not-a-packet'),
        pytest.param(b'4a\xff\xfe', id='invalid-utf8'),
        pytest.param(b'', id='empty-packet-between-separators'),
        pytest.param('4a\x1e'.encode(), id='trailing-separator'),
        pytest.param(b'0', id='open'),
        pytest.param(b'2', id='plain-ping'),
        pytest.param(b'2probe', id='probe-on-polling'),
        pytest.param(b'5', id='stray-upgrade'),
        pytest.param(b'7', id='type-7'),
        pytest.param(b'9hello', id='type-9'),
        pytest.param(b'bAQ=', id='bad-base64'),
    ],
)
def test_bad_post_body_is_a_parse_error(server, body):
    """P-25, P-26, P-13, K-06: malformed or forbidden packets → 400, session closed (``transport error``)."""
    client = PollingClient(server)
    if body == b'':
        body = '4a\x1e\x1e4b'.encode()
    assert_error(client.post(body), 400, 'Bad Request')
    closed_for(server, client.sid, 'transport error')


def test_post_body_is_utf8_whatever_the_content_type(server):
    """P-13, P-20, P-26: any Content-Type is read as UTF-8; noop is ignored; ``ok`` is lowercase."""
    client = PollingClient(server)
    response = client.post(
        SEP.join(['6', '4héllo €']).encode(),
        headers={'Content-Type': 'application/octet-stream'},
    )
    assert (response.status, response.body) == (200, b'ok')
    assert response.headers['Content-Type'] == 'text/plain; charset=UTF-8'
    assert client.get().text == '4héllo €'


def test_server_disconnect_of_polling_client(server):
    """P-28, B-02, S-14: ``disconnect(sid)`` returns promptly; the next GET gets ``1``, then 400."""
    client = PollingClient(server)
    # The handler calls disconnect() inline, so the POST is answered only
    # once disconnect() has returned (upstream blocked here for 15 s+).
    response = client.post('4disconnect me', timeout=TIMEOUT)
    assert (response.status, response.body) == (200, b'ok')
    response = client.get()
    assert (response.status, response.text) == (200, '1')
    closed_for(server, client.sid, 'server disconnect')


def test_server_disconnect_releases_the_pending_get(server):
    """P-28, P-22: a GET waiting when the server closes the session returns ``1``."""
    client = PollingClient(server)
    pending = client.get_in_background()
    time.sleep(0.2)
    other = http_request(server.port, 'POST', client.path(), body='4disconnect me')
    assert other.body == b'ok'
    response = pending.result()
    assert (response.status, response.text) == (200, '1')
    closed_for(server, client.sid, 'server disconnect')


def test_server_disconnect_of_websocket_client(server):
    """P-28: a WebSocket client gets ``1``, then the socket closes."""
    ws, open_data = RawWebSocket.connect(server.port)
    try:
        ws.send('4disconnect me')
        _, frames = ws.wait_closed()
        assert frames == ['1']
    finally:
        ws.close()
    server.wait_for_event(event='disconnect', sid=open_data['sid'], reason='server disconnect')


def test_websocket_closed_by_peer_is_transport_close(server):
    """P-44: the client closes the WebSocket without ``1`` → ``transport close``."""
    ws, open_data = RawWebSocket.connect(server.port)
    ws.send('4hello')
    assert ws.recv_message() == '4hello'
    ws.close()
    server.wait_for_event(event='disconnect', sid=open_data['sid'], reason='transport close')


def test_second_websocket_while_upgrading_is_accepted_then_closed(server):
    """P-42, B-17: a second probe WebSocket during an upgrade is closed at once; the first completes."""
    client = PollingClient(server)
    ws = RawWebSocket(server.port, sid=client.sid)
    try:
        second = RawWebSocket(server.port, sid=client.sid)  # 101, or this raises
        try:
            _, frames = second.wait_closed()
            assert frames == []
        finally:
            second.close()
        ws.send('2probe')
        assert ws.recv() == '3probe'
        ws.send('5')
        ws.send('4upgraded')
        assert ws.recv_message() == '4upgraded'
    finally:
        ws.close()


def test_unfinished_upgrade_times_out_and_polling_continues(start_server):
    """F-05: a probe WebSocket that never sends ``2probe`` is closed; the session stays on polling."""
    process = start_server(**BASE, upgrade_timeout=0.5)
    client = PollingClient(process)
    ws = RawWebSocket(process.port, sid=client.sid)
    try:
        ws.wait_closed()
    finally:
        ws.close()
    assert client.post('4still polling').body == b'ok'
    assert client.get().text == '4still polling'
    assert events_for(process, client.sid) == [
        process.wait_for_event(event='connect', sid=client.sid)
    ]


# -- connect refusal and allow_request -------------------------------------------------


def test_connect_handler_refusal_is_401(server):
    """S-31, P-56: the handler returns False → 401 ``"Unauthorized"`` (JSON); no disconnect event."""
    seen = len(server.events)
    response = http_request(server.port, 'GET', eio_path(EIO=4, transport='polling', refuse=1))
    assert response.status == 401
    assert response.reason.upper() in ('UNAUTHORIZED', '')
    assert response.headers['Content-Type'] == 'application/json'
    assert response.json() == 'Unauthorized'
    refused = next_event(server, seen, event='connect')['sid']
    assert_error(
        http_request(server.port, 'GET', eio_path(EIO=4, transport='polling', sid=refused)),
        400,
        'Invalid session %s' % refused,
    )
    ws_refused = websocket_handshake(server.port, eio_path(EIO=4, transport='websocket', refuse=1))
    assert (ws_refused.status, ws_refused.json()) == (401, 'Unauthorized')
    # A later session's disconnect shows that no disconnect came for the refused ones.
    later = PollingClient(server)
    later.post('1')
    server.wait_for_event(event='disconnect', sid=later.sid)
    assert [e for e in events_for(server, refused) if e['event'] == 'disconnect'] == []


def test_allow_request_refuses_before_a_session_exists(start_server):
    """F-01: False → 403 ``"Forbidden"``; str/dict → 403 with that body; True/None allow; no session."""
    process = start_server(**BASE, forbid_header='X-Block')
    connects_before = len([e for e in process.events if e['event'] == 'connect'])
    for header, body in (
        ('false', 'Forbidden'),
        ('"go away"', 'go away'),
        ('{"reason": "quota"}', {'reason': 'quota'}),
    ):
        response = http_request(process.port, 'GET', HANDSHAKE, headers={'X-Block': header})
        assert (response.status, response.json()) == (403, body), header
        response = websocket_handshake(
            process.port, eio_path(EIO=4, transport='websocket'), headers={'X-Block': header}
        )
        assert (response.status, response.json()) == (403, body), header
    allowed = PollingClient(process, headers={'X-Block': 'true'})
    process.wait_for_event(event='connect', sid=allowed.sid)
    connects = [e for e in process.events if e['event'] == 'connect']
    assert [e['sid'] for e in connects[connects_before:]] == [allowed.sid]


# -- error_format='json' -----------------------------------------------------------------


def test_json_error_format(start_server):
    """F-06, P-70: ``{"code", "message"}`` bodies with the JS codes; connect refusal stays 401."""
    process = start_server(**BASE, error_format='json', forbid_header='X-Block')
    port = process.port
    assert_json_error(http_request(port, 'GET', eio_path(EIO=4, transport='abc')), 400, 0)
    assert_json_error(http_request(port, 'GET', eio_path(EIO=4)), 400, 0)
    path = eio_path(EIO=4, transport='polling', sid='nope')
    assert_json_error(http_request(port, 'GET', path), 400, 1)
    assert_json_error(http_request(port, 'POST', path, body='4x'), 400, 1)
    assert_json_error(http_request(port, 'PUT', HANDSHAKE), 400, 2)
    assert_json_error(http_request(port, 'POST', HANDSHAKE, body='4x'), 400, 2)
    response = http_request(port, 'GET', HANDSHAKE, headers={'Origin': 'http://evil.example'})
    assert_json_error(response, 400, 3)
    assert_json_error(
        http_request(port, 'GET', eio_path(EIO=4, transport='polling', j='x')), 400, 3
    )
    response = http_request(port, 'GET', HANDSHAKE, headers={'X-Block': 'false'})
    assert_json_error(response, 403, 4)
    assert_json_error(http_request(port, 'GET', eio_path(EIO=3, transport='polling')), 400, 5)
    response = websocket_handshake(port, eio_path(EIO=3, transport='websocket'))
    assert_json_error(response, 400, 5)
    response = http_request(port, 'GET', eio_path(EIO=4, transport='polling', refuse=1))
    assert (response.status, response.json()) == (401, 'Unauthorized')


# -- JSONP -----------------------------------------------------------------------------

NODE_JSONP = r"""
const vm = require('vm');
const source = require('fs').readFileSync(0, 'utf8');
const calls = [];
const ___eio = new Proxy({}, {get: (_, index) => (text) => calls.push([Number(index), text])});
vm.runInNewContext(source, {___eio});
process.stdout.write(JSON.stringify(calls));
"""


def run_jsonp_in_node(body: bytes) -> list:
    """Evaluate a JSONP response as a script in node; the ``[index, text]`` calls it made."""
    node = shutil.which('node')
    assert node is not None, 'node (Node.js) is needed to evaluate JSONP responses (H-26)'
    proc = subprocess.run(
        [node, '-e', NODE_JSONP], input=body, capture_output=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, proc.stderr.decode(errors='replace')
    return json.loads(proc.stdout)


def test_jsonp_handshake_get_and_post(server):
    """H-25: ``j`` wraps GET payloads in ``___eio[j]("…");``; POST ``d=`` bodies are form-decoded."""
    response = http_request(server.port, 'GET', eio_path(EIO=4, transport='polling', j=7))
    assert response.status == 200
    assert response.text.startswith('___eio[7]("0{') and response.text.endswith('");')
    [(index, open_packet)] = run_jsonp_in_node(response.body)
    assert index == 7
    sid = json.loads(open_packet[1:])['sid']
    path = eio_path(EIO=4, transport='polling', sid=sid, j=7)
    form = {'Content-Type': 'application/x-www-form-urlencoded'}
    message = 'a b+c&d=€\\"'
    response = http_request(
        server.port, 'POST', path, body='d=' + quote_plus('4' + message), headers=form
    )
    assert (response.status, response.body) == (200, b'ok')
    response = http_request(server.port, 'GET', path)
    assert run_jsonp_in_node(response.body) == [[7, '4' + message]]


def test_jsonp_post_with_empty_data_is_an_empty_payload(server):
    """H-25, B-20: POST ``d=`` → 200 ``ok`` and the session stays open."""
    client = PollingClient(server)
    form = {'Content-Type': 'application/x-www-form-urlencoded'}
    response = client.post('d=', headers=form, j=0)
    assert (response.status, response.body) == (200, b'ok')
    assert client.post('d=' + quote_plus('4still open'), headers=form, j=0).body == b'ok'
    assert run_jsonp_in_node(client.get(j=0).body) == [[0, '4still open']]


@pytest.mark.parametrize('index', ['abc', '-1', '1.5', '', '0x1', '١'])
def test_jsonp_index_must_be_an_integer(server, index):
    """H-25, P-55: a non-integer ``j`` → 400 ``"Invalid JSONP index number"``."""
    response = http_request(server.port, 'GET', eio_path(EIO=4, transport='polling', j=index))
    assert_error(response, 400, 'Invalid JSONP index number')
    client = PollingClient(server)
    assert_error(client.get(j=index), 400, 'Invalid JSONP index number')


def test_jsonp_string_escaping_round_trips_in_javascript(server):
    """H-26, B-11: backslash, quotes, control characters, U+2028/U+2029 survive a JS engine."""
    client = PollingClient(server)
    message = 'x\\ "q" \'s\' \n\r\t\x00\x01\x08\x0b\x0c\x1d\x1f\x7f \u2028 \u2029 </script> é € 😀 \\u0041'
    assert client.post('4' + message + SEP + 'bAQIDBA==').body == b'ok'
    response = client.get(j=3)
    text = response.text
    assert '\u2028' not in text and '\u2029' not in text
    assert not any(ord(char) < 0x20 for char in text), text
    assert run_jsonp_in_node(response.body) == [[3, '4' + message + SEP + 'bAQIDBA==']]


# -- compression -------------------------------------------------------------------------

BIG = 'x' * 2000  # over the default 1024-byte compression threshold


def echoed(client: PollingClient, accept_encoding: str | None, message: str = BIG) -> Response:
    """POST a message, then GET its echo with this ``Accept-Encoding``."""
    assert client.post('4' + message).body == b'ok'
    headers = {'Accept-Encoding': accept_encoding} if accept_encoding is not None else {}
    response = client.get(headers=headers)
    assert response.status == 200
    return response


def decoded(response: Response) -> str:
    encoding = response.headers.get('Content-Encoding')
    if encoding == 'gzip':
        return gzip.decompress(response.body).decode()
    if encoding == 'deflate':
        return zlib.decompress(response.body).decode()  # RFC 1950 (zlib) format
    assert encoding is None, encoding
    return response.text


@pytest.mark.parametrize(
    ('accept', 'expected'),
    [
        ('gzip', 'gzip'),
        ('deflate', 'deflate'),
        ('gzip, deflate', 'gzip'),
        ('deflate, gzip', 'gzip'),
        ('gzip;q=0, deflate', 'deflate'),
        ('gzip;q=0.4, deflate;q=0.9', 'deflate'),
        ('deflate;q=0.5, gzip;q=0.8', 'gzip'),
        ('gzip;q=0.5, deflate;q=0.5', 'gzip'),
        ('*', 'gzip'),
        ('deflate;q=0.1, *;q=0.9', 'gzip'),
        ('gzip;q=abc, deflate', 'deflate'),
        ('br, deflate', 'deflate'),
        ('gzip;q=0, deflate;q=0', None),
        ('*;q=0', None),
        ('identity', None),
        ('br', None),
        ('', None),
        (None, None),
    ],
)
def test_compression_negotiation(server, accept, expected):
    """H-30, H-32, B-12: q-values honoured, ties by ``compression_methods`` order, ``*`` = gzip."""
    client = PollingClient(server)
    response = echoed(client, accept)
    assert response.headers.get('Content-Encoding') == expected
    assert decoded(response) == '4' + BIG


def test_compression_threshold_and_cache_control(server):
    """H-30, H-33: small responses are sent as is; polling responses carry ``Cache-Control: no-store``."""
    client = PollingClient(server)
    assert client.handshake.headers['Cache-Control'] == 'no-store'
    small = echoed(client, 'gzip', 'small')
    assert small.headers.get('Content-Encoding') is None
    assert small.text == '4small'
    assert small.headers['Cache-Control'] == 'no-store'
    big = echoed(client, 'gzip')
    assert big.headers['Cache-Control'] == 'no-store'
    assert gzip.decompress(big.body).decode() == '4' + BIG


def test_compression_disabled(start_server):
    """H-30, S-01: ``http_compression=False`` never compresses; the level option is accepted."""
    process = start_server(**BASE, http_compression=False)
    response = echoed(PollingClient(process), 'gzip, deflate')
    assert response.headers.get('Content-Encoding') is None
    assert response.text == '4' + BIG
    process = start_server(**BASE, http_compression_level=9, compression_threshold=10)
    response = echoed(PollingClient(process), 'deflate', 'a' * 20)
    assert response.headers['Content-Encoding'] == 'deflate'
    assert decoded(response) == '4' + 'a' * 20


# -- size limits -------------------------------------------------------------------------


def test_post_at_the_limit_is_delivered(small_server):
    """H-40: a 1000-byte body with a 1000-byte limit is accepted."""
    client = PollingClient(small_server)
    assert client.open['maxPayload'] == 1000
    response = client.post('4' + 'é' * 499 + 'x')
    assert (response.status, response.body) == (200, b'ok')
    assert client.get().text == '4' + 'é' * 499 + 'x'


def test_post_over_the_limit_with_content_length_is_413(small_server):
    """H-40, H-41: a body of 1001 bytes (Content-Length) → 413, session closed, warning logged."""
    client = PollingClient(small_server)
    response = client.post('4' + 'x' * 1000)
    assert response.status == 413, (response.status, response.body)
    closed_for(small_server, client.sid, 'transport error')
    wait_for_stderr(small_server, 'Refused a body of 1001 bytes (limit 1000 bytes)')


def test_post_over_the_limit_is_refused_unread(small_server):
    """H-41: a huge Content-Length is answered 413 without the body being sent."""
    client = PollingClient(small_server)
    conn = http.client.HTTPConnection('127.0.0.1', small_server.port, timeout=TIMEOUT)
    try:
        conn.putrequest('POST', client.path())
        conn.putheader('Content-Length', '100000000')
        conn.putheader('Content-Type', 'text/plain')
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 413
        response.read()
    finally:
        conn.close()
    closed_for(small_server, client.sid, 'transport error')


def chunks(body: bytes, size: int = 100):
    """The body as an iterable of chunks (sent with ``Transfer-Encoding: chunked``)."""
    return (body[i : i + size] for i in range(0, len(body), size))


def test_chunked_post_under_the_limit_is_delivered(small_server):
    """H-40, H-41, B-08: a chunked body (no Content-Length) is read, not treated as empty."""
    client = PollingClient(small_server)
    message = '4' + 'y' * 999
    response = client.post(chunks(message.encode()))
    assert (response.status, response.body) == (200, b'ok')
    assert client.get().text == message
    response = client.post(chunks(b'4hello', 2))
    assert (response.status, response.body) == (200, b'ok')
    assert client.get().text == '4hello'


def test_chunked_post_over_the_limit_is_refused(small_server):
    """H-41, B-08: a chunked body over the limit → 413 and the session closes."""
    client = PollingClient(small_server)
    response = client.post(chunks(b'4' + b'z' * 1500))
    assert response.status == 413, (response.status, response.body)
    closed_for(small_server, client.sid, 'transport error')


@pytest.mark.parametrize('count', [17, 1000])
def test_payload_with_many_packets_is_delivered(server, count):
    """H-42, B-10, P-74: 17 and 1000 packets in one POST are all delivered, in order."""
    client = PollingClient(server)
    packets = ['4m%d' % i for i in range(count)]
    response = client.post(SEP.join(packets))
    assert (response.status, response.body) == (200, b'ok')
    assert client.get().text.split(SEP) == packets


def test_payload_with_1001_packets_is_refused(server):
    """H-42: 1001 packets → 400, session closed (``transport error``), warning logged."""
    client = PollingClient(server)
    response = client.post(SEP.join('4m%d' % i for i in range(1001)))
    assert_error(response, 400, 'Bad Request')
    closed_for(server, client.sid, 'transport error')
    wait_for_stderr(server, '%s: bad POST payload: Too many packets in payload' % client.sid)


def test_websocket_message_under_the_limit_in_bytes_is_echoed(server):
    """H-40: a 900 001-byte text message (300 000 × 3-byte characters) with a 1 MB limit is accepted."""
    ws, _ = RawWebSocket.connect(server.port)
    try:
        message = '4' + '€' * 300_000
        ws.send(message)
        assert ws.recv_message() == message
    finally:
        ws.close()


def test_websocket_text_message_over_the_limit_in_bytes_is_closed(server):
    """H-43, H-40, B-09: 600 000 × 3-byte characters (1.8 MB, 600 001 characters) → close 1009."""
    ws, open_data = RawWebSocket.connect(server.port)
    try:
        try:
            ws.send('4' + '€' * 600_000)
        except OSError:
            pass  # the server may close before the whole frame is written
        code, _ = ws.wait_closed()
    finally:
        ws.close()
    server.wait_for_event(event='disconnect', sid=open_data['sid'], reason='transport error')
    wait_for_stderr(server, '%s: websocket message over 1000000 bytes' % open_data['sid'])
    assert code == 1009


def test_websocket_binary_message_over_the_limit_is_closed(server):
    """H-43, H-40: a 1 000 001-byte binary message → close 1009, warning, ``transport error``."""
    ws, open_data = RawWebSocket.connect(server.port)
    try:
        try:
            ws.send_binary(b'\x00' * 1_000_001)
        except OSError:
            pass
        code, _ = ws.wait_closed()
    finally:
        ws.close()
    assert code == 1009
    wait_for_stderr(server, '%s: websocket message over 1000000 bytes' % open_data['sid'])
    server.wait_for_event(event='disconnect', sid=open_data['sid'], reason='transport error')


# -- CORS --------------------------------------------------------------------------------


def test_same_origin_is_the_default(server):
    """H-10, H-11, H-12: ``scheme://Host`` is allowed and echoed; other origins → 400."""
    origin = 'http://127.0.0.1:%d' % server.port
    response = http_request(server.port, 'GET', HANDSHAKE, headers={'Origin': origin})
    assert response.status == 200
    assert response.headers['Access-Control-Allow-Origin'] == origin
    assert response.headers['Access-Control-Allow-Credentials'] == 'true'
    for bad in ('http://evil.example', 'https://127.0.0.1:%d' % server.port, 'null'):
        response = http_request(server.port, 'GET', HANDSHAKE, headers={'Origin': bad})
        assert_origin_refused(response, server, bad)
        assert response.headers.get('Access-Control-Allow-Origin') is None
    response = http_request(server.port, 'GET', HANDSHAKE)
    assert response.status == 200
    assert response.headers.get('Access-Control-Allow-Origin') is None


def test_same_origin_through_a_proxy(server):
    """H-11, H-13: the origin seen through ``X-Forwarded-*`` or RFC 7239 ``Forwarded`` is allowed."""
    response = http_request(
        server.port,
        'GET',
        HANDSHAKE,
        headers={
            'Origin': 'https://public.example',
            'X-Forwarded-Proto': 'https, http',
            'X-Forwarded-Host': 'public.example, inner',
        },
    )
    assert response.status == 200
    assert response.headers['Access-Control-Allow-Origin'] == 'https://public.example'
    response = http_request(
        server.port,
        'GET',
        HANDSHAKE,
        headers={
            'Origin': 'https://fwd.example',
            'Forwarded': 'proto=https;host="fwd.example", proto=http;host=inner',
        },
    )
    assert response.status == 200
    assert response.headers['Access-Control-Allow-Origin'] == 'https://fwd.example'


def test_origin_is_checked_on_every_request_and_on_websockets(server):
    """H-10: requests with a sid and WebSocket handshakes are refused for a bad Origin too."""
    client = PollingClient(server)
    bad = {'Origin': 'http://evil.example'}
    assert_origin_refused(client.get(headers=bad), server, 'http://evil.example')
    assert_origin_refused(client.post('4x', headers=bad), server, 'http://evil.example')
    response = websocket_handshake(server.port, eio_path(EIO=4, transport='websocket'), bad)
    assert_origin_refused(response, server, 'http://evil.example')
    response = websocket_handshake(
        server.port, eio_path(EIO=4, transport='websocket', sid=client.sid), bad
    )
    assert_origin_refused(response, server, 'http://evil.example')
    ws, _ = RawWebSocket.connect(
        server.port, headers={'Origin': 'http://127.0.0.1:%d' % server.port}
    )
    ws.close()


def test_preflight_and_credentials_on_every_response(server):
    """H-12, P-05: OPTIONS → 200 with methods, echoed request headers; credentials on all answers."""
    origin = 'http://127.0.0.1:%d' % server.port
    response = http_request(
        server.port,
        'OPTIONS',
        HANDSHAKE,
        headers={
            'Origin': origin,
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'X-Custom, Content-Type',
        },
    )
    assert response.status == 200
    assert response.headers['Access-Control-Allow-Origin'] == origin
    assert response.headers['Access-Control-Allow-Methods'] == 'OPTIONS, GET, POST'
    assert response.headers['Access-Control-Allow-Headers'] == 'X-Custom, Content-Type'
    assert response.headers['Access-Control-Allow-Credentials'] == 'true'
    assert response.headers.get('Access-Control-Max-Age') is None
    client = PollingClient(server, headers={'Origin': origin})
    assert client.handshake.headers['Access-Control-Allow-Credentials'] == 'true'
    for response in (
        client.post('4x', headers={'Origin': origin}),
        client.get(headers={'Origin': origin}),
        http_request(server.port, 'GET', eio_path(EIO=4, transport='abc')),
    ):
        assert response.headers['Access-Control-Allow-Credentials'] == 'true'
    response = http_request(
        server.port, 'OPTIONS', HANDSHAKE, headers={'Origin': 'http://evil.example'}
    )
    assert_origin_refused(response, server, 'http://evil.example')


def test_any_origin(start_server):
    """H-11, H-12: ``'*'`` allows every origin and echoes it (not ``*``)."""
    process = start_server(**BASE, cors_allowed_origins='*')
    for origin in ('http://evil.example', 'https://a.b:8443'):
        response = http_request(process.port, 'GET', HANDSHAKE, headers={'Origin': origin})
        assert response.status == 200
        assert response.headers['Access-Control-Allow-Origin'] == origin
    ws, _ = RawWebSocket.connect(process.port, headers={'Origin': 'http://evil.example'})
    ws.close()


def test_origin_list_without_credentials_and_max_age(start_server):
    """H-11, H-12, H-13, F-11: a list allows those origins; no credentials header; ``Access-Control-Max-Age``."""
    process = start_server(
        **BASE,
        cors_allowed_origins=['http://a.example', 'http://b.example'],
        cors_credentials=False,
        cors_max_age=600,
    )
    for origin in ('http://a.example', 'http://b.example'):
        response = http_request(process.port, 'GET', HANDSHAKE, headers={'Origin': origin})
        assert response.status == 200
        assert response.headers['Access-Control-Allow-Origin'] == origin
        assert response.headers.get('Access-Control-Allow-Credentials') is None
    response = http_request(process.port, 'GET', HANDSHAKE, headers={'Origin': 'http://c.example'})
    assert_origin_refused(response, process, 'http://c.example')
    response = http_request(
        process.port,
        'OPTIONS',
        HANDSHAKE,
        headers={'Origin': 'http://a.example', 'Access-Control-Request-Headers': 'X-Token'},
    )
    assert response.status == 200
    assert response.headers['Access-Control-Allow-Origin'] == 'http://a.example'
    assert response.headers['Access-Control-Allow-Methods'] == 'OPTIONS, GET, POST'
    assert response.headers['Access-Control-Allow-Headers'] == 'X-Token'
    assert response.headers['Access-Control-Max-Age'] == '600'
    assert response.headers.get('Access-Control-Allow-Credentials') is None


def test_single_origin_string(start_server):
    """H-11: a string allows exactly that origin."""
    process = start_server(**BASE, cors_allowed_origins='http://a.example')
    response = http_request(process.port, 'GET', HANDSHAKE, headers={'Origin': 'http://a.example'})
    assert (response.status, response.headers['Access-Control-Allow-Origin']) == (
        200,
        'http://a.example',
    )
    response = http_request(
        process.port, 'GET', HANDSHAKE, headers={'Origin': 'http://a.example.evil'}
    )
    assert_origin_refused(response, process, 'http://a.example.evil')


def test_cors_handling_off(start_server):
    """H-10, H-12: ``cors_allowed_origins=[]`` accepts any Origin and sends no CORS headers."""
    process = start_server(**BASE, cors_allowed_origins=[])
    response = http_request(
        process.port, 'GET', HANDSHAKE, headers={'Origin': 'http://evil.example'}
    )
    assert response.status == 200
    assert not [name for name in response.headers if name.lower().startswith('access-control-')]
    response = http_request(
        process.port, 'OPTIONS', HANDSHAKE, headers={'Origin': 'http://evil.example'}
    )
    assert response.status == 200
    assert not [name for name in response.headers if name.lower().startswith('access-control-')]


# -- cookie ------------------------------------------------------------------------------


def test_no_cookie_by_default(server):
    """H-20: without ``cookie`` the handshake sets no cookie."""
    assert PollingClient(server).handshake.headers.get('Set-Cookie') is None


def test_cookie_string_is_byte_identical(start_server):
    """H-20: ``cookie='io'`` → ``io=<sid>; path=/; SameSite=Lax`` exactly."""
    process = start_server(**BASE, cookie='io')
    client = PollingClient(process)
    assert client.handshake.headers.get_all('Set-Cookie') == [
        'io=%s; path=/; SameSite=Lax' % client.sid
    ]


#: Modes whose websocket layer can add headers to the 101 response (H-21 is a SHOULD).
WEBSOCKET_COOKIE_MODES = {'asgi', 'hypercorn', 'aiohttp'}


def test_cookie_on_websocket_first_handshake(start_server):
    """H-21, B-19: a websocket-first handshake sets the cookie where the driver can add
    101 headers (ASGI, aiohttp); the others answer 101 without it."""
    process = start_server(**BASE, cookie='io')
    response = websocket_handshake(process.port, eio_path(EIO=4, transport='websocket'))
    assert response.status == 101
    cookies = response.headers.get_all('Set-Cookie') or []
    if process.mode in WEBSOCKET_COOKIE_MODES:
        assert len(cookies) == 1
        assert re.fullmatch(r'io=[A-Za-z0-9_-]{20}; path=/; SameSite=Lax', cookies[0]), cookies
    else:
        assert cookies == []


def test_cookie_dict_keeps_attribute_order(start_server):
    """H-20: dict form: ``name`` first, then string attributes ``; k=v`` and ``True`` flags in order."""
    process = start_server(
        **BASE,
        cookie={
            'name': 'sess',
            'path': '/chat',
            'SameSite': 'Strict',
            'Secure': True,
            'HttpOnly': True,
            'Max-Age': '60',
        },
    )
    client = PollingClient(process)
    assert client.handshake.headers['Set-Cookie'] == (
        'sess=%s; path=/chat; SameSite=Strict; Secure; HttpOnly; Max-Age=60' % client.sid
    )
    process = start_server(**BASE, cookie={'path': '/'})
    client = PollingClient(process)
    assert client.handshake.headers['Set-Cookie'] == 'io=%s; path=/' % client.sid


def test_cookie_js_defaults(start_server):
    """F-12: ``cookie_defaults='js'`` → ``io=<sid>; Path=/; HttpOnly; SameSite=Lax``."""
    process = start_server(**BASE, cookie='io', cookie_defaults='js')
    client = PollingClient(process)
    assert client.handshake.headers['Set-Cookie'] == (
        'io=%s; Path=/; HttpOnly; SameSite=Lax' % client.sid
    )
