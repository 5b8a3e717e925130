"""Echo-server fixtures, a pytest plugin (``pytest_plugins`` in tests/conftest.py).

``start_server(**options)`` (module scope, one run per mode in ``SERVER_MODES``;
a package may widen it with ``serving``)
starts ``tests/helpers/echo_server.py <mode> --option=<json> ...`` in a child
process with ``sys.executable``, waits (bounded) for its ``PORT n`` line, and
returns the :class:`~server_process.EchoServerProcess`: ``port``, ``url``,
``events`` (the JSON event lines, collected by a background reader thread) and
``wait_for_event(timeout, **match)``.  The same options within a module give
the same process; every process is killed at teardown.  A module narrows the
modes by defining its own ``server_mode`` fixture.

The raw clients (raw_clients.py) bound every wait: ``http_request``
(``http.client``), ``PollingClient`` (a polling session: handshake, GET, POST)
and ``RawWebSocket`` (websocket-client, text/binary frames and the close code).
"""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from raw_clients import SUITE_OPTIONS
from server_process import SERVER_MODES, EchoServerProcess

StartServer = Callable[..., EchoServerProcess]


# -- server processes --------------------------------------------------------------


@pytest.fixture(scope='module', params=SERVER_MODES)
def server_mode(request: pytest.FixtureRequest) -> str:
    """The async mode of this module's servers."""
    return request.param


@pytest.fixture(scope='module')
def start_server(server_mode: str):
    """Return ``start(**options) -> EchoServerProcess`` for this module's mode.

    Options are ``Server`` keyword arguments (or echo-server hooks such as
    ``forbid_header``), passed as JSON values.  A failed start fails the test
    with the child's stderr.
    """
    yield from serving(server_mode)


def serving(server_mode: str):
    """The body of a ``start_server`` fixture of any scope: yields ``start``."""
    started: dict[str, EchoServerProcess] = {}

    def start(**options: Any) -> EchoServerProcess:
        key = json.dumps(options, sort_keys=True)
        if key not in started:
            try:
                started[key] = EchoServerProcess(server_mode, **options)
            except RuntimeError as exc:
                pytest.fail(str(exc), pytrace=False)
        process = started[key]
        if process.process.poll() is not None:
            pytest.fail(
                'echo server %s exited with %s; stderr:\n%s'
                % (key, process.process.returncode, process.stderr),
                pytrace=False,
            )
        return process

    yield start
    for process in started.values():
        process.stop()


@pytest.fixture(scope='module')
def suite_server(start_server: StartServer) -> EchoServerProcess:
    """The echo server with the protocol-suite settings."""
    return start_server(**SUITE_OPTIONS)
