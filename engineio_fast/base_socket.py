"""One Engine.IO session: the I/O and flows shared by ``Socket`` and ``AsyncSocket``.

How it works: the session's protocol decisions (its states, heartbeat
deadlines, what a poll or a GET during an upgrade gets, close reasons) are
made by ``_protocol.session.SessionState``, given the time; this module
performs them with events, timers, locks and the driver's I/O.  The states'
names (``connected``, ``upgrading``, ``upgraded``, ``closing``, ``closed``,
``last_ping``) stay readable and writable on the socket, as in
python-engineio.

Outgoing packets wait in ``outbox``, a deque (append and popleft are atomic,
so any thread or task may send without a lock), until a long-poll GET or the
websocket writer takes them.  A packet sent with a callback waits there as a
``(packet, callback)`` pair; the callback runs once the packet was handed to
the transport (``_written``), or with an exception when the session ends
first (``_fail_unwritten``).  With ``max_queue_size`` a user send finding the
outbox full applies ``queue_overflow``.  Heartbeats go through the
server's timer service: ``schedule_ping`` arms a timer that calls
``_send_ping``, which arms the pong deadline.

The request flows (long poll, POST, websocket reader and writer, upgrade,
close) are coroutines written once here (see ``_coro``): ``AsyncSocket``
awaits them, ``Socket`` runs them to the end with blocking I/O.  Subclasses
supply the public methods in their own calling style and ``_wait_for_wake``.
"""
# F-04

from __future__ import annotations

import threading
import time
from collections import deque
from inspect import isawaitable
from operator import attrgetter
from typing import Any, Callable, NoReturn

from . import _codec, packet
from . import json as _safe_json
from ._constants import CLOSE, MESSAGE, MESSAGE_TOO_BIG, NOOP, PING, PONG
from ._coro import must_await, settle
from ._protocol import http
from ._protocol import session as protocol
from .exceptions import (
    ContentTooLongError,
    DecodeError,
    EncodeError,
    ProtocolError,
    QueueEmpty,
    QueueFullError,
    SocketIsClosedError,
    UnknownPacketError,
)

_PING_PACKET = packet.Packet(PING)
_NOOP_PACKET = packet.Packet(NOOP)
_PROBE_PONG = packet.Packet(PONG, 'probe')
#: How often a refused second websocket looks whether the probe was answered.
_PROBE_POLL = 0.01
# P-22, P-27
#: The packet that ends a pending GET when the session closes, by type.
_CLOSE_PACKETS = {NOOP: _NOOP_PACKET, CLOSE: packet.Packet(CLOSE)}
#: A ``_poll`` timeout that never expires.
FOREVER = float('inf')
_TAKE = protocol.TAKE
_WAIT = protocol.WAIT


def _state_attribute(name: str) -> property:
    """A socket attribute kept in its ``SessionState`` (python-engineio's names)."""

    def set_(self: BaseSocket, value: Any) -> None:
        setattr(self.state, name, value)

    return property(attrgetter('state.' + name), set_, doc="The session state's ``%s``." % name)


class WriterTurn:
    """One turn of the websocket writer: ``async with turn as packets`` waits for
    the next packets (``[]`` once the session is closed and drained) and holds
    whatever keeps senders from overtaking them until they are written; what
    that is depends on the calling style (``Socket``, ``AsyncSocket``)."""

    __slots__ = ('socket',)

    def __init__(self, socket: BaseSocket):
        self.socket = socket

    async def __aenter__(self) -> list:
        try:
            # No deadline: pings keep coming, and a close wakes the writer.
            return await self.socket._poll(FOREVER)
        except QueueEmpty:
            return []

    async def __aexit__(self, *exc_info: Any) -> None:
        return None


