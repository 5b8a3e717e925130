"""Every app in examples/ started as examples/README.md says, and one message exchanged with it.

Each server example runs as a real process in its own folder, on a free
loopback port given the way its README line takes it (``PORT``/``HOST`` in
the environment, or the server's ``--port``/``-b`` option).  A real client
then connects: python-engineio's ``engineio.Client`` for the Engine.IO
servers, python-socketio's ``socketio.Client`` for the Socket.IO ones; it
sends one message, gets its echo and disconnects, and the server's own
handlers must have printed the disconnect.  The two client examples run
against the threading example server.  Every process is then stopped with
SIGTERM (SIGKILL after a bounded wait) and its output must hold no traceback.
"""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import engineio
import pytest
import socketio
from children import ChildProcess, python_env
from ports import LOOPBACK, free_port

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / 'examples'
BIN = Path(sys.executable).parent
#: Bound on a server's start (sanic and gunicorn fork workers) and on each client step.
START_TIMEOUT = 30.0
TIMEOUT = 10.0


@dataclass(frozen=True)
class Example:
    """A server example: its folder, its command (``{port}`` filled in) and its protocol."""

    id: str
    folder: str
    command: tuple[str, ...]
    socketio: bool = False

    def argv(self, port: int) -> list[str]:
        """The command as a user types it, with this interpreter's virtualenv binaries."""
        first, *rest = (arg.format(port=port) for arg in self.command)
        program = sys.executable if first == 'python' else str(BIN / first)
        return [program, *rest]


ADDRESS = ('--host', LOOPBACK, '--port', '{port}')
SERVERS = [
    Example('werkzeug', 'server/wsgi', ('python', 'app.py')),
    Example(
        'gunicorn',
        'server/wsgi',
        ('gunicorn', '-w', '1', '--threads', '100', '-b', LOOPBACK + ':{port}', 'app:app'),
    ),
    Example('eventlet', 'server/wsgi', ('python', 'eventlet_app.py')),
    Example('gevent', 'server/wsgi', ('python', 'gevent_app.py')),
    Example('uvicorn', 'server/asgi', ('uvicorn', 'app:app', *ADDRESS)),
    Example(
        'native', 'server/asgi', ('python', '-m', 'engineio_fast', 'serve', 'app:app', *ADDRESS)
    ),
    Example('aiohttp', 'server/aiohttp', ('python', 'app.py')),
    Example('tornado', 'server/tornado', ('python', 'app.py')),
    Example('sanic', 'server/sanic', ('sanic', 'app:app', '--single-process', *ADDRESS)),
    Example('socketio-uvicorn', 'socketio', ('uvicorn', 'asgi_app:app', *ADDRESS), socketio=True),
    Example(
        'socketio-native',
        'socketio',
        ('python', '-m', 'engineio_fast', 'serve', 'asgi_app:app', *ADDRESS),
        socketio=True,
    ),
    Example('flask-socketio', 'socketio', ('python', 'flask_app.py'), socketio=True),
    Example(
        'flask-socketio-gunicorn',
        'socketio',
        ('gunicorn', '-w', '1', '--threads', '100', '-b', LOOPBACK + ':{port}', 'flask_app:app'),
        socketio=True,
    ),
]


def wait_listening(server: ChildProcess, port: int) -> None:
    """Return once ``port`` accepts connections; AssertionError if the server ends or is late."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    status = server.process.poll()
    server.stop()
    raise AssertionError(
        '%s: not listening on %d (exit status %r); stdout %r; stderr:\n%s'
        % (server.name, port, status, server.lines[-20:], server.stderr[-4000:])
    )


def stop_cleanly(server: ChildProcess) -> None:
    """SIGTERM (SIGKILL after a bounded wait); the server must have logged no traceback."""
    server.stop(timeout=TIMEOUT)
    output = '\n'.join(server.lines) + server.stderr
    assert 'Traceback' not in output, '%s logged a traceback:\n%s' % (server.name, output)


def start(example: Example) -> tuple[ChildProcess, str]:
    """Start ``example`` as its README line says, on a free port; the server and its URL."""
    port = free_port()
    server = ChildProcess(
        example.argv(port),
        cwd=EXAMPLES_DIR / example.folder,
        env=python_env(HOST=LOOPBACK, PORT=str(port)),
        name=example.id,
    )
    wait_listening(server, port)
    return server, 'http://%s:%d' % (LOOPBACK, port)


def engineio_echo(url: str) -> None:
    """python-engineio's client: one message there and its echo back."""
    assert engineio.Client.__module__ == 'engineio.client', 'engineio is not python-engineio'
    client = engineio.Client(handle_sigint=False, request_timeout=TIMEOUT)
    received: queue.Queue = queue.Queue()
    client.on('message', received.put)
    client.connect(url)
    http = client.http
    try:
        client.send('hello from the test')
        assert received.get(timeout=TIMEOUT) == 'hello from the test'
    finally:
        client.disconnect()
        # disconnect() drops its requests session without closing it: close it, so no
        # idle keep-alive connection is still open when the server is stopped.
        http.close()


def socketio_echo(url: str) -> None:
    """python-socketio's client: one ``echo`` event there and back."""
    client = socketio.Client(handle_sigint=False, request_timeout=TIMEOUT)
    received: queue.Queue = queue.Queue()
    client.on('echo', received.put)
    client.connect(url, wait_timeout=TIMEOUT)
    try:
        client.emit('echo', {'text': 'hello from the test', 'n': 1})
        assert received.get(timeout=TIMEOUT) == {'text': 'hello from the test', 'n': 1}
    finally:
        client.disconnect()


@pytest.mark.parametrize('example', SERVERS, ids=[example.id for example in SERVERS])
def test_example_server_echoes_a_real_client(example: Example) -> None:
    server, url = start(example)
    try:
        (socketio_echo if example.socketio else engineio_echo)(url)
        # The example's own handlers ran: it printed the session's end.
        server.wait_for_line(lambda line: line.startswith('disconnect '), timeout=TIMEOUT)
        if example.socketio:
            server.wait_for_line(lambda line: line.endswith('engineio_fast installed: True'))
    finally:
        stop_cleanly(server)


@pytest.fixture(scope='module')
def echo_server_url() -> Iterator[str]:
    """The threading example server (``python app.py``), for the client examples."""
    server, url = start(SERVERS[0])
    try:
        yield url
    finally:
        stop_cleanly(server)


@pytest.mark.parametrize('script', ['client.py', 'async_client.py'])
def test_example_client_prints_the_echo(script: str, echo_server_url: str) -> None:
    result = subprocess.run(
        [sys.executable, script, echo_server_url],
        cwd=EXAMPLES_DIR / 'client',
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert 'echo: hello' in result.stdout.splitlines(), result.stdout
    assert 'Traceback' not in result.stderr, result.stderr
