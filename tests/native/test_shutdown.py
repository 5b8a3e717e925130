"""Shutdown of the native server on SIGTERM and SIGINT (issue 17).

A fresh ``native_app.py`` per test holds a websocket session, a polling
session with a pending long poll, and an idle keep-alive connection.  On the
signal: the websocket gets a close frame with code 1001 and no Engine.IO
close packet (``1``) before it, the long poll ends without a ``1`` packet,
the listening socket is closed, the lifespan shutdown hook runs and the
process exits with status 0, all within a bound.
"""

from __future__ import annotations

import signal
import socket
import time

import pytest
import websocket
from native_clients import ConnectionClosed, NativeApp, RawHttp, request
from raw_clients import SEP, PollingClient, RawWebSocket

#: Bound on the whole shutdown.
EXIT_WITHIN = 5.0


@pytest.fixture
def app():
    process = NativeApp(eio={'ping_interval': 10, 'ping_timeout': 5}, graceful=3)
    yield process
    process.stop()


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT], ids=['SIGTERM', 'SIGINT'])
def test_a_signal_closes_sessions_without_close_packets_and_exits_0(app, signum):
    ws, _ = RawWebSocket.connect(app.port)
    ws.send('4before')
    assert ws.recv_message() == '4before'
    session = PollingClient(app)
    assert session.post('4polled').status == 200
    assert session.get_until(['4polled']) == ['4polled']
    poll = RawHttp(app.port)
    poll.send(request('GET', session.path()))
    with pytest.raises(TimeoutError):
        poll.response(timeout=0.3)  # held by the server: nothing to send yet
    idle = RawHttp(app.port)
    idle.send(request('GET', '/info'))
    assert idle.response().status == 200

    started = time.monotonic()
    app.process.send_signal(signum)

    code, frames = ws.wait_closed(timeout=EXIT_WITHIN)
    assert code == 1001, (code, frames)
    assert '1' not in frames, frames
    # The listening socket was closed before the sessions: new connections are refused.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(('127.0.0.1', app.port), timeout=2).close()
    try:
        response = poll.response(timeout=EXIT_WITHIN)
    except ConnectionClosed:
        pass  # ended without an answer: the client reconnects
    else:
        assert '1' not in response.text.split(SEP), response
    assert idle.closed_within(EXIT_WITHIN) is not None
    assert app.wait_exit(timeout=EXIT_WITHIN) == 0, app.stderr
    assert time.monotonic() - started < EXIT_WITHIN
    assert 'HOOK shutdown' in app.lines
    assert 'Traceback' not in app.stderr, app.stderr
    # The sessions' messages left tasks behind (their couriers): ended, not lost.
    assert 'Task was destroyed' not in app.stderr, app.stderr
    ws.close()
    poll.close()
    idle.close()


def test_a_request_running_at_the_signal_is_answered_before_the_exit(app):
    client = RawHttp(app.port)
    client.send(request('GET', '/slow?s=1'))
    time.sleep(0.2)
    app.process.send_signal(signal.SIGTERM)
    response = client.response(timeout=EXIT_WITHIN)
    assert (response.status, response.body) == (200, b'slept')
    assert response.headers.get('connection') == 'close'
    assert app.wait_exit(timeout=EXIT_WITHIN) == 0, app.stderr
    assert 'HOOK shutdown' in app.lines
    client.close()


def test_a_request_longer_than_the_graceful_timeout_is_dropped_and_the_exit_bounded(app):
    client = RawHttp(app.port)
    client.send(request('GET', '/slow?s=30'))
    time.sleep(0.2)
    started = time.monotonic()
    app.process.send_signal(signal.SIGTERM)
    assert client.closed_within(EXIT_WITHIN + 3) is not None
    assert app.wait_exit(timeout=EXIT_WITHIN + 3) == 0, app.stderr
    assert time.monotonic() - started < 3 + EXIT_WITHIN  # graceful=3
    assert 'HOOK shutdown' in app.lines
    client.close()


def test_a_websocket_to_the_other_app_is_closed_on_the_signal(app):
    ws = websocket.create_connection('ws://127.0.0.1:%d/chat' % app.port, timeout=EXIT_WITHIN)
    ws.send('hello')
    assert ws.recv() == 'hello'
    app.process.send_signal(signal.SIGTERM)
    opcode, data = ws.recv_data()
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(data[:2], 'big') == 1001
    assert app.wait_exit(timeout=EXIT_WITHIN) == 0, app.stderr
    ws.close()