class BaseSocket:
    """State of one Engine.IO session; the calling style lives in subclasses."""

    upgrade_protocols = ['websocket']
    #: The websocket writer's turns, per calling style.
    _writer_turn = WriterTurn

    # Supplied by each calling style (Socket, AsyncSocket): plain or async.
    close: Callable[..., Any]
    _send_ping: Callable[[], Any]
    _websocket_handler: Callable[[Any], Any]
    _refuse_websocket: Callable[[Any], Any]

    connected = _state_attribute('connected')
    upgrading = _state_attribute('upgrading')
    upgraded = _state_attribute('upgraded')
    closing = _state_attribute('closing')
    closed = _state_attribute('closed')
    last_ping = _state_attribute('last_ping')

    def __init__(self, server: Any, sid: str):
        self.server = server
        self.sid = sid
        self.state = protocol.SessionState(
            server.ping_interval, server.ping_timeout, bool(server._monitor_clients)
        )
        self.outbox: deque = deque()
        self.session: dict = {}
        #: The pending ping or pong-deadline timer, cancelled on close.
        self._heartbeat: object = None
        # F-09
        #: Why the transport failed, when it did: 'parse error',
        #: 'payload too large', 'polling overlap', 'upgrade timeout',
        #: 'forced close'.
        self.close_detail: str | None = None
        # F-14
        #: The environ of the handshake request.
        self.environ: dict | None = None
        self._event = self._make_event(server)
        # Messages waiting for the delivery task (async_handlers), in order; a
        # list the delivery takes whole (an idle session holds no deque block).
        self._inbox: list = []
        self._inbox_lock = threading.Lock()
        self._inbox_draining = False
        self._deferred_close: tuple | None = None
        self._websocket_close_code: int | None = None
        # Callbacks of the packets taken by the transport, not yet written.
        self._in_flight: list = []
        # The websocket senders may write to themselves while its writer runs
        # (write-through, see the subclasses), or None.
        self._direct_ws: Any = None
        # Set when the outbox drains, for senders blocked on a full outbox.
        self._room: Any = self._make_event(server) if server.max_queue_size else None
        #: ``(ws, writer flow)`` while a websocket serves this session.
        self._websocket: tuple | None = None

    def _make_event(self, server: Any) -> Any:
        """The event that wakes the transport waiting for packets."""
        return server.create_event()

    @property
    def remote_address(self) -> str | None:
        """Peer address of the handshake request."""
        # F-14
        return self.environ.get('REMOTE_ADDR') if self.environ else None

    # -- outgoing ----------------------------------------------------------------

    def _queue(self, pkt: packet.Packet, callback: Any = None) -> None:
        """Append a packet to the outbox and wake whoever drains it."""
        self.outbox.append(pkt if callback is None else (pkt, callback))
        self._event.set()
        if 'packet_create' in self.server.handlers:
            self.server._fire_observer('packet_create', self.sid, pkt)

    def _outbox_full(self) -> bool:
        """Whether a user send must apply the overflow policy first."""
        # F-04
        limit = self.server.max_queue_size
        return limit is not None and len(self.outbox) >= limit

    async def _send_with_policy(self, pkt: packet.Packet, callback: Any) -> None:
        """Queue a user packet into a full outbox per ``queue_overflow``."""
        # F-04
        policy = self.server.queue_overflow
        if policy == 'block':
            while self._outbox_full() and not self.state.closing:
                self._room.clear()
                if self._outbox_full() and not self.state.closing:
                    await self._wait_for_room()
        elif policy == 'drop_oldest':
            oldest = self.outbox.popleft() if self.outbox else None
            if oldest is not None:
                old_pkt = oldest[0] if type(oldest) is tuple else oldest
                if old_pkt.packet_type != MESSAGE:  # heartbeats and closes stay
                    self.outbox.appendleft(oldest)
                    self._run_callback(callback, QueueFullError('Send queue is full'))
                    return
                if type(oldest) is tuple:
                    self._run_callback(oldest[1], QueueFullError('Send queue is full'))
        else:  # 'disconnect'
            self.server.logger.warning('%s: send queue full, closing the session', self.sid)
            await self._close_for('queue overflow', self.server.reason.TRANSPORT_ERROR)
        if self.state.closing or self.state.closed:
            self._run_callback(callback, SocketIsClosedError())
            raise SocketIsClosedError()
        self._queue(pkt, callback)

    async def _wait_for_room(self) -> None:  # pragma: no cover
        """Wait until the outbox drained (``_room``) or the session closed."""
        raise NotImplementedError

    def _take_packets(self) -> list:
        """Everything queued so far, in order; their callbacks wait for ``_written``."""
        outbox = self.outbox
        packets = []
        while outbox:
            item = outbox.popleft()
            if type(item) is tuple:
                self._in_flight.append(item[1])
                item = item[0]
            packets.append(item)
        if self._room is not None:
            self._room.set()
        return packets

    def _written(self, error: BaseException | None = None) -> None:
        """The packets last taken reached the transport (or failed with ``error``)."""
        if self._in_flight:
            callbacks, self._in_flight = self._in_flight, []
            for callback in callbacks:
                self._run_callback(callback, error)
        if error is None and not self.outbox and 'drain' in self.server.handlers:
            self.server._fire_observer('drain', self.sid)

    def _drained(self) -> None:
        """A write-through emptied the outbox: wake blocked senders, fire ``drain``."""
        if self._room is not None:
            self._room.set()
        if 'drain' in self.server.handlers:
            self.server._fire_observer('drain', self.sid)

    def _fail_unwritten(self) -> None:
        """The session ended: callbacks of packets never written get an error."""
        self._written(SocketIsClosedError())
        while self.outbox:
            item = self.outbox.popleft()
            if type(item) is tuple:
                self._run_callback(item[1], SocketIsClosedError())
            elif isinstance(item, PendingWrite):
                item.abandon()
                self._run_callback(item.callback, SocketIsClosedError())

    def _run_callback(self, callback: Any, error: BaseException | None) -> None:
        """Run a send callback; its errors are logged, a coroutine runs as a task."""
        if callback is not None:
            self.server._run_send_callback(callback, error)

    async def _wait_for_wake(self, timeout: float) -> None:  # pragma: no cover
        """Wait until woken or ``timeout`` seconds passed."""
        raise NotImplementedError

    async def _poll(self, timeout: float | None = None, long_poll: bool = False) -> list:
        """Wait for packets to send; ``[]`` once the session is closed and drained.

        ``SessionState.poll_step`` decides what the poll takes.  Raises ``QueueEmpty``
        when ``timeout`` expires.
        """
        # P-22, P-25, P-40
        if timeout is None:
            timeout = self.server.ping_interval + self.server.ping_timeout
        step = self.state.poll_step
        outbox = self.outbox
        deadline = None
        while True:
            action = step(long_poll, bool(outbox))
            if action is _TAKE:
                return self._take_packets()
            if action is not _WAIT:  # NOOP_ONLY
                return [_NOOP_PACKET]
            self._event.clear()
            if step(long_poll, bool(outbox)) is not _WAIT:  # came before the clear
                continue
            now = time.monotonic()
            if deadline is None:
                deadline = now + timeout
            elif now >= deadline:
                if self.state.poll_expired(bool(outbox)):
                    return self._take_packets()
                raise QueueEmpty()
            await self._wait_for_wake(deadline - now)

    # -- heartbeat ---------------------------------------------------------------

    def _ping_overdue(self) -> bool:
        """Whether the client has been silent past its pong deadline."""
        # P-31, P-32
        state = self.state
        # Asked by every request and send: no clock read while no ping is pending.
        return state.last_ping is not None and state.ping_overdue(time.monotonic())

    def schedule_ping(self) -> None:
        """Arm the timer for the next ping (``ping_interval`` from now).

        The pong deadline of the ping just answered is cancelled: left to
        fire, a session would hold ``ping_timeout / ping_interval`` of them.
        """
        timers = self.server._timers
        if self._heartbeat is not None:
            timers.cancel(self._heartbeat)
        delay = self.state.next_ping(time.monotonic())
        self._heartbeat = timers.call_later(delay, self._send_ping)

    def _ping(self) -> None:
        """Send a ping and arm the pong deadline."""
        # P-30, P-31
        state = self.state
        if not state.ping(time.monotonic()):
            return
        self._queue(_PING_PACKET)
        if state.monitor:
            self._heartbeat = self.server._timers.call_later(state.ping_timeout, self._check_pong)

    def _check_pong(self) -> Any:
        """Timer callback: close the session when it stayed silent past its deadline."""
        remaining = self.state.pong_check(time.monotonic())
        if remaining is None:
            return None
        if remaining > 0:
            self._heartbeat = self.server._timers.call_later(remaining, self._check_pong)
            return None
        return self.server._close_socket_on_timeout(self)

    # -- incoming ----------------------------------------------------------------

    async def _receive(self, ptype: int, data: Any) -> None:
        """Act on one packet from the client."""
        # P-26
        if ptype == MESSAGE and self._message_now(data):
            return
        allowed = self.state.received(ptype, time.monotonic())
        if 'packet' in self.server.handlers:
            self.server._fire_observer('packet', self.sid, packet.Packet(ptype, data))
        if ptype == MESSAGE:  # handled on the reader's flow (async_handlers off)
            await self.server._call_handler('message', (self.sid, data))
        elif not allowed:
            raise UnknownPacketError('Unexpected packet type %d' % ptype)
        elif ptype == PONG:
            if self.state.pong():
                self.schedule_ping()
                if 'heartbeat' in self.server.handlers:
                    self.server._fire_observer('heartbeat', self.sid)
        elif ptype != NOOP:  # CLOSE
            await settle(self.close(wait=False, reason=self.server.reason.CLIENT_DISCONNECT))

    def _message_now(self, data: Any) -> bool:
        """Hand a message to the delivery flow without awaiting (async_handlers);
        False when the handler must run on the reader's flow instead."""
        server = self.server
        if not server.async_handlers:
            return False
        self.state.received(MESSAGE, time.monotonic())
        if 'packet' in server.handlers:
            server._fire_observer('packet', self.sid, packet.Packet(MESSAGE, data))
        if self._enqueue_message(data):
            server._start_delivery(self, self._deliver_messages())
        return True

    def _message_arrived(self, message: Any) -> bool:
        """A websocket message the driver offers while the reader waits for one:
        handled now when that is what the reader would do with it, else False
        (the reader gets it, in order)."""
        if self.state.closing or self._ping_overdue():
            return False
        try:
            ptype, data = self._decode_frame(message)
        except (ContentTooLongError, DecodeError):
            return False
        return ptype == MESSAGE and self._message_now(data)

    def _decode_frame(self, message: Any) -> tuple:
        """``(type, data)`` of a websocket message; one over the size limit refused."""
        if type(message) is tuple:  # split by the driver, whose reader has the same limit
            return message
        # H-43
        size = len(message) if isinstance(message, bytes) else _codec.utf8_len(message)
        if size > self.server.max_http_buffer_size:
            raise ContentTooLongError()
        ptype, data, _ = _codec.decode_packet(message, packet._json_loads())
        return ptype, data

    def _enqueue_message(self, data: Any) -> bool:
        """Queue a message for the delivery task; True if one must be started."""
        with self._inbox_lock:
            self._inbox.append(data)
            if self._inbox_draining:
                return False
            self._inbox_draining = True
            return True

    async def _deliver_messages(self) -> None:
        """Run message handlers for this session in arrival order (async_handlers).

        A close requested meanwhile waits for the messages received before
        it, so they are handled first and the disconnect comes last.
        """
        # P-25
        server = self.server
        handlers = server.handlers
        sid = self.sid
        while True:
            with self._inbox_lock:
                batch = self._inbox
                if not batch:
                    self._inbox_draining = False
                    deferred_close, self._deferred_close = self._deferred_close, None
                    break
                self._inbox = []
            for data in batch:
                # server._call_handler('message', ...) inline: one coroutine less each.
                handler = handlers.get('message')
                if handler is None:
                    continue
                try:
                    result = handler(sid, data)
                    if must_await(result):
                        await result
                except Exception:
                    server.logger.exception('message handler error')
        if deferred_close is not None:
            await self._finish_close(*deferred_close)

    # -- closing -----------------------------------------------------------------

    async def _close(self, abort: bool, reason: str | None) -> None:
        """Close the session once; after the pending messages when there are any."""
        if not self.state.begin_close():
            return
        if self._room is not None:
            self._room.set()  # senders blocked on a full outbox give up
        reason = reason or self.server.reason.SERVER_DISCONNECT
        with self._inbox_lock:
            if self._inbox_draining:
                self._deferred_close = (abort, reason)
                return
        await self._finish_close(abort, reason)

    async def _finish_close(self, abort: bool, reason: str) -> None:
        """Run the disconnect handler, queue the final packet, release waiters."""
        await self.server._call_handler('disconnect', (self.sid, reason))
        if not abort:
            self.outbox.append(_CLOSE_PACKETS[protocol.close_packet_type(reason)])
        self.state.finish_close()
        if self._heartbeat is not None:
            # The timer would keep this closed socket alive for up to ping_interval.
            self.server._timers.cancel(self._heartbeat)
            self._heartbeat = None
        self.server._forget_socket(self, reason)
        self._event.set()
        if self._websocket is not None:
            # A client that stopped reading leaves the writer blocked on a
            # full socket buffer and the reader waiting for a frame: the
            # writer gets ping_timeout to flush, then the connection is
            # dropped (P-31).
            self.server._timers.call_later(self.server.ping_timeout, self._abort_websocket)

    def _abort_websocket(self) -> None:
        """Timer callback: drop a websocket still open ``ping_timeout`` after its close."""
        if self._websocket is not None:
            self._abort_transport(*self._websocket)

    def _abort_transport(self, ws: Any, writer: Any) -> None:
        """Drop the connection under ``ws`` so its blocked reader and writer return."""
        _drop(ws)

    async def _close_for(self, detail: str | None, reason: str) -> None:
        """Close after a transport failure, recording why."""
        # F-09
        if detail is not None:
            self.close_detail = detail
        await settle(self.close(wait=False, reason=reason))

    # -- polling -----------------------------------------------------------------

    async def _handle_get(self, environ: dict, start_response: Any = None) -> Any:
        """Answer a GET: a websocket upgrade, or a long poll returning packets."""
        if http.is_websocket_upgrade(environ):
            return await self._upgrade_websocket(environ, start_response)
        state = self.state
        if not state.begin_get():
            await self._close_for('polling overlap', self.server.reason.TRANSPORT_ERROR)
            raise ProtocolError(400, http.BAD_REQUEST)
        try:
            if state.upgrading:
                packets = await self._poll_during_upgrade()
                if packets is not None:
                    return packets
            return await self._poll(long_poll=True)
        except QueueEmpty:
            await self._close_for(None, self.server.reason.TRANSPORT_ERROR)
            raise ProtocolError(400, http.BAD_REQUEST) from None
        finally:
            state.end_request(post=False)

    async def _poll_during_upgrade(self) -> list | None:
        """A GET made while an upgrade is under way; None if the upgrade failed."""
        # P-41
        arrival = time.monotonic()
        while True:
            action, remaining = self.state.get_during_upgrade(arrival, time.monotonic())
            if action is _WAIT:
                self._event.clear()
                action, remaining = self.state.get_during_upgrade(arrival, time.monotonic())
                if action is _WAIT:
                    await self._wait_for_wake(remaining)
                    continue
            if action is protocol.POLL:
                return None
            if action is protocol.INVALID:
                await self._refuse_poll()
            return [_NOOP_PACKET]

    async def _refuse_poll(self) -> NoReturn:
        """Refuse a poll of the upgraded session (400), held as ``refusal_hold`` says."""
        # P-41
        hold = self.state.refusal_hold(time.monotonic())
        if hold:
            await settle(self.server.sleep(hold))
        raise http.invalid_session(self.sid)

    async def _handle_post(self, environ: dict) -> None:
        """Receive the packets of a POST body.

        A body over the limit or a malformed packet closes the session
        (``transport error``) after the packets before it were handled, and
        the error is raised for the server to answer 413 or 400.
        """
        # P-20, P-24, P-25
        error_reason = self.server.reason.TRANSPORT_ERROR
        if not self.state.begin_post():
            await self._close_for('polling overlap', error_reason)
            raise ProtocolError(400, http.BAD_REQUEST)
        try:
            body = self.server._body_now(environ)
            if body is None:
                body = await self.server._read_body(environ)
            for ptype, data in self.server._decode_payload(body):
                if ptype != MESSAGE or not self._message_now(data):
                    await self._receive(ptype, data)
        except ContentTooLongError:
            await self._close_for('payload too large', error_reason)
            raise
        except (DecodeError, UnknownPacketError) as error:
            self.server.logger.warning('%s: bad POST payload: %s', self.sid, error)
            await self._close_for('parse error', error_reason)
            raise
        finally:
            self.state.end_request(post=True)
            self._event.set()

    # -- websocket ---------------------------------------------------------------

    async def _upgrade_websocket(self, environ: dict, start_response: Any) -> Any:
        """Hand the request to the driver's websocket server."""
        # P-40, P-42, P-43
        websocket_class = self.server._async.get('websocket')
        if websocket_class is None:
            raise ProtocolError(400, http.BAD_UPGRADE)
        if self.state.websocket_opened() is protocol.REFUSE:
            # One websocket per session: a second one is accepted and closed
            # at once, leaving the live transport alone (P-42).  Refusing it
            # with an HTTP status fails clients that expect a close.
            ws = websocket_class(self._refuse_websocket, self.server)
            return await self._run_websocket(ws, environ, start_response)
        ws = websocket_class(self._websocket_handler, self.server)
        return await self._run_websocket(ws, environ, start_response)

    async def _run_websocket(self, ws: Any, environ: dict, start_response: Any) -> Any:
        """Run the driver's websocket object in the subclass's calling style."""
        raise NotImplementedError  # pragma: no cover

    async def _close_websocket(self, ws: Any) -> list:
        """Close a second websocket for this session, after the first one's ``3probe``.

        The close waits as ``SessionState.refusal_hold`` says, and first a
        moment for the probe to be answered: a client that gets the close and
        the ``3probe`` at once may read the close first.
        """
        # P-42
        sleep = self.server.sleep
        waited = 0.0
        while self.state.probe_pending() and waited < protocol.UPGRADE_NOOP_DELAY:
            await settle(sleep(_PROBE_POLL))
            waited += _PROBE_POLL
        hold = self.state.refusal_hold(time.monotonic())
        if hold:
            await settle(sleep(hold))
        try:
            await settle(ws.close())
        except Exception:  # the peer went first
            pass
        return []

    async def _serve_websocket(self, ws: Any) -> list:
        """Serve the session over an accepted websocket until it closes."""
        server = self.server
        if self.state.connected:  # an upgrade (upgrading once _upgrade_websocket accepted it)
            if not await self._finish_upgrade(ws):
                self._end_upgrade(upgraded=False)
                code = self._websocket_close_code
                await settle(ws.close() if code is None else ws.close(code))
                return []
        else:
            self.state.websocket_only()
        writer = server._spawn_flow(self._websocket_writer(ws))
        self._websocket = (ws, writer)
        reason = server.reason.TRANSPORT_CLOSE
        limit = server.max_http_buffer_size
        decode = self._decode_frame
        receive = self._receive
        take_message = self._message_now
        state = self.state
        overdue = self._ping_overdue
        wait = driver_method(ws, 'wait')
        if wait == getattr(ws, 'wait_now', None) and hasattr(type(ws), 'offer_messages'):
            # The driver may hand messages over as they arrive while this
            # flow waits, without waking it: the same steps, one switch less;
            # and its frame reader splits plain text packets itself.
            ws.offer_messages(self._message_arrived)
            ws.split_packets(packet._json_loads() in _safe_json._STRICT_LOADS)
        try:
            while not state.closing:
                message = wait()
                if message is not None and type(message) not in _MESSAGE_TYPES:
                    message = await message  # inline settle(): a driver's coroutine or future
                if message is None:
                    break
                if overdue():  # P-32
                    reason = server.reason.PING_TIMEOUT
                    break
                ptype, data = decode(message)
                if ptype != MESSAGE or not take_message(data):
                    await receive(ptype, data)
        except Exception as error:
            if isinstance(error, ContentTooLongError):
                server.logger.warning('%s: websocket message over %d bytes', self.sid, limit)
            elif isinstance(error, ConnectionAbortedError):  # an invalid frame (P-44)
                server.logger.info('%s: %s', self.sid, error)
            elif not isinstance(error, (DecodeError, UnknownPacketError)):
                server.logger.info('%s: websocket read failed', self.sid, exc_info=True)
            detail, reason, self._websocket_close_code = protocol.reader_failure(error)
            if detail is not None:
                self.close_detail = detail
        await settle(self.close(wait=False, abort=True, reason=reason))
        await server._join_flow(writer)
        self._websocket = None
        return []

    async def _finish_upgrade(self, ws: Any) -> bool:
        """The probe exchange of a polling session's upgrade; False if it failed."""
        server = self.server
        server._timers.call_later(server.upgrade_timeout, lambda: self._expire_upgrade(ws))
        try:
            ptype, data = await self._probe_frame(ws)
            if ptype != PING or data != 'probe':
                return False
            await settle(ws.send(_PROBE_PONG.encode()))
            # A GET held by the client ends with a noop of its own (P-40, _poll).
            self.state.probe_answered_at(time.monotonic())
            self._event.set()
            ptype, _ = await self._probe_frame(ws)
        except (DecodeError, OSError):
            return False
        except ContentTooLongError:  # H-43, as on an upgraded websocket
            limit = server.max_http_buffer_size
            server.logger.warning('%s: websocket message over %d bytes', self.sid, limit)
            self._websocket_close_code = MESSAGE_TOO_BIG
            await self._close_for('payload too large', server.reason.TRANSPORT_ERROR)
            return False
        if not self.state.upgrade_frame(ptype):
            return False
        self._event.set()
        if 'upgrade' in server.handlers:
            server._fire_observer('upgrade', self.sid)
        return True

    async def _probe_frame(self, ws: Any) -> tuple:
        """The next frame of a probe exchange, decoded; one over the limit refused."""
        # H-43
        message = await settle(ws.wait()) or ''
        return self._decode_frame(message)

    def _expire_upgrade(self, ws: Any) -> Any:
        """Timer callback: abandon an upgrade that did not finish in time."""
        # F-05
        if self.state.expire_upgrade():
            self.close_detail = 'upgrade timeout'
            # Polling goes on at once, not only when the websocket's reader notices.
            self._event.set()
            # A client that does not answer the close frame is dropped (P-31).
            self.server._timers.call_later(self.server.ping_timeout, lambda: _drop(ws))
            return ws.close()
        return None

    def _end_upgrade(self, upgraded: bool) -> None:
        """The upgrade completed or failed: a GET waiting for it gets its answer."""
        self.state.end_upgrade(upgraded)
        self._event.set()

    def _attach_writer(self, ws: Any) -> None:
        """The websocket writer starts on ``ws``: enable write-through if possible."""

    async def _websocket_writer(self, ws: Any) -> None:
        """Send queued packets over the websocket until the session closes.

        A failed write only closes the websocket: the reader then sees the
        closed connection and closes the session with the reason.
        """
        self._attach_writer(ws)
        turn = self._writer_turn(self)
        send = driver_method(ws, 'send')
        try:
            while True:
                async with turn as packets:
                    if not packets:
                        break
                    for pkt in packets:
                        if isinstance(pkt, PendingWrite):
                            try:
                                await pkt.finish(ws)
                            except BaseException:
                                # Failed or cancelled (P-31 abort): a suspended
                                # send still holds what it took, e.g. the
                                # server's write lock, which the close needs.
                                pkt.abandon()
                                self._run_callback(pkt.callback, SocketIsClosedError())
                                raise
                            self._run_callback(pkt.callback, None)
                            continue
                        try:
                            sent = send(pkt.encode())
                            if sent is not None and isawaitable(sent):  # inline settle()
                                await sent
                        except (UnicodeEncodeError, EncodeError):
                            self.server._log_unencodable()
                    self._written()
                if self.state.closed and not self.outbox:
                    break
        except Exception as exc:  # the peer went away: the reader reports it
            self.server.logger.info('%s: websocket write failed: %r', self.sid, exc)
        finally:
            self._direct_ws = None
            self._fail_unwritten()
            code = self._websocket_close_code
            try:
                await settle(ws.close() if code is None else ws.close(code))
            except Exception:  # already closed by the peer
                pass


