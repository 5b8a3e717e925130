"""What every connection of one native server shares: the app, its Engine.IO
server, the limits, the open connections and the idle sweep."""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

from ..async_drivers.asgi import ASGIApp
from ..async_server import AsyncServer
from . import connection as conn_states
from .asgi import ASGIAdapter


@dataclass(frozen=True)
class Limits:
    """The HTTP limits of the native server (sizes in bytes, times in seconds)."""

    #: Longest request target (414 above it).
    max_request_line: int = 8192
    #: Most request headers (431 above it).
    max_header_count: int = 100
    #: Largest header block, names and values (431 above it).
    max_header_size: int = 16384
    #: From a request's first byte to the end of its headers (slowloris).
    header_timeout: float = 10.0
    #: An idle keep-alive connection is closed after this long.
    keep_alive_timeout: float = 5.0
    #: Body bytes buffered for the application before reading pauses.
    body_buffer: int = 1 << 20
    #: Bound on the graceful part of a shutdown.
    graceful_shutdown_timeout: float = 10.0


class ProxyHeaders:
    """``X-Forwarded-For``/``-Proto`` from trusted proxies (``--forwarded-allow-ips``)."""

    def __init__(self, allowed: str):
        entries = [entry.strip() for entry in allowed.split(',') if entry.strip()]
        self.trust_all = '*' in entries
        self.networks = []
        self.hosts = set()
        for entry in entries:
            if entry == '*':
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry)  # a unix socket path or a host name

    def trusts(self, host: str | None) -> bool:
        if self.trust_all or host in self.hosts:
            return True
        try:
            address = ipaddress.ip_address(host)  # type: ignore[arg-type]  # None: TypeError
        except (TypeError, ValueError):
            return False
        return any(address in network for network in self.networks)

    def apply(
        self, peer: tuple[Any, ...] | None, scheme: str, headers: list[tuple[bytes, bytes]]
    ) -> tuple[tuple[Any, ...] | None, str]:
        """``(peer, scheme)`` as a trusted proxy's headers say (the caller checked the trust)."""
        for name, value in headers:
            lower = name.lower()
            if lower == b'x-forwarded-proto':
                scheme = value.decode('latin-1').split(',')[0].strip().lower()
            elif lower == b'x-forwarded-for':
                hops = [hop.strip() for hop in value.decode('latin-1').split(',')]
                client = next((hop for hop in reversed(hops) if not self.trusts(hop)), hops[0])
                peer = (client, 0)
        return peer, scheme


def engineio_server_of(app: Any) -> AsyncServer | None:
    """The ``AsyncServer`` behind an ``ASGIApp``: engineio_fast's own, or the
    ``eio`` of python-socketio's server; None for any other application."""
    if not isinstance(app, ASGIApp):
        return None
    server = app.engineio_server
    if not isinstance(server, AsyncServer):
        server = getattr(server, 'eio', None)
    return server if isinstance(server, AsyncServer) else None


class Service:
    """One native server's shared state (see ``native/server.py``)."""

    def __init__(
        self,
        app: Any,
        loop: asyncio.AbstractEventLoop,
        limits: Limits,
        root_path: str = '',
        proxy: ProxyHeaders | None = None,
    ):
        self.app = app
        self.loop = loop
        self.limits = limits
        self.root_path = root_path.rstrip('/')
        self.proxy = proxy
        self.logger = logging.getLogger('engineio_fast.native')
        self.connections: set[conn_states.HttpConnection] = set()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.eio = engineio_server_of(app)
        self.engineio_path = (
            app.engineio_path.encode('latin-1')
            if self.eio is not None and app.engineio_path
            else None
        )
        if self.eio is not None:
            from . import driver

            # The server answers natively from now on: its websockets are ours.
            self.eio._async = driver.ASYNC
        self.asgi = ASGIAdapter(self)
        self._sweeper: asyncio.TimerHandle | None = None
        self.sweep_interval = max(
            0.05, min(1.0, limits.keep_alive_timeout / 4, limits.header_timeout / 4)
        )

    def is_engineio_target(self, target: bytes) -> bool:
        """Whether a request target goes to the Engine.IO server."""
        # H-05
        if self.eio is None:
            return False
        path = self.engineio_path
        if path is None:
            return True
        end = target.find(b'?')
        if end >= 0:
            target = target[:end]
        root = self.root_path
        if root and target.startswith(root.encode('latin-1')):
            target = target[len(root) :]
        if not target.endswith(b'/'):
            target += b'/'
        return target.startswith(path)

    def spawn(self, flow: Any, context: contextvars.Context | None = None) -> asyncio.Task[Any]:
        if context is None:
            task = self.loop.create_task(flow)
        else:  # Python 3.11+ (typeshed's AbstractEventLoop does not say so)
            task = self.loop.create_task(flow, context=context)  # type: ignore[call-arg]
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # -- idle sweep ----------------------------------------------------------------

    def start_sweeping(self) -> None:
        self._sweeper = self.loop.call_later(self.sweep_interval, self._sweep)

    def stop_sweeping(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

    def _sweep(self) -> None:
        """Close connections idle past the keep-alive timeout or slow to send headers."""
        interval = self.sweep_interval
        idle_ticks = self.limits.keep_alive_timeout / interval
        header_ticks = self.limits.header_timeout / interval
        for connection in list(self.connections):
            state = connection.state
            if state == conn_states.BUSY or state == conn_states.UPGRADED:
                continue
            connection.ticks += 1
            if state == conn_states.IDLE and connection.ticks > idle_ticks:
                connection.close()
            elif state == conn_states.HEADERS and connection.ticks > header_ticks:
                if connection.closing:  # the rest of a refused body did not come
                    connection.abort()
                else:
                    connection.refuse(408, 'Request headers not received in time')
        self._sweeper = self.loop.call_later(interval, self._sweep)
