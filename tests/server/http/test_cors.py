"""CORS (H-10): same origin by default and behind a proxy, preflight,
credentials, origin lists and strings, and CORS handling off."""

from __future__ import annotations

from http_checks import (
    BASE,
    HANDSHAKE,
    assert_origin_refused,
)
from raw_clients import (
    PollingClient,
    RawWebSocket,
    eio_path,
    http_request,
    websocket_handshake,
)

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
