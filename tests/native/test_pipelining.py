"""Pipelined requests, HTTP/1.0 and ``Connection: close`` on the native server (issue 17).

Engine.IO and other-app requests written together on one connection are
answered in the order they were sent, each with its own body; a response
that must end the connection does, and what was pipelined behind it is not
answered.
"""

from __future__ import annotations

import json

import pytest
from native_clients import ConnectionClosed, NativeApp, RawHttp, request
from raw_clients import SEP, PollingClient


@pytest.fixture(scope='module')
def app():
    process = NativeApp(eio={'ping_interval': 10, 'ping_timeout': 5})
    yield process
    process.stop()


def eio(sid: str | None = None) -> str:
    return '/engine.io/?EIO=4&transport=polling' + ('&sid=' + sid if sid else '')


def test_a_handshake_and_other_requests_in_one_write_are_answered_in_order(app):
    client = RawHttp(app.port)
    try:
        client.send(
            request('GET', '/first')
            + request('GET', eio())
            + request('GET', '/info?n=2')
            + request('POST', '/echo', b'abc')
            + request('GET', '/third')
        )
        assert client.response().body == b'other /first'
        handshake = client.response()
        assert handshake.status == 200 and handshake.text.startswith('0{'), handshake
        assert client.response().json()['query'] == 'n=2'
        assert client.response().json()['size'] == 3
        assert client.response().body == b'other /third'
        sid = json.loads(handshake.text[1:])['sid']

        # A session's POSTs and polls, pipelined with other-app requests.
        client.send(
            request('POST', eio(sid), b'4one' + SEP.encode() + b'4two')
            + request('GET', eio(sid))
            + request('GET', '/between')
            + request('POST', eio(sid), b'4three')
            + request('GET', '/stream?n=2')
            + request('GET', eio(sid))
            + request('POST', eio(sid), b'1')
        )
        posted = client.response()
        assert (posted.status, posted.text) == (200, 'ok')
        first_poll = client.response()
        assert first_poll.text.split(SEP) == ['4one', '4two']
        assert client.response().body == b'other /between'
        assert client.response().text == 'ok'
        stream = client.response()
        assert (stream.chunked, stream.body) == (True, b'chunk 0\nchunk 1\n')
        assert client.response().text == '4three'
        assert client.response().text == 'ok'
        app.wait_for_event(event='disconnect', sid=sid)
    finally:
        client.close()


def test_a_slow_response_holds_back_the_fast_ones_behind_it(app):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', '/slow?s=0.3') + request('GET', '/fast') + request('GET', eio()))
        assert client.response().body == b'slept'
        assert client.response().body == b'other /fast'
        assert client.response().text.startswith('0{')
    finally:
        client.close()


def test_a_long_poll_holds_back_the_requests_behind_it(app):
    session = PollingClient(app)
    client = RawHttp(app.port)
    try:
        client.send(request('GET', session.path()) + request('GET', '/after'))
        with pytest.raises(TimeoutError):
            client.response(timeout=0.5)
        assert session.post('4wake').status == 200
        assert client.response().text == '4wake'
        assert client.response().body == b'other /after'
    finally:
        client.close()
        session.post('1')


def test_many_pipelined_requests_are_all_answered(app):
    """More requests than the server parses ahead (it pauses reading, then resumes)."""
    client = RawHttp(app.port)
    try:
        client.send(b''.join(request('GET', '/n%d' % i) for i in range(100)))
        for i in range(100):
            assert client.response().body == b'other /n%d' % i
    finally:
        client.close()


@pytest.mark.parametrize('target', ['/info', eio()])
def test_http_1_0_without_keep_alive_closes_after_the_response(app, target):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', target, version='1.0') + request('GET', '/never'))
        response = client.response()
        assert response.status == 200
        assert response.headers.get('connection') == 'close'
        with pytest.raises(ConnectionClosed):
            client.response()
    finally:
        client.close()


def test_http_1_0_with_keep_alive_stays_open(app):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', '/a', version='1.0', Connection='keep-alive'))
        assert client.response().body == b'other /a'
        client.send(request('GET', '/b', version='1.0', Connection='keep-alive'))
        assert client.response().body == b'other /b'
    finally:
        client.close()


@pytest.mark.parametrize('target', ['/info', '/stream?n=2', eio()])
def test_connection_close_ends_the_connection_after_its_response(app, target):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', '/before') + request('GET', target, Connection='close'))
        client.send(request('GET', '/never'))
        assert client.response().body == b'other /before'
        response = client.response()
        assert response.status == 200
        assert response.headers.get('connection') == 'close'
        with pytest.raises(ConnectionClosed):
            client.response()
    finally:
        client.close()


def test_a_post_with_connection_close_is_answered_then_closed(app):
    session = PollingClient(app)
    client = RawHttp(app.port)
    try:
        client.send(request('POST', session.path(), b'4bye', Connection='close'))
        response = client.response()
        assert (response.status, response.text) == (200, 'ok')
        with pytest.raises(ConnectionClosed):
            client.response()
        assert session.get().text == '4bye'
    finally:
        client.close()
        session.post('1')


def test_a_malformed_request_behind_others_is_refused_after_their_responses(app):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', '/a') + request('GET', '/slow?s=0.2') + b'NOT HTTP\r\n\r\n')
        assert client.response().body == b'other /a'
        assert client.response().body == b'slept'
        assert client.response().status == 400
        with pytest.raises(ConnectionClosed):
            client.response()
    finally:
        client.close()


def test_a_request_over_the_limits_behind_a_long_poll_is_refused_after_it(app):
    session = PollingClient(app)
    client = RawHttp(app.port)
    try:
        too_many = {'X-H%d' % i: 'v' for i in range(200)}
        client.send(request('GET', session.path()) + request('GET', '/info', **too_many))
        with pytest.raises(TimeoutError):
            client.response(timeout=0.3)
        assert session.post('4wake').status == 200
        assert client.response().text == '4wake'
        assert client.response().status == 431
        with pytest.raises(ConnectionClosed):
            client.response()
    finally:
        client.close()
        session.post('1')
