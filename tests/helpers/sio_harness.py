"""Helpers for the python-socketio / Flask-SocketIO swap-in tests (issue 7, C-03, C-06..C-08).

The servers (tests/compat/sio_app.py) and every client run in child
processes: each calls ``engineio_fast.install()`` before importing socketio,
while the pytest process keeps the real python-engineio importable for the
other tests.  Clients read one JSON scenario and print JSON event lines:
``node`` is socket.io-client (tests/node/sio_client.js), ``sync`` and
``async`` are python-socketio's ``Client`` / ``AsyncClient``
(tests/compat/sio_client.py).  Every wait is bounded.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from typing import Any

import pytest
from children import NODE_DIR, TESTS_DIR, node_executable
from server_process import EchoServerProcess, _selected

COMPAT_DIR = TESTS_DIR / 'compat'
SIO_APP = COMPAT_DIR / 'sio_app.py'
PY_CLIENT = COMPAT_DIR / 'sio_client.py'
NODE_CLIENT = NODE_DIR / 'sio_client.js'

#: Server modes: python-socketio AsyncServer on uvicorn and on the native transport,
#: Server on werkzeug, Flask-SocketIO.
SERVER_MODES = _selected(['asgi', 'native', 'threading', 'flask'])
CLIENT_KINDS = ['node', 'sync', 'async']
#: The disconnect reasons each client reports (socket.io-client's, python-socketio's).
CLIENT_REASONS = {
    'node': {'server': 'io server disconnect', 'client': 'io client disconnect'},
    'sync': {'server': 'server disconnect', 'client': 'client disconnect'},
    'async': {'server': 'server disconnect', 'client': 'client disconnect'},
}
#: What the startup line of sio_app.py must say: the servers run on engineio_fast.
EIO_CLASS = {
    'asgi': 'engineio_fast.async_server.AsyncServer',
    'native': 'engineio_fast.async_server.AsyncServer',
    'threading': 'engineio_fast.server.Server',
    'flask': 'engineio_fast.server.Server',
}
PY_ENGINE_CLASS = {
    'sync': 'engineio_fast.client.Client',
    'async': 'engineio_fast.async_client.AsyncClient',
}


def binary(data: bytes) -> dict:
    """The scenario/event-line form of a binary value."""
    return {'$bin': base64.b64encode(data).decode()}


def tag() -> str:
    """A unique prefix for client names, so a test finds its own server events."""
    return uuid.uuid4().hex[:8]


def start_server(mode: str, **options: Any) -> EchoServerProcess:
    """Start sio_app.py in ``mode`` and check that it runs on engineio_fast."""
    server = EchoServerProcess(mode, script=SIO_APP, **options)
    try:
        startup = server.wait_for_event(event='startup', timeout=10)
        assert startup['eio_class'] == EIO_CLASS[mode], startup
        assert startup['engineio'] == 'engineio_fast' and startup['socket_class'] == (
            'engineio_fast.socket'
        ), startup
    except BaseException:
        server.stop()
        raise
    return server


def run_client(kind: str, scenario: dict, timeout: float = 30.0) -> list[dict]:
    """Run one scenario on client ``kind``; return its event lines (the last is ``done``)."""
    scenario = dict(scenario)
    scenario.setdefault('timeoutMs', int((timeout - 5) * 1000))
    argument = json.dumps(scenario)
    if kind == 'node':
        command = [node_executable('socket.io-client'), str(NODE_CLIENT), argument]
    else:
        command = [sys.executable, str(PY_CLIENT), kind, argument]
    try:
        proc = subprocess.run(
            command, cwd=NODE_DIR, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f'{kind} client killed after {timeout}s\n{exc.stdout}\n{exc.stderr}')
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{')]
    context = f'scenario: {argument}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}'
    assert proc.returncode == 0 and events and events[-1] == {'event': 'done'}, context
    if kind in PY_ENGINE_CLASS:
        assert events[0] == {'event': 'engine', 'class': PY_ENGINE_CLASS[kind]}, context
    return events


def of(events: list[dict], **match: Any) -> list[dict]:
    """The events whose fields equal ``match``, in order."""
    return [e for e in events if all(e.get(key) == value for key, value in match.items())]
