"""The ``cookie`` option: none by default, byte-identical strings, dict
attribute order, the JS defaults, and the cookie on a websocket handshake."""

from __future__ import annotations

import re

from http_checks import (
    BASE,
)
from raw_clients import (
    PollingClient,
    eio_path,
    websocket_handshake,
)

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
WEBSOCKET_COOKIE_MODES = {'asgi', 'hypercorn', 'native', 'aiohttp'}


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
