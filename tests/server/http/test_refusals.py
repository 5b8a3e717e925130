"""Requests the spec refuses, with their exact status and body: query checks,
handshake methods, connect-handler refusals, ``allow_request`` (F-01) and
``error_format='json'`` (F-06)."""

from __future__ import annotations

from http_checks import (
    BAD_VERSION,
    BASE,
    HANDSHAKE,
    assert_json_error,
    assert_origin_refused,
)
from raw_clients import (
    PollingClient,
    assert_error,
    eio_path,
    events_for,
    http_request,
    next_event,
    websocket_handshake,
)

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
