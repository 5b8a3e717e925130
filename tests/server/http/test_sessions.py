"""Sessions over HTTP: unknown and closed sids, concurrent and bad POSTs,
server and peer disconnects, and upgrades that fail or time out."""

from __future__ import annotations

import json
import socket
import time

import pytest
from http_checks import (
    BASE,
    HANDSHAKE,
    closed_for,
)
from raw_clients import (
    SEP,
    TIMEOUT,
    PollingClient,
    RawWebSocket,
    ResultThread,
    assert_error,
    eio_path,
    events_for,
    http_request,
)

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
