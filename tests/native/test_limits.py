"""The native server's HTTP limits (issue 17): header size and count, request target,
header timeout (slowloris) and keep-alive idle timeout.

One ``native_app.py`` process with small limits serves the module; each test
uses its own raw connections (``RawHttp``), on Engine.IO and other-app targets.
"""

from __future__ import annotations

import threading
import time

import pytest
from native_clients import ConnectionClosed, NativeApp, RawHttp, request
from raw_clients import SEP, PollingClient, RawWebSocket, http_request

HEADER_TIMEOUT = 0.5
KEEP_ALIVE = 1.0
LIMITS = {
    'max_request_line': 1024,
    'max_header_count': 20,
    'max_header_size': 4096,
    'header_timeout': HEADER_TIMEOUT,
    'keep_alive_timeout': KEEP_ALIVE,
}
#: Slack on top of a timeout for the idle sweep (a quarter of the timeout) and a loaded machine.
SLACK = 2.0
#: Bound on waiting for the server to close a connection it refused.
TIMEOUT_CLOSE = 5.0
TARGETS = ['/info', '/engine.io/?EIO=4&transport=polling']


@pytest.fixture(scope='module')
def app():
    # A long ping interval: the long-poll test holds a GET longer than the keep-alive timeout.
    process = NativeApp(limits=LIMITS, eio={'ping_interval': 10, 'ping_timeout': 5})
    yield process
    process.stop()


def refused(app: NativeApp, data: bytes) -> tuple[int, float | None]:
    """Send ``data`` in one write: the status answered and whether the connection then ended."""
    client = RawHttp(app.port)
    try:
        client.send(data)
        response = client.response()
        assert response.headers.get('connection') == 'close', response
        return response.status, client.closed_within(TIMEOUT_CLOSE)
    finally:
        client.close()


@pytest.mark.parametrize('target', TARGETS)
def test_too_many_headers_get_431_and_the_connection_closes(app, target):
    headers = {'X-H%d' % i: 'v' for i in range(LIMITS['max_header_count'] + 1)}
    status, closed = refused(app, request('GET', target, **headers))
    assert status == 431
    assert closed is not None


@pytest.mark.parametrize('target', TARGETS)
def test_a_header_block_over_the_size_limit_gets_431_and_the_connection_closes(app, target):
    status, closed = refused(app, request('GET', target, X_Big='a' * LIMITS['max_header_size']))
    assert status == 431
    assert closed is not None


@pytest.mark.parametrize('target', TARGETS)
def test_headers_just_under_the_limits_are_served(app, target):
    count = LIMITS['max_header_count'] - 1  # Host is one of them
    headers = {'X-H%d' % i: 'v' for i in range(count - 1)}
    headers['X-Big'] = 'a' * (LIMITS['max_header_size'] - 400)
    client = RawHttp(app.port)
    try:
        client.send(request('GET', target, **headers))
        assert client.response().status == 200
    finally:
        client.close()


@pytest.mark.parametrize('target', TARGETS)
def test_a_request_target_over_the_limit_gets_414_and_the_connection_closes(app, target):
    long_target = target + ('&' if '?' in target else '?') + 'x=' + 'a' * LIMITS['max_request_line']
    status, closed = refused(app, request('GET', long_target))
    assert status == 414
    assert closed is not None


def test_a_request_target_at_the_limit_is_served(app):
    target = '/info?x='
    target += 'a' * (LIMITS['max_request_line'] - len(target))
    client = RawHttp(app.port)
    try:
        client.send(request('GET', target))
        response = client.response()
        assert response.status == 200
        assert response.json()['path'] == '/info'
    finally:
        client.close()


# -- slowloris -------------------------------------------------------------------


