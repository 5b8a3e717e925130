"""Asyncio socket: one Engine.IO session served by tasks on the event loop."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from inspect import iscoroutine
from typing import Any

from . import base_socket, packet
from ._coro import Suspended, step
from .base_socket import FOREVER
from .exceptions import EncodeError, SocketIsClosedError


async def _awaiting(awaitable) -> None:
    """A coroutine awaiting ``awaitable`` (a future), so ``step`` can run it."""
    await awaitable


class _Wakeup:
    """The session's event on asyncio: ``set``/``clear`` like ``asyncio.Event``, and a
    bounded ``wait`` on a bare future, with no task per wait as ``wait_for`` makes."""

    __slots__ = ('_flag', '_waiters', '_expiries')

    def __init__(self, expiries: Expiries) -> None:
        self._flag = False
        self._waiters: list = []
        self._expiries = expiries

    def set(self) -> None:
        self._flag = True
        waiters = self._waiters
        if waiters:
            self._waiters = []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def clear(self) -> None:
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    async def wait(self, timeout: float) -> None:
        """Until ``set`` or ``timeout`` seconds."""
        if self._flag:
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        timed = timeout != FOREVER
        expiry = self._expiries.add(loop, waiter, timeout) if timed else None
        try:
            await waiter
        finally:
            if expiry is not None:
                expiry.cancel()
            elif timed:
                self._expiries.discard(waiter)
            if waiter in self._waiters:
                self._waiters.remove(waiter)


class Expiries:
    """The timeouts of many waits on one loop timer (a timer costs microseconds).

    While each new wait ends no sooner than the last one still waiting, as
    long polls sharing the server's timeout do, the waits expire in the order
    they began, and only the first of them holds a timer.  A wait that would
    end sooner gets a timer of its own.
    """

    __slots__ = ('loop', 'waits', 'timer', 'due')

    def __init__(self) -> None:
        self.loop: Any = None
        self.waits: OrderedDict = OrderedDict()
        self.timer: Any = None
        self.due = 0.0  # when the timer fires (uvloop's handle of a past deadline cannot tell)

    def add(self, loop: Any, waiter: asyncio.Future, timeout: float) -> Any:
        """Release ``waiter`` in ``timeout`` seconds; a timer handle to cancel, or None
        (then ``discard`` it)."""
        deadline = loop.time() + timeout
        if loop is not self.loop:  # a server used on another loop: start afresh
            self.loop = loop
            self.waits = OrderedDict()
            self.timer = None
        waits = self.waits
        if waits and deadline < waits[next(reversed(waits))]:
            return loop.call_at(deadline, _release, waiter)
        waits[waiter] = deadline
        timer = self.timer
        if timer is None or deadline < self.due:
            # (the timer of waits that all ended early may be due later)
            if timer is not None:
                timer.cancel()
            self._arm(deadline)
        return None

    def _arm(self, deadline: float) -> None:
        self.timer = self.loop.call_at(deadline, self._expire)
        self.due = deadline

    def discard(self, waiter: asyncio.Future) -> None:
        self.waits.pop(waiter, None)

    def _expire(self) -> None:
        self.timer = None
        loop = self.loop
        now = loop.time()
        waits = self.waits
        while waits:
            waiter = next(iter(waits))
            deadline = waits[waiter]
            if deadline > now:
                self._arm(deadline)
                return
            del waits[waiter]
            _release(waiter)


def _release(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _StalledWrite(base_socket.PendingWrite):
    """A write-through send that suspended (``_coro.step``): the writer drives it on."""

    __slots__ = ('write',)

    def __init__(self, write: Suspended, callback):
        super().__init__(callback)
        self.write = write

    async def finish(self, ws) -> None:
        await self.write.finish()

    def abandon(self) -> None:
        self.write.close()


class _BusyTurn(base_socket.WriterTurn):
    """While the writer writes a batch, senders queue behind it instead of
    writing through, so none overtakes it."""

    __slots__ = ()
    socket: AsyncSocket

    async def __aenter__(self) -> list:
        packets = await super().__aenter__()
        self.socket._writing = True
        return packets

    async def __aexit__(self, *exc_info) -> None:
        self.socket._writing = False


class AsyncSocket(base_socket.BaseSocket):
    """An Engine.IO session on an ``AsyncServer``; the shared flows are awaited.

    Write-through: while the websocket writer is idle, ``send`` writes on
    the sender's task instead of waking the writer for every packet; a
    write that has to wait is left to the writer, in order.
    """

    _writer_turn = _BusyTurn

    def __init__(self, server: Any, sid: str) -> None:
        super().__init__(server, sid)
        self._writing = False  # the writer is busy with a batch
        self._direct_send: Any = None  # the write-through's send, while _direct_ws is set
        self._direct_packets = False  # _direct_send takes the packet, not its encoding
        #: The task deliveries run as (created on the first message), its wakeup,
        #: and a delivery that suspended for it to finish.
        self._courier: Any = None
        self._courier_wakeup: Any = None
        self._courier_work: Suspended | None = None

    def _make_event(self, server) -> _Wakeup:
        expiries = getattr(server, '_expiries', None)
        return _Wakeup(expiries if isinstance(expiries, Expiries) else Expiries())

    async def _wait_for_wake(self, timeout: float) -> None:
        await self._event.wait(timeout)

    async def _run_websocket(self, ws, environ, start_response):
        return await ws(environ)

    def _abort_transport(self, ws, writer) -> None:
        # The connection is dropped first, so a write pending in the driver
        # fails rather than being cancelled (tornado logs a cancelled write).
        # The writer task is cancelled too, where the driver cannot abort;
        # its cleanup closes the websocket, which ends the reader.
        super()._abort_transport(ws, writer)
        writer.cancel()

    async def send(self, pkt: packet.Packet, callback=None) -> None:
        """Queue a packet for the client.

        :param pkt: the :class:`~engineio_fast.packet.Packet` to send.
        :param callback: ``callback(error)`` (plain or coroutine function), run
                         once the packet was handed to the transport
                         (``error`` None) or could not be.
        """
        # F-04
        if self._send_now(pkt, callback):
            return
        if self.state.closed:
            self._run_callback(callback, SocketIsClosedError())
            raise SocketIsClosedError()
        if self._ping_overdue():
            await self.check_ping_timeout()  # closes the session
            self._run_callback(callback, SocketIsClosedError())
            return
        await self._send_with_policy(pkt, callback)

    def _send_now(self, pkt: packet.Packet, callback: Any) -> bool:
        """``send`` where it need not await: the session is open and alive and the
        outbox has room; False leaves the packet to ``send``."""
        if self.state.closed or self._ping_overdue():
            return False
        if self._room is not None and self._outbox_full():
            return False
        if self._direct_ws is not None and not self._writing and not self.outbox:
            self._write_through(pkt, callback)
        else:
            self._queue(pkt, callback)
        return True

    async def _wait_for_room(self) -> None:
        await self._room.wait(FOREVER)

    def _write_through(self, pkt: packet.Packet, callback) -> None:
        """Write a packet to the idle websocket on the sender's task."""
        server = self.server
        if 'packet_create' in server.handlers:
            server._fire_observer('packet_create', self.sid, pkt)
        try:
            sent = self._direct_send(pkt if self._direct_packets else pkt.encode())
            # A driver's send is a coroutine, or (native) done at once: None, or
            # a future while the connection's write buffer is full.
            if sent is not None and not step(
                sent if iscoroutine(sent) else _awaiting(sent), self._hand_to_writer, callback
            ):
                return
        except (UnicodeEncodeError, EncodeError):
            server._log_unencodable()
        except Exception as exc:  # the peer went away: the reader reports it
            server.logger.info('%s: websocket write failed: %r', self.sid, exc)
            self._run_callback(callback, SocketIsClosedError())
            return
        self._run_callback(callback, None)
        self._drained()

    def _hand_to_writer(self, write: Suspended, callback) -> None:
        """A write-through that has to wait goes to the writer, ahead of later packets."""
        self.outbox.append(_StalledWrite(write, callback))
        self._event.set()

    def _hand_to_courier(self, suspended: Suspended) -> None:
        self._courier_work = suspended
        self._wake_courier()

    def _wake_courier(self) -> None:
        wakeup = self._courier_wakeup
        if wakeup is not None:
            self._courier_wakeup = None
            _release(wakeup)

    async def _finish_close(self, abort: bool, reason: str) -> None:
        await super()._finish_close(abort, reason)
        self._wake_courier()  # the session is closed: the courier ends

    async def _run_courier(self) -> None:
        """Finish the deliveries that suspended, until the session is closed."""
        loop = asyncio.get_running_loop()
        interrupt = None  # a cancellation meant for the delivery handed over
        try:
            while True:
                work = self._courier_work
                if work is not None:
                    self._courier_work = None
                    try:
                        await work.finish(interrupt)
                    except Exception:
                        self.server.logger.exception('message delivery failed')
                    interrupt = None
                    continue
                if self.state.closed:
                    return
                self._courier_wakeup = loop.create_future()
                try:
                    await self._courier_wakeup
                except asyncio.CancelledError as error:
                    # A handler's timeout that expired before this task got to run.
                    if self._courier_work is None:
                        raise
                    interrupt = error
        finally:
            self._courier = None

    def _attach_writer(self, ws) -> None:
        self._direct_ws = ws
        send = base_socket.driver_method(ws, 'send')
        # A driver that frames packets itself (native) gets them whole, unless
        # code wrapped its send on the instance.
        self._direct_packets = send == getattr(ws, 'send_now', None) and hasattr(
            type(ws), 'send_packet_now'
        )
        self._direct_send = ws.send_packet_now if self._direct_packets else send

    async def poll(self, timeout: float | None = None) -> list:
        """Wait for packets to send; ``[]`` once the session is closed and drained.

        :param timeout: seconds to wait; ``ping_interval + ping_timeout`` by
                        default. Raises ``QueueEmpty`` when it expires.
        """
        return await self._poll(timeout)

    async def check_ping_timeout(self) -> bool:
        """Close the session if its pong is overdue; False when it did.

        Raises ``SocketIsClosedError`` on a closed session.
        """
        # P-31
        if self.state.closed:
            raise SocketIsClosedError()
        if self._ping_overdue():
            await self.server._close_socket_on_timeout(self)
            return False
        return True

    async def _send_ping(self) -> None:
        """Send a ping and arm the pong deadline."""
        # P-30, P-31
        self._ping()

    async def receive(self, pkt: packet.Packet) -> None:
        """Handle a packet from the client.

        :param pkt: the decoded :class:`~engineio_fast.packet.Packet`.
        """
        await self._receive(pkt.packet_type, pkt.data)

    async def close(
        self, wait: bool = True, abort: bool = False, reason: str | None = None
    ) -> None:
        """Close the session; returns once the disconnect handler ran, unless it waits
        for earlier messages (``wait`` is kept for compatibility).

        :param abort: do not send the client a final packet.
        :param reason: the reason given to the ``disconnect`` handler.
        """
        await self._close(abort, reason)

    # The shared flows themselves: no coroutine in between per request.
    handle_get_request = base_socket.BaseSocket._handle_get
    handle_post_request = base_socket.BaseSocket._handle_post

    async def _websocket_handler(self, ws) -> list:
        """Serve the session over an accepted websocket until it closes."""
        return await self._serve_websocket(ws)

    async def _refuse_websocket(self, ws) -> list:
        """Close a second websocket for this session once accepted."""
        # P-42
        return await self._close_websocket(ws)
