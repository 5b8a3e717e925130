"""Fixtures for the client tests: real servers on loopback ports, both client classes.

``client_harness.SERVERS`` lists the servers every interop test runs against: the Python
echo server in each listed async mode (``tests/helpers/echo_server.py``) and the
Node.js reference server (``tests/node/eio_server.js``).  Extending the list
(``'asgi'``, ``'aiohttp'``...) runs the same tests on more servers.  Shared
servers start once per module; ``driver`` yields a fresh client of each kind
(``Client`` and ``AsyncClient``) and disconnects it at teardown.  ``scripted``
starts :class:`~client_harness.ScriptedServer` raw HTTP servers that answer
what a test scripts.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
from client_harness import CLIENT_KINDS, DRIVERS, SERVERS, ScriptedServer, SyncDriver, start_server
from server_process import EchoServerProcess

#: Settings of the shared servers: quick pings (every test then also checks
#: that pings are answered), and room for 1 MB messages, base64 included.
SHARED_OPTIONS = {'ping_interval': 0.25, 'ping_timeout': 1.0, 'max_http_buffer_size': 3_000_000}


@pytest.fixture(scope='module', params=SERVERS)
def server_kind(request: pytest.FixtureRequest) -> str:
    """The server this module's shared server runs on."""
    return request.param


@pytest.fixture(scope='module')
def server(server_kind: str) -> Iterator[EchoServerProcess]:
    """An echo server with ``SHARED_OPTIONS``, one per module and server kind."""
    process = start_server(server_kind, **SHARED_OPTIONS)
    yield process
    process.stop()


@pytest.fixture(params=CLIENT_KINDS)
def client_kind(request: pytest.FixtureRequest) -> str:
    """``'sync'`` (Client) or ``'async'`` (AsyncClient)."""
    return request.param


@pytest.fixture
def make_driver(client_kind: str) -> Iterator[Callable[..., SyncDriver]]:
    """Return ``make(**client_options) -> driver`` of this test's client kind."""
    drivers: list[SyncDriver] = []

    def make(**options: Any) -> SyncDriver:
        driver = DRIVERS[client_kind](**options)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.close()


@pytest.fixture
def driver(make_driver: Callable[..., SyncDriver]) -> SyncDriver:
    """A fresh client of this test's kind with default options."""
    return make_driver()


@pytest.fixture
def own_server(request: pytest.FixtureRequest) -> Iterator[Callable[..., EchoServerProcess]]:
    """Return ``start(kind, **options)``: a server for this test alone, killed at teardown."""
    started: list[EchoServerProcess] = []

    def start(kind: str, **options: Any) -> EchoServerProcess:
        process = start_server(kind, **options)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
        process.process.wait(10)


@pytest.fixture
def scripted():
    """Return ``start(script) -> ScriptedServer``; servers stop at teardown."""
    servers = []

    def start(script):
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
