"""Requests that are not Engine.IO go to ``other_asgi_app`` as ASGI (issue 17).

GET with a Content-Length body, a streamed (chunked) response, POST bodies
delivered to the app in full (sized and chunked uploads, bigger than the
server's body buffer), HEAD, and a websocket to the other app: accepted,
echoed, closed by the app with 1000 or by the client.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest
import websocket
from native_clients import NativeApp, RawHttp, request
from raw_clients import TIMEOUT, http_request


@pytest.fixture(scope='module')
def app():
    process = NativeApp()
    yield process
    process.stop()


def test_a_get_reaches_the_other_app_with_its_path_and_query(app):
    response = http_request(app.port, 'GET', '/info?a=1&b=%C3%A9')
    assert response.status == 200
    assert response.headers['Content-Type'] == 'application/json'
    info = json.loads(response.body)
    assert info == {
        'type': 'http',
        'method': 'GET',
        'path': '/info',
        'scheme': 'http',
        'client': info['client'],
        'http_version': '1.1',
        'query': 'a=1&b=%C3%A9',
    }
    assert info['client'][0] == '127.0.0.1'


def test_a_streamed_response_is_sent_chunked_and_whole(app):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', '/stream?n=5'))
        response = client.response()
        assert response.status == 200
        assert response.chunked
        assert 'content-length' not in response.headers
        assert response.body == b''.join(b'chunk %d\n' % i for i in range(5))
        client.send(request('GET', '/info'))  # the connection is still usable
        assert client.response().status == 200
    finally:
        client.close()


def test_a_streamed_response_to_http_1_0_ends_with_the_connection(app):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', '/stream?n=3', version='1.0', Connection='keep-alive'))
        response = client.response()
        assert response.status == 200
        # HTTP/1.0 has no chunked coding: the body is delimited by the close.
        assert 'transfer-encoding' not in response.headers
        assert response.headers.get('connection') == 'close'
        assert response.body == b'chunk 0\nchunk 1\nchunk 2\n'
        assert client.eof
    finally:
        client.close()


@pytest.mark.parametrize('size', [0, 1, 64 * 1024, 3 * 2**20 + 17])
def test_a_post_body_reaches_the_app_in_full(app, size):
    body = os.urandom(size)
    response = http_request(app.port, 'POST', '/echo', body=body)
    assert response.status == 200
    assert response.json() == {'size': size, 'sha256': hashlib.sha256(body).hexdigest()}


def test_a_chunked_upload_reaches_the_app_in_full(app):
    parts = [os.urandom(100_000) for _ in range(20)]
    response = http_request(app.port, 'POST', '/echo', body=iter(parts))
    assert response.status == 200
    whole = b''.join(parts)
    assert response.json() == {'size': len(whole), 'sha256': hashlib.sha256(whole).hexdigest()}


def test_a_post_body_sent_slowly_in_pieces_reaches_the_app(app):
    body = b'abcdefghij' * 1000
    client = RawHttp(app.port)
    try:
        data = request('POST', '/echo', body)
        head, rest = data[: -len(body)], body
        client.send(head)
        for i in range(0, len(rest), 2500):
            client.send(rest[i : i + 2500])
        response = client.response()
        assert response.json() == {'size': len(body), 'sha256': hashlib.sha256(body).hexdigest()}
    finally:
        client.close()


def test_head_gets_the_headers_without_a_body(app):
    client = RawHttp(app.port)
    try:
        client.send(request('HEAD', '/hello') + request('GET', '/after'))
        head = client.response(head=True)
        assert head.status == 200
        assert head.headers['content-length'] == str(len(b'other /hello'))
        # No body was sent: the next response follows at once.
        assert client.response().body == b'other /after'
    finally:
        client.close()


def test_a_websocket_to_the_other_app_echoes_and_is_closed_by_the_app(app):
    ws = websocket.create_connection('ws://127.0.0.1:%d/chat' % app.port, timeout=TIMEOUT)
    try:
        ws.send('text message')
        assert ws.recv() == 'text message'
        ws.send_binary(b'\x00\x01binary')
        assert ws.recv() == b'\x00\x01binary'
        big = 'x' * 200_000
        ws.send(big)
        assert ws.recv() == big
        ws.send('close')
        opcode, data = ws.recv_data()
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(data[:2], 'big') == 1000
    finally:
        ws.close()


def test_a_websocket_to_the_other_app_closed_by_the_client(app):
    ws = websocket.create_connection('ws://127.0.0.1:%d/chat' % app.port, timeout=TIMEOUT)
    ws.send('hi')
    assert ws.recv() == 'hi'
    ws.close(status=1000, timeout=TIMEOUT)
    # The server answered the close and the app saw the disconnect: still serving.
    assert http_request(app.port, 'GET', '/info').status == 200


def test_a_refused_websocket_handshake_is_answered_400(app):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', '/chat', Upgrade='websocket', Connection='Upgrade'))
        response = client.response()
        assert response.status == 400
    finally:
        client.close()
