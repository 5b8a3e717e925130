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

    Takes the same parameters as :class:`~engineio_fast.Server`, except
    ``async_mode``: ``'aiohttp'``, ``'sanic'``, ``'tornado'`` or ``'asgi'``;
    by default the first one whose framework is installed, in that order.
    Event handlers may be plain functions or coroutines.
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
