"""Running the native server: listening, lifespan, signals and a bounded shutdown."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import ssl as ssl_module
from typing import Any

from .connection import HttpConnection
from .service import Limits, ProxyHeaders, Service

logger = logging.getLogger('engineio_fast.native')

#: Seconds a lifespan phase may take.
LIFESPAN_TIMEOUT = 60.0


def ssl_context(
    certfile: str, keyfile: str | None = None, password: str | None = None
) -> ssl_module.SSLContext:
    """A server TLS context for a certificate chain file and its key."""
    context = ssl_module.create_default_context(ssl_module.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile, keyfile, password)
    return context


async def serve_async(
    app: Any,
    host: str = '127.0.0.1',
    port: int = 8000,
    *,
    uds: str | None = None,
    sock: socket.socket | None = None,
    ssl: ssl_module.SSLContext | None = None,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    ssl_keyfile_password: str | None = None,
    root_path: str = '',
    proxy_headers: bool = True,
    forwarded_allow_ips: str | None = None,
    backlog: int = 2048,
    lifespan: str = 'auto',
    limits: Limits | None = None,
    started: Any = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Serve ``app`` until SIGINT or SIGTERM (or ``stop`` is set); the exit status.

    ``app`` is an ``engineio_fast.ASGIApp`` (python-socketio's ``ASGIApp``
    too): its Engine.IO server is answered natively and everything else goes
    to the application as ASGI.  Any other ASGI application is served as
    ASGI.  ``started(server)`` is called once listening.  Returns 0, 3 when
    the application's startup failed, 1 when the server cannot listen.
    """
    loop = asyncio.get_running_loop()
    limits = limits or Limits()
    if ssl is None and ssl_certfile:
        ssl = ssl_context(ssl_certfile, ssl_keyfile, ssl_keyfile_password)
    proxy = None
    if proxy_headers:
        allowed = forwarded_allow_ips or os.environ.get('FORWARDED_ALLOW_IPS', '127.0.0.1')
        proxy = ProxyHeaders(allowed)
    service = Service(app, loop, limits, root_path=root_path, proxy=proxy)
    if lifespan != 'off' and not await service.asgi.lifespan('startup', LIFESPAN_TIMEOUT, lifespan):
        logger.error('Application startup failed. Exiting.')
        return 3

    def factory() -> HttpConnection:
        return HttpConnection(service)

    try:
        if sock is not None:
            server = await loop.create_server(factory, sock=sock, ssl=ssl, backlog=backlog)
        elif uds:
            server = await loop.create_unix_server(factory, path=uds, ssl=ssl, backlog=backlog)
        else:
            server = await loop.create_server(
                factory, host, port, ssl=ssl, backlog=backlog, reuse_address=True
            )
    except OSError as exc:  # e.g. the address is in use: said once, no traceback
        logger.error('%s', exc)
        if lifespan != 'off':
            await service.asgi.lifespan('shutdown', LIFESPAN_TIMEOUT)
        return 1
    for listening in server.sockets:
        logger.info('engineio_fast serving on %s', _describe(listening, ssl is not None))
    service.start_sweeping()
    stop = stop or asyncio.Event()
    signals = _handle_signals(loop, stop)
    if started is not None:
        started(server)
    try:
        await stop.wait()
    finally:
        for number in signals:
            loop.remove_signal_handler(number)
        await _shut_down(service, server, limits.graceful_shutdown_timeout)
    if lifespan != 'off' and not await service.asgi.lifespan('shutdown', LIFESPAN_TIMEOUT):
        logger.error('Application shutdown failed.')
    return 0


def _handle_signals(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> list[signal.Signals]:
    """SIGINT and SIGTERM set ``stop`` (where the loop can take signals)."""
    installed = []
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            continue
        installed.append(number)
    return installed


async def _shut_down(service: Service, server: Any, timeout: float) -> None:
    """Stop accepting, close websockets (1001) and long polls, let requests finish."""
    server.close()
    service.stop_sweeping()
    for connection in list(service.connections):
        connection.shutdown()
    if service.eio is not None:
        await service.eio.shutdown()
    deadline = service.loop.time() + timeout
    while service.connections and service.loop.time() < deadline:
        await asyncio.sleep(0.02)
    for connection in list(service.connections):
        connection.abort()
    tasks = [task for task in service.tasks if not task.done()]
    if tasks:
        await asyncio.wait(tasks, timeout=1.0)
    for task in tasks:
        task.cancel()
    await server.wait_closed()


def _describe(listening: socket.socket, tls: bool) -> str:
    address = listening.getsockname()
    if isinstance(address, tuple):
        host = '[%s]' % address[0] if ':' in address[0] else address[0]
        return '%s://%s:%d' % ('https' if tls else 'http', host, address[1])
    return 'unix:%s' % address


def new_event_loop(kind: str = 'auto') -> asyncio.AbstractEventLoop:
    """uvloop's loop when installed (``kind`` ``'auto'`` or ``'uvloop'``), else asyncio's."""
    if kind in ('auto', 'uvloop'):
        try:
            import uvloop
        except ImportError:
            if kind == 'uvloop':
                raise
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def serve(
    app: Any, host: str = '127.0.0.1', port: int = 8000, *, loop: str = 'auto', **options: Any
) -> int:
    """Serve ``app`` with engineio_fast's own HTTP/1.1 and WebSocket transport.

    Blocks until SIGINT or SIGTERM.  The Engine.IO server of an
    ``engineio_fast.ASGIApp`` (or python-socketio's ``ASGIApp``) is answered
    natively; every other request goes to the application as ASGI.  Needs
    httptools.

    :param app: the ASGI application to serve.
    :param host: the address to listen on.
    :param port: the TCP port to listen on.
    :param loop: ``'auto'`` (uvloop when installed, else asyncio's loop),
                 ``'uvloop'`` (``ImportError`` without it) or ``'asyncio'``.
    :param options: keyword options of ``serve_async``: ``uds``, ``sock``,
                    ``ssl`` (an ``SSLContext``), ``ssl_certfile``,
                    ``ssl_keyfile``, ``ssl_keyfile_password``, ``root_path``,
                    ``proxy_headers`` (default True), ``forwarded_allow_ips``,
                    ``backlog`` (default 2048), ``lifespan`` (``'auto'``,
                    ``'on'`` or ``'off'``), ``limits`` (a
                    :class:`~engineio_fast.native.Limits`), ``started`` (called
                    with the listening ``asyncio.Server``) and ``stop`` (an
                    ``asyncio.Event`` that ends serving when set).
    :return: the exit status: 0, 1 when the address cannot be listened on,
             3 when the application's startup failed.
    """
    event_loop = new_event_loop(loop)
    asyncio.set_event_loop(event_loop)
    try:
        return event_loop.run_until_complete(serve_async(app, host, port, **options))
    finally:
        try:
            _cancel_remaining_tasks(event_loop)
            event_loop.run_until_complete(event_loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            event_loop.close()


def _cancel_remaining_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks still pending (a session's courier, an application's
    background task) and let them end, as ``asyncio.run`` does."""
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
