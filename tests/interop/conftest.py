"""Fixtures for the interop tests: real clients talking to a real server over loopback.

``node_client`` runs the official JavaScript Engine.IO client
(``tests/node/eio_client.js``, engine.io-client pinned in
``tests/node/package.json``) for one scenario and returns its events::

    def test_js_client_echo(node_client, server_url):
        events = node_client({'url': server_url, 'transports': ['websocket'],
                              'send': ['hello'], 'expect': 1}, timeout=10)
        assert [e['data'] for e in events if e['event'] == 'message'] == ['hello']

The scenario keys are documented at the top of ``eio_client.js``.  Node and
the packages (``npm ci`` in ``tests/node``, done by ``tests/run.sh``) are
required: their absence fails the test with instructions instead of skipping,
so a CI leg without them cannot pass silently.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any, Callable

import pytest
from children import NODE_DIR, node_executable
from raw_clients import TRANSPORTS

EIO_CLIENT = NODE_DIR / 'eio_client.js'

#: Exit codes of eio_client.js.
EXIT_CLOSED, EXIT_FATAL, EXIT_TIMEOUT = 0, 1, 2

NodeClient = Callable[..., 'list[dict[str, Any]]']


def _parse_events(stdout: str, context: str) -> list[dict[str, Any]]:
    events = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except ValueError:
            pytest.fail(f'eio_client.js printed a non-JSON line {line!r}\n{context}', pytrace=False)
    return events


@pytest.fixture
def node_client() -> NodeClient:
    """Return ``run(scenario, timeout=30.0, allow_timeout=False) -> list of event dicts``.

    ``timeout`` bounds the node process (seconds); the scenario's own
    ``timeoutMs`` defaults to ``timeout`` minus one second so the script
    reports ``{"event": "timeout"}`` before it is killed.  A script timeout
    (exit code 2) fails the test unless ``allow_timeout`` is true, in which
    case the events, ending in the ``timeout`` event, are returned.
    """
    node = node_executable()

    def run(
        scenario: dict[str, Any], timeout: float = 30.0, allow_timeout: bool = False
    ) -> list[dict[str, Any]]:
        scenario = dict(scenario)
        scenario.setdefault('timeoutMs', max(int((timeout - 1.0) * 1000), 500))
        argument = json.dumps(scenario)
        try:
            proc = subprocess.run(
                [node, str(EIO_CLIENT), argument],
                cwd=NODE_DIR,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout
            err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr
            pytest.fail(
                f'eio_client.js was killed after {timeout}s\nscenario: {argument}\n'
                f'stdout:\n{out or ""}\nstderr:\n{err or ""}',
                pytrace=False,
            )
        context = (
            f'scenario: {argument}\nexit code: {proc.returncode}\n'
            f'stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}'
        )
        events = _parse_events(proc.stdout, context)
        if proc.returncode == EXIT_TIMEOUT and allow_timeout:
            return events
        if proc.returncode == EXIT_TIMEOUT:
            pytest.fail(
                f'eio_client.js hit its deadline ({scenario["timeoutMs"]} ms)\n{context}',
                pytrace=False,
            )
        if proc.returncode != EXIT_CLOSED:
            pytest.fail(f'eio_client.js failed\n{context}', pytrace=False)
        return events

    return run


# -- python-engineio's clients (test_python_client.py, test_python_async_client.py) ----


@pytest.fixture(scope='module')
def server(start_server):
    """The echo server with the suite heartbeat (300 ms / 200 ms), default ``async_handlers``."""
    return start_server(ping_interval=0.3, ping_timeout=0.2)


@pytest.fixture(scope='module')
def quiet_server(start_server):
    """The echo server with a 5 s heartbeat: no pong is in flight when the client disconnects."""
    return start_server(ping_interval=5, ping_timeout=5)


@pytest.fixture(params=list(TRANSPORTS))
def transport(request) -> str:
    """A client ``transports`` setting by name: polling, websocket, upgrade."""
    return request.param