#: What a websocket's ``wait()`` returns when it does not have to wait.
#: What a driver's ``wait`` returns, not awaited: messages, and ``(type, data)``
#: packets a driver's reader split (``split_packets``).
_MESSAGE_TYPES = (str, bytes, bytearray, tuple)


def driver_method(ws: Any, name: str) -> Any:
    """``ws.<name>_now`` where the driver has one and ``ws.<name>`` is still its own
    method, else ``ws.<name>``.

    A ``*_now`` method (the native transport's) answers at once when it can:
    a message, or None for a send done, else an awaitable.  ``wait``/``send``
    keep the contract (always awaitable) for code that wraps them on the
    instance, as python-socketio's admin instrumentation does; a wrapped one
    is used as it is.
    """
    method = getattr(ws, name)
    now = getattr(ws, name + '_now', None)
    if now is not None and getattr(method, '__func__', None) is getattr(type(ws), name, None):
        return now
    return method


class PendingWrite:
    """A message a write-through send started but could not finish: the writer
    ends it (``finish``) before anything queued after it.  Never dropped by
    ``queue_overflow='drop_oldest'`` (it is not a message packet any more)."""

    __slots__ = ('callback',)
    packet_type = None

    def __init__(self, callback: Any):
        self.callback = callback

    async def finish(self, ws: Any) -> None:  # pragma: no cover
        """Complete the write on ``ws``."""
        raise NotImplementedError

    def abandon(self) -> None:
        """The session ended before the write could finish."""


def _drop(ws: Any) -> None:
    """Drop the connection under a driver's websocket, where the driver can."""
    abort = getattr(ws, 'abort', None)
    if abort is not None:
        abort()