@pytest.mark.parametrize('target', TARGETS)
@pytest.mark.parametrize('second', [False, True], ids=['first-request', 'after-a-request'])
def test_headers_trickling_slower_than_the_header_timeout_get_408_and_close(app, target, second):
    """A byte every 0.1 s: the whole request would take seconds; the server answers
    408 and closes about ``header_timeout`` after the first byte."""
    client = RawHttp(app.port)
    try:
        if second:  # the timeout starts again with the next request's first byte
            client.send(request('GET', '/info'))
            assert client.response().status == 200
        data = request('GET', target, X_Padding='p' * 40)
        assert len(data) * 0.1 > HEADER_TIMEOUT + SLACK + 2
        started = time.monotonic()
        sender = threading.Thread(target=client.trickle, args=(data, 0.1), daemon=True)
        sender.start()
        response = client.response(timeout=HEADER_TIMEOUT + SLACK)
        elapsed = time.monotonic() - started
        assert response.status == 408
        assert response.headers.get('connection') == 'close'
        assert client.closed_within(SLACK) is not None
        assert elapsed < HEADER_TIMEOUT + SLACK, elapsed
        sender.join(10)
    finally:
        client.close()


@pytest.mark.parametrize('target', TARGETS)
def test_a_request_sent_in_pieces_within_the_header_timeout_is_served(app, target):
    data = request('GET', target)
    client = RawHttp(app.port)
    try:
        for i in range(0, len(data), 12):
            client.send(data[i : i + 12])
            time.sleep(HEADER_TIMEOUT / 2 / (len(data) // 12 + 1))
        assert client.response().status == 200
        # and the connection stays usable
        client.send(request('GET', '/info'))
        assert client.response().status == 200
    finally:
        client.close()


def test_a_connection_that_sends_nothing_is_closed(app):
    client = RawHttp(app.port)
    try:
        closed = client.closed_within(max(KEEP_ALIVE, HEADER_TIMEOUT) + SLACK)
        assert closed is not None
        assert client.buffer == b''  # closed without a response: nothing was asked
    finally:
        client.close()


# -- keep-alive ------------------------------------------------------------------


@pytest.mark.parametrize('target', TARGETS)
def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(app, target):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', target))
        response = client.response()
        assert response.status == 200
        assert response.headers.get('connection') != 'close'
        # Still open well inside the timeout: another request is served.
        time.sleep(KEEP_ALIVE / 4)
        client.send(request('GET', '/info'))
        assert client.response().status == 200
        started = time.monotonic()
        closed = client.closed_within(KEEP_ALIVE + SLACK)
        assert closed is not None, 'the idle connection was not closed'
        assert time.monotonic() - started >= KEEP_ALIVE * 0.5
        assert client.buffer == b''
    finally:
        client.close()


def test_a_slow_response_is_not_cut_by_the_keep_alive_timeout(app):
    client = RawHttp(app.port)
    try:
        client.send(request('GET', '/slow?s=%s' % (KEEP_ALIVE * 2.5)))
        response = client.response(timeout=KEEP_ALIVE * 2.5 + SLACK)
        assert (response.status, response.body) == (200, b'slept')
        client.send(request('GET', '/info'))
        assert client.response().status == 200
    finally:
        client.close()


def test_a_long_poll_is_not_cut_by_the_keep_alive_timeout(app):
    """A GET held by the server longer than the keep-alive (and header) timeouts
    is answered when a message arrives, on the same connection."""
    session = PollingClient(app)
    client = RawHttp(app.port)
    try:
        client.send(request('GET', session.path()))
        time.sleep(KEEP_ALIVE * 2.5)
        assert session.post('4late').status == 200
        response = client.response()
        assert (response.status, response.text) == (200, '4late')
        client.send(request('GET', '/info'))
        assert client.response().status == 200
    finally:
        client.close()
        session.post('1')


def test_websockets_are_not_cut_by_the_keep_alive_timeout(app):
    ws, _ = RawWebSocket.connect(app.port)
    try:
        time.sleep(KEEP_ALIVE * 2.5)
        ws.send('4still here')
        assert ws.recv_message() == '4still here'
    finally:
        ws.close()


def test_closed_connections_end_with_the_response_not_before(app):
    """A refused request is answered in full before the close (no reset under it)."""
    client = RawHttp(app.port)
    try:
        client.send(request('GET', '/info', **{'X-H%d' % i: 'v' for i in range(50)}))
        response = client.response()
        assert response.status == 431
        assert response.body
        with pytest.raises(ConnectionClosed):
            client.response(timeout=TIMEOUT_CLOSE)
    finally:
        client.close()


def test_the_server_still_serves_after_every_refusal(app):
    assert http_request(app.port, 'GET', '/info').status == 200
    session = PollingClient(app)
    assert session.post('4ping').status == 200
    assert session.get().text.split(SEP) == ['4ping']
