"""``X-Forwarded-For`` / ``X-Forwarded-Proto`` on the native server (issue 17).

With ``forwarded_allow_ips='127.0.0.1'`` a request from 127.0.0.1 (the
trusted proxy) gets its client address and scheme from the headers, in the
environ given to ``connect`` (``REMOTE_ADDR``, ``wsgi.url_scheme``) and in the
other app's ASGI scope; a request from 127.0.0.2 (any 127.x address works on
loopback) is not trusted; with ``proxy_headers=False`` nobody is.

Untrusted, ``X-Forwarded-For`` changes nothing.  ``X-Forwarded-Proto`` still
sets the Engine.IO environ's ``wsgi.url_scheme``, as on every ASGI server
(A-12: the asgi driver honours it whoever sends it, for the same-origin
check behind a TLS proxy); the other app's ``scope['scheme']`` is the
native server's own and stays ``http``.
"""

from __future__ import annotations

import json

import pytest
import websocket
from native_clients import NativeApp, RawHttp, request
from raw_clients import SEP, TIMEOUT, http_request

FORWARDED = {'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https'}


@pytest.fixture(scope='module')
def start():
    started: dict = {}

    def run(**config) -> NativeApp:
        key = json.dumps(config, sort_keys=True)
        if key not in started:
            started[key] = NativeApp(**config)
        return started[key]

    yield run
    for process in started.values():
        process.stop()


def handshake(app: NativeApp, source: str = '127.0.0.1', headers: dict | None = None) -> dict:
    """The ``connect`` event of a polling handshake sent from ``source``."""
    response = http_request(
        app.port,
        'GET',
        '/engine.io/?EIO=4&transport=polling',
        headers=headers,
        source_address=(source, 0),
    )
    assert response.status == 200, response
    sid = json.loads(response.text.split(SEP)[0][1:])['sid']
    return app.wait_for_event(event='connect', sid=sid)


def other_app_scope(app: NativeApp, source: str, headers: dict) -> dict:
    response = http_request(app.port, 'GET', '/info', headers=headers, source_address=(source, 0))
    return json.loads(response.body)


def test_a_trusted_proxy_sets_the_client_address_and_scheme(start):
    app = start(forwarded_allow_ips='127.0.0.1')
    connect = handshake(app, headers=FORWARDED)
    assert (connect['remote'], connect['scheme']) == ('203.0.113.7', 'https')
    scope = other_app_scope(app, '127.0.0.1', FORWARDED)
    assert (scope['client'][0], scope['scheme']) == ('203.0.113.7', 'https')


def test_a_trusted_proxy_chain_gives_the_first_untrusted_address(start):
    app = start(forwarded_allow_ips='127.0.0.1')
    headers = {'X-Forwarded-For': '198.51.100.1, 203.0.113.7, 127.0.0.1'}
    assert handshake(app, headers=headers)['remote'] == '203.0.113.7'


def test_the_proxy_headers_of_a_websocket_handshake_are_applied(start):
    app = start(forwarded_allow_ips='127.0.0.1')
    ws = websocket.create_connection(
        'ws://127.0.0.1:%d/engine.io/?EIO=4&transport=websocket' % app.port,
        timeout=TIMEOUT,
        header=['%s: %s' % item for item in FORWARDED.items()],
        origin='https://127.0.0.1:%d' % app.port,  # same origin behind the proxy
    )
    try:
        sid = json.loads(ws.recv()[1:])['sid']
        connect = app.wait_for_event(event='connect', sid=sid)
        assert (connect['remote'], connect['scheme']) == ('203.0.113.7', 'https')
    finally:
        ws.close()


def test_an_untrusted_peer_cannot_set_the_client_address(start):
    app = start(forwarded_allow_ips='127.0.0.1')
    connect = handshake(app, source='127.0.0.2', headers=FORWARDED)
    assert (connect['remote'], connect['scheme']) == ('127.0.0.2', 'https')
    scope = other_app_scope(app, '127.0.0.2', FORWARDED)
    assert (scope['client'][0], scope['scheme']) == ('127.0.0.2', 'http')


def test_without_proxy_headers_nobody_sets_the_client_address(start):
    app = start(proxy_headers=False, forwarded_allow_ips='*')
    connect = handshake(app, headers=FORWARDED)
    assert (connect['remote'], connect['scheme']) == ('127.0.0.1', 'https')
    scope = other_app_scope(app, '127.0.0.1', FORWARDED)
    assert (scope['client'][0], scope['scheme']) == ('127.0.0.1', 'http')


def test_without_forwarded_headers_the_peer_is_the_client(start):
    app = start(forwarded_allow_ips='127.0.0.1')
    connect = handshake(app)
    assert (connect['remote'], connect['scheme']) == ('127.0.0.1', 'http')


def test_each_request_on_one_connection_gets_its_own_environ(start):
    """A-12, A-13: a keep-alive connection's requests with other headers get other values.

    The native connection reuses the environ its previous request's headers
    gave; a change in any header but Content-Length must build a new one,
    and what a handler added to one environ is in no other.
    """
    app = start(forwarded_allow_ips='127.0.0.1')
    sent = [
        {'X-Forwarded-For': '203.0.113.7'},
        {'X-Forwarded-For': '198.51.100.9', 'X-Forwarded-Proto': 'https'},
        {'X-Forwarded-For': '198.51.100.9', 'X-Forwarded-Proto': 'https'},
        {'X-Forwarded-For': '203.0.113.7'},
    ]
    client = RawHttp(app.port)
    events = []
    try:
        for headers in sent:
            client.send(request('GET', '/engine.io/?EIO=4&transport=polling', **headers))
            response = client.response()
            assert response.status == 200, response
            sid = json.loads(response.text.split(SEP)[0][1:])['sid']
            events.append(app.wait_for_event(event='connect', sid=sid))
    finally:
        client.close()
    assert [(e['remote'], e['scheme']) for e in events] == [
        ('203.0.113.7', 'http'),
        ('198.51.100.9', 'https'),
        ('198.51.100.9', 'https'),
        ('203.0.113.7', 'http'),
    ]
    assert [e['marked'] for e in events] == [False] * 4
