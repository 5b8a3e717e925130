"""``python -m engineio_fast serve MODULE:APP`` (issue 17): unix socket, host and port,
and a clear error for an app that cannot be loaded.

The app is ``tests/native/native_app.py`` imported as ``native_app:app``
(``--app-dir``), its config in ``NATIVE_APP_CONFIG``; the server logs where it
listens on stderr, which the tests wait for (bounded).
"""

from __future__ import annotations

import json
import signal
import sys
import time

import pytest
from children import ChildProcess, python_env
from native_clients import RawHttp, app_path, request
from ports import free_port
from raw_clients import SEP, TIMEOUT, RawWebSocket, http_request, wait_for_stderr


def serve(*args: str) -> ChildProcess:
    return ChildProcess(
        [sys.executable, '-m', 'engineio_fast', 'serve', *args, '--app-dir', str(app_path())],
        # Not run from the repository root: ``-m`` imports the engineio_fast the tests import.
        cwd=app_path(),
        env=python_env(NATIVE_APP_CONFIG=json.dumps({'eio': {'ping_interval': 5}})),
        name='engineio_fast serve',
    )


@pytest.fixture
def started():
    processes: list[ChildProcess] = []

    def start(*args: str) -> ChildProcess:
        processes.append(serve(*args))
        return processes[-1]

    yield start
    for process in processes:
        process.stop()


def test_serve_on_a_unix_socket(started, tmp_path):
    path = str(tmp_path / 'eio.sock')
    process = started('native_app:app', '--uds', path)
    wait_for_stderr(process, 'serving on unix:' + path)
    process.wait_for_line('HOOK startup')
    client = RawHttp.unix(path)
    try:
        client.send(request('GET', '/engine.io/?EIO=4&transport=polling'))
        handshake = client.response()
        assert handshake.status == 200
        sid = json.loads(handshake.text.split(SEP)[0][1:])['sid']
        path_sid = '/engine.io/?EIO=4&transport=polling&sid=' + sid
        client.send(request('POST', path_sid, b'4over uds') + request('GET', path_sid))
        assert client.response().text == 'ok'
        assert client.response().text == '4over uds'
        client.send(request('GET', '/info'))
        assert client.response().json()['path'] == '/info'
    finally:
        client.close()
    process.process.send_signal(signal.SIGTERM)
    assert process.wait_exit(TIMEOUT) == 0, process.stderr
    assert 'HOOK shutdown' in process.lines


def test_serve_on_host_and_port(started):
    port = free_port()
    process = started('native_app:app', '--host', '127.0.0.1', '--port', str(port))
    wait_for_stderr(process, 'serving on http://127.0.0.1:%d' % port)
    assert http_request(port, 'GET', '/hello').body == b'other /hello'
    ws, _ = RawWebSocket.connect(port)
    try:
        ws.send('4cli')
        assert ws.recv_message() == '4cli'
    finally:
        ws.close()
    process.process.send_signal(signal.SIGINT)
    assert process.wait_exit(TIMEOUT) == 0, process.stderr


def test_serve_takes_the_keep_alive_timeout_option(started):
    port = free_port()
    process = started('native_app:app', '--port', str(port), '--timeout-keep-alive', '0.5')
    wait_for_stderr(process, 'serving on http://127.0.0.1:%d' % port)
    client = RawHttp(port)
    try:
        client.send(request('GET', '/info'))
        assert client.response().status == 200
        assert client.closed_within(3.0) is not None
    finally:
        client.close()


@pytest.mark.parametrize(
    ('target', 'message'),
    [
        ('native_app:no_such_app', "has no attribute 'no_such_app'"),
        ('no_such_module_xyz:app', 'no_such_module_xyz'),
        ('native_app', 'expected MODULE:APP'),
    ],
)
def test_an_app_that_cannot_be_loaded_exits_non_zero_with_a_message(started, target, message):
    process = started(target, '--port', str(free_port()))
    status = process.wait_exit(TIMEOUT)
    assert status != 0
    assert 'Error loading ASGI app' in process.stderr, process.stderr
    assert message in process.stderr, process.stderr
    assert 'Traceback' not in process.stderr, process.stderr


def test_a_port_in_use_exits_1_with_one_message_and_the_app_shut_down(started):
    port = free_port()
    first = started('native_app:app', '--port', str(port))
    wait_for_stderr(first, 'serving on http://127.0.0.1:%d' % port)
    second = started('native_app:app', '--port', str(port))
    started_at = time.monotonic()
    assert second.wait_exit(TIMEOUT) != 0
    assert time.monotonic() - started_at < TIMEOUT
    assert 'address already in use' in second.stderr.lower(), second.stderr
    assert 'Traceback' not in second.stderr, second.stderr
    assert 'pending' not in second.stderr, second.stderr
    # The application started, so it is shut down again.
    assert second.lines[-2:] == ['HOOK startup', 'HOOK shutdown'], second.lines
