"""The asyncio Engine.IO server: aiohttp, ASGI, tornado and sanic applications."""

from __future__ import annotations

import asyncio
import contextvars
from asyncio.tasks import _enter_task, _leave_task
from typing import Any, Awaitable, Callable, Coroutine, Iterable

from . import async_socket, base_server, packet
from ._constants import MESSAGE
from ._coro import settle, step
from ._timers import AsyncTimerService
from .exceptions import SocketIsClosedError


class _AsyncSessionContext:
    """``async with server.session(sid) as session:`` — saved back on exit."""

    def __init__(self, server: AsyncServer, sid: str):
        self.server = server
        self.sid = sid
        self.session: dict[str, Any] | None = None

    async def __aenter__(self) -> dict[str, Any]:
        self.session = await self.server.get_session(self.sid)
        return self.session

    async def __aexit__(self, *exc_info: object) -> None:
        # set by __aenter__
        await self.server.save_session(self.sid, self.session)  # type: ignore[arg-type]


class AsyncServer(base_server.BaseServer):
    """An Engine.IO server for asyncio frameworks.

    Event handlers may be plain functions or coroutine functions; a plain
    one runs on the event loop, so it must not block.

    :param async_mode: ``'aiohttp'``, ``'sanic'``, ``'tornado'`` or
                       ``'asgi'``; by default the first of them whose
                       framework is installed, in that order (``'asgi'``
                       needs none).  Use ``'asgi'`` for ASGI servers
                       (uvicorn, hypercorn, daphne, granian) and for
                       :func:`engineio_fast.serve`.
    :param ping_interval: seconds between pings, or ``(interval, grace)``
                          where the grace period is only advertised
                          (default 25).
    :param ping_timeout: seconds to wait for a pong before closing (20).
    :param max_http_buffer_size: largest POST body or websocket message, in
                                 bytes (1,000,000).
    :param allow_upgrades: offer the polling to websocket upgrade (True).
    :param http_compression: compress polling responses (True).
    :param compression_threshold: smallest response to compress, in bytes
                                  (1024).
    :param http_compression_level: zlib level for compressed responses (1).
    :param cookie: name of the session cookie, or a dict of its attributes.
    :param cors_allowed_origins: origins allowed to connect: None (same
                                 origin), ``'*'``, a string, a list or a
                                 callable; ``[]`` disables CORS handling.
    :param cors_credentials: send ``Access-Control-Allow-Credentials``.
    :param logger: True for INFO logs, False for errors only, or a Logger.
    :param json: a module or class with ``dumps`` and ``loads`` for packet data.
    :param async_handlers: True (the default): a ``message`` handler runs
                           as its session's delivery task, apart from the
                           reader that received the message; it starts at
                           once, and when it awaits, the reader goes on
                           reading.  A session's messages are handled one at
                           a time, in arrival order, so a slow handler holds
                           back that session's later messages but not its
                           reading (pongs, upgrade) nor other sessions; a
                           close waits for the messages received before it.
                           python-engineio instead starts a task per
                           message, so its handlers run concurrently.
                           False: the reader that received the message
                           awaits the handler before reading more from that
                           client.
    :param monitor_clients: close sessions whose pongs stop coming.
    :param transports: allowed transports, ``'polling'`` and/or
                       ``'websocket'``.
    :param allow_request: ``f(environ)``, a function or coroutine function,
                          run before a session exists; False or an error
                          value answers 403.
    :param upgrade_timeout: seconds allowed for a websocket upgrade (10).
    :param error_format: ``'legacy'`` (JSON string bodies) or ``'json'``
                         (``{"code", "message"}`` like the Node.js server).
    :param cookie_defaults: ``'legacy'`` or ``'js'`` cookie attributes.
    :param initial_packet: a message queued right after the OPEN packet.
    :param cors_max_age: ``Access-Control-Max-Age`` for preflight requests.
    :param max_queue_size: most packets waiting to be sent to one client;
                           None (the default) for no limit.  ``ValueError``
                           if below 1.
    :param queue_overflow: what a send to a full queue does: ``'block'``
                           (wait for room, the default), ``'drop_oldest'``
                           (drop the oldest queued message; its callback
                           gets ``QueueFullError``) or ``'disconnect'``
                           (close the session).
    :param worker_id: the name of this worker process behind a load balancer
                      (``A-Z a-z 0-9 _ -``); session ids then start with
                      ``<worker_id>.`` so the balancer can route on them, and a
                      request for another worker's session is logged as
                      misrouted (see docs/scaling.md).
    :param websocket_compression: permessage-deflate (RFC 7692) on
                                  websockets.  None (the default) or False:
                                  not offered, as on the Node.js server.
                                  True: accepted when the client offers it.
                                  A dict: as True, with ``threshold``
                                  (smallest message compressed, 1024),
                                  ``level`` (zlib, 1) and
                                  ``server_max_window_bits`` (9-15).  A
                                  driver logs once, and ignores, the parts
                                  of a setting other than None it cannot
                                  apply:

        =============================  =========  =========  =====  ===========
        driver                         negotiate  threshold  level  window bits
        =============================  =========  =========  =====  ===========
        aiohttp                        yes        no         no     no
        tornado                        yes        no         yes    no
        asgi under ``serve()``         yes        yes        yes    yes
        asgi (other servers), sanic    no         no         no     no
        =============================  =========  =========  =====  ===========

        Under an ASGI server or sanic, the web server answers the websocket
        handshake, so it decides, whatever this option says (the ASGI spec
        gives the application no say): uvicorn negotiates it unless run with
        ``--ws-per-message-deflate false``; sanic never does.
    :param kwargs: other keyword arguments are accepted and ignored, as by
                   python-engineio (reserved for future options).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Strong references to running tasks: the loop keeps only weak ones.
        self._tasks: set[Any] = set()
        #: The long polls' timeouts, on one loop timer.
        self._expiries = async_socket.Expiries()
        super().__init__(*args, **kwargs)

    def is_asyncio_based(self) -> bool:
        """Whether this server runs on asyncio: True for ``AsyncServer``."""
        return True

    def async_modes(self) -> list[str]:
        """The ``async_mode`` names this class accepts, in the order tried when none is given."""
        return ['aiohttp', 'sanic', 'tornado', 'asgi']

    def attach(self, app: Any, engineio_path: str = 'engine.io') -> None:
        """Route the Engine.IO endpoint of an aiohttp or sanic application here.

        :param app: the application.
        :param engineio_path: the URL path of the endpoint.
        """
        self._async['create_route'](app, self, '/%s/' % engineio_path.strip('/'))

    # -- entry point -------------------------------------------------------------

    async def handle_request(self, *args: Any, **kwargs: Any) -> Any:
        """Handle an Engine.IO request; takes the framework's request arguments.

        aiohttp and sanic pass ``(request)``, ASGI ``(scope, receive, send)``,
        tornado ``(handler)``.  Returns the framework's response.
        """
        #
        environ = await settle(self._async['translate_request'](*args, **kwargs))
        if not environ:  # the client left before its request arrived
            return None
        response = await self._handle_http(environ)
        if not isinstance(response, dict):
            return response
        return await settle(
            self._async['make_response'](
                response['status'], response['headers'], response['response'], environ
            )
        )

    def _bad_origin_message(self, origin: str) -> str:
        return origin + ' is not an accepted origin.'

    # -- scheduling --------------------------------------------------------------

    def _make_timers(self) -> AsyncTimerService:
        return AsyncTimerService(self._spawn_flow, self.logger)

    def _new_socket(self, sid: str) -> async_socket.AsyncSocket:
        return async_socket.AsyncSocket(self, sid)

    def _spawn_flow(self, flow: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(flow)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _join_flow(self, task: Any) -> None:
        # Its end, as a thread's join: a writer cancelled by an abort (P-31)
        # must not cancel the request that waits for it.
        await asyncio.wait((task,))

    def _start_delivery(self, session: Any, flow: Coroutine[Any, Any, Any]) -> None:
        """Start a message delivery eagerly, on the caller's stack but as the session's
        courier task (in its own context, as in a task): a handler's
        ``asyncio.timeout()`` cancels the courier, which finishes the delivery if it
        suspends, not the reader that received the message."""
        loop = asyncio.get_running_loop()
        courier = session._courier
        if courier is None:
            courier = session._courier = self._spawn_flow(session._run_courier())
        caller = asyncio.current_task(loop)
        if caller is not None:
            _leave_task(loop, caller)
        _enter_task(loop, courier)
        try:
            step(flow, session._hand_to_courier, context=contextvars.copy_context())
        except Exception:  # as a task's would, the error stays out of the reader
            self.logger.exception('message delivery failed')
        finally:
            _leave_task(loop, courier)
            if caller is not None:
                _enter_task(loop, caller)

    # -- public API --------------------------------------------------------------

    async def send(self, sid: str, data: Any, callback: Callable[..., Any] | None = None) -> None:
        """Send a message to a client.

        :param sid: the session id of the recipient.
        :param data: str, bytes, bytearray, list or dict (sent as JSON).
        :param callback: ``callback(error)`` (plain or coroutine function), run
                         once the message was handed to the transport
                         (``error`` None) or could not be.

        A send to an unknown or closed session is logged as a warning and
        dropped; its callback gets :class:`~engineio_fast.exceptions.SocketIsClosedError`.
        With ``max_queue_size`` set, a full queue blocks the send, drops the
        oldest message (its callback gets
        :class:`~engineio_fast.exceptions.QueueFullError`) or closes the
        session, as ``queue_overflow`` says.
        """
        # F-04
        sending = self._send(sid, packet.Packet(MESSAGE, data), callback)
        if sending is not None:
            await sending

    async def send_packet(
        self, sid: str, pkt: packet.Packet, callback: Callable[..., Any] | None = None
    ) -> None:
        """Send a raw packet to a client; the same packet may go to many clients.

        :param sid: the session id of the recipient.
        :param pkt: the :class:`~engineio_fast.packet.Packet` to send.
        :param callback: as for :meth:`send`.
        """
        sending = self._send(sid, pkt, callback)
        if sending is not None:
            await sending

    def _send(self, sid: str, pkt: packet.Packet, callback: Any) -> Awaitable[None] | None:
        """Send ``pkt`` at once where nothing has to wait; else the coroutine that does."""
        session = self._session_for_send(sid, callback)
        if session is None:
            return None
        if type(session) is async_socket.AsyncSocket and session._send_now(pkt, callback):
            return None
        return self._send_awaiting(sid, session, pkt, callback)

    async def _send_awaiting(
        self, sid: str, session: Any, pkt: packet.Packet, callback: Any
    ) -> None:
        try:
            await (session.send(pkt) if callback is None else session.send(pkt, callback))
        except SocketIsClosedError:
            self.logger.warning('Cannot send to sid %s', sid)

    async def send_to_many(self, sids: Iterable[str], data: Any) -> None:
        """Send one message to many clients, encoded once.

        :param sids: the session ids of the recipients; unknown ones are skipped.
        :param data: str, bytes, bytearray, list or dict (sent as JSON).
        """
        # F-03
        await self.send_packet_to_many(sids, packet.Packet(MESSAGE, data))

    async def send_packet_to_many(self, sids: Iterable[str], pkt: packet.Packet) -> None:
        """Send one packet to many clients, encoded once per form.

        :param sids: the session ids of the recipients; unknown ones are skipped.
        :param pkt: the :class:`~engineio_fast.packet.Packet` to send.
        """
        # F-03
        for session in self._sessions_for_broadcast(sids, pkt):
            if type(session) is async_socket.AsyncSocket and session._send_now(pkt, None):
                continue
            try:
                await session.send(pkt)
            except SocketIsClosedError:
                pass

    async def get_session(self, sid: str) -> dict[str, Any]:
        """Return the user session dict of a client (KeyError if unknown).

        :param sid: the session id of the client.
        """
        session: dict[str, Any] = self._get_socket(sid).session
        return session

    async def save_session(self, sid: str, session: dict[str, Any]) -> None:
        """Store the user session dict of a client.

        :param sid: the session id of the client.
        :param session: the session dictionary.
        """
        self._get_socket(sid).session = session

    def session(self, sid: str) -> _AsyncSessionContext:
        """The user session of a client as an async context manager that saves on exit.

        :param sid: the session id of the client.
        """
        return _AsyncSessionContext(self, sid)

    async def disconnect(self, sid: str | None = None) -> None:
        """Close one client's session, or all of them; no clients is not an error.

        :param sid: the session to close; all sessions when omitted.
        """
        # S-14
        for session in self._sessions_to_close(sid):
            await session.close(wait=False, reason=self.reason.SERVER_DISCONNECT)

    async def shutdown(self) -> None:
        """Stop the heartbeat timers; sessions stay open."""
        # S-17
        self.logger.info('Engine.IO is shutting down')
        self._timers.stop()

    def start_background_task(
        self, target: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> asyncio.Task[Any]:
        """Run the coroutine function ``target(*args, **kwargs)`` as an asyncio task.

        :param target: the coroutine function to run; the remaining positional
                       and keyword arguments are passed to it.
        :return: the ``asyncio.Task``.
        """
        return self._spawn_flow(target(*args, **kwargs))

    async def sleep(self, seconds: float = 0) -> None:
        """Sleep without blocking the event loop.

        :param seconds: how long to sleep.
        """
        await asyncio.sleep(seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> asyncio.Queue[Any]:
        """Create an ``asyncio.Queue``."""
        return asyncio.Queue(*args, **kwargs)

    def get_queue_empty_exception(self) -> type[asyncio.QueueEmpty]:
        """Return ``asyncio.QueueEmpty``."""
        return asyncio.QueueEmpty

    def create_event(self, *args: Any, **kwargs: Any) -> asyncio.Event:
        """Create an ``asyncio.Event``."""
        return asyncio.Event(*args, **kwargs)

    # -- events ------------------------------------------------------------------

    async def _trigger_event(self, event: str, *args: Any, run_async: bool = False) -> Any:
        """Run an event handler, sync or async; its errors are logged."""
        # S-33, S-34
        flow = self._call_handler(event, args)
        if run_async:
            return self._spawn_flow(flow)
        return await flow
