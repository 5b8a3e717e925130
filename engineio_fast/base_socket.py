"""One Engine.IO session: state and flows shared by ``Socket`` and ``AsyncSocket``.

How it works: a session is created *connecting* (its connect handler runs,
requests for it are refused), then becomes *connected* on polling or
*connected* and *upgraded* at once on a websocket-first handshake.  A polling
session goes *upgrading* when a websocket is accepted for it, answers the
probe, and is *upgraded* once the client sends ``5``; a GET made meanwhile
waits briefly for that end (P-41).  Closing is one-way: *closing* while the
disconnect handler runs, then *closed*.

Outgoing packets wait in ``outbox``, a deque (append and popleft are atomic,
so any thread or task may send without a lock), until a long-poll GET or the
websocket writer takes them.  A packet sent with a callback waits there as a
``(packet, callback)`` pair; the callback runs once the packet was handed to
the transport (``_written``), or with an exception when the session ends
first (``_fail_unwritten``).  With ``max_queue_size`` a user send finding the
outbox full applies ``queue_overflow`` (F-04).  Heartbeats go through the server's timer
service: ``schedule_ping`` arms a timer that calls ``_send_ping``, which arms
the pong deadline.  ``last_ping`` holds the monotonic time of the ping still
waiting for its pong, or None.  Any packet from the client counts as a sign
of life: the pong deadline runs from the later of the ping and the last
packet received, so a pong queued behind a burst of messages is not a
timeout.

The request flows (long poll, POST, websocket reader and writer, upgrade,
close) are coroutines written once here (see ``_coro``): ``AsyncSocket``
awaits them, ``Socket`` runs them to the end with blocking I/O.  Subclasses
supply the public methods in their own calling style and ``_wait_for_wake``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from inspect import isawaitable
from typing import Any

from . import _codec, packet
from ._constants import CLOSE, MESSAGE, MESSAGE_TOO_BIG, NOOP, PING, PONG, UPGRADE
from ._coro import settle
from ._protocol import http
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
_CLOSE_PACKET = packet.Packet(CLOSE)
_NOOP_PACKET = packet.Packet(NOOP)
_PROBE_PONG = packet.Packet(PONG, 'probe')
#: A ``_poll`` timeout that never expires.
FOREVER = float('inf')
#: How long a GET made during an upgrade waits, once the probe is answered,
#: for the upgrade to end before it gets a noop (the JS server's interval).
UPGRADE_NOOP_DELAY = 0.1


class BaseSocket:
    """State of one Engine.IO session; the calling style lives in subclasses."""

    upgrade_protocols = ['websocket']

    def __init__(self, server: Any, sid: str):
        self.server = server
        self.sid = sid
        self.outbox: deque = deque()
        self.connected = False
        self.upgrading = False
        self.upgraded = False
        # Monotonic time the upgrade's 3probe went out, while upgrading.
        self._probe_answered: float | None = None
        self.closing = False
        self.closed = False
        self.session: dict = {}
        self.last_ping: float | None = None
        self._last_seen = 0.0
        # When the next ping is due: a ping sent late by a busy timer still
        # counts its pong deadline from here, as a precise timer would.
        self._ping_due: float | None = None
        #: The pending ping or pong-deadline timer, cancelled on close.
        self._heartbeat: object = None
        #: Why the transport failed, when it did (F-09): 'parse error',
        #: 'payload too large', 'polling overlap', 'upgrade timeout',
        #: 'forced close'.
        self.close_detail: str | None = None
        #: The environ of the handshake request (F-14).
        self.environ: dict | None = None
        self._polling = False
        self._posting = False
        self._event = self._make_event(server)
        # Messages waiting for the delivery task (async_handlers), in order.
        self._inbox: deque = deque()
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
        self._room = self._make_event(server) if server.max_queue_size else None
        #: ``(ws, writer flow)`` while a websocket serves this session.
        self._websocket: tuple | None = None

    def _make_event(self, server: Any) -> Any:
        """The event that wakes the transport waiting for packets."""
        return server.create_event()

    @property
    def remote_address(self) -> str | None:
        """Peer address of the handshake request (F-14)."""
        return self.environ.get('REMOTE_ADDR') if self.environ else None

    # -- outgoing ----------------------------------------------------------------

    def _queue(self, pkt: packet.Packet, callback: Any = None) -> None:
        """Append a packet to the outbox and wake whoever drains it."""
        self.outbox.append(pkt if callback is None else (pkt, callback))
        self._event.set()
        if 'packet_create' in self.server.handlers:
            self.server._fire_observer('packet_create', self.sid, pkt)

    def _outbox_full(self) -> bool:
        """Whether a user send must apply the overflow policy first (F-04)."""
        limit = self.server.max_queue_size
        return limit is not None and len(self.outbox) >= limit

    async def _send_with_policy(self, pkt: packet.Packet, callback: Any) -> None:
        """Queue a user packet into a full outbox per ``queue_overflow`` (F-04)."""
        policy = self.server.queue_overflow
        if policy == 'block':
            while self._outbox_full() and not self.closing:
                self._room.clear()
                if self._outbox_full() and not self.closing:
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
        if self.closing or self.closed:
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

        While a POST of this session is being handled, or its close waits
        for earlier messages, packets are held back so that everything that
        request produces leaves in one response (P-22, P-25).  A long poll
        still waiting when the upgrade's probe is answered gets a noop alone:
        the queued packets stay for the websocket (P-40).  Raises
        ``QueueEmpty`` when ``timeout`` expires.
        """
        if timeout is None:
            timeout = self.server.ping_interval + self.server.ping_timeout
        deadline = None
        while True:
            if long_poll and self._probe_answered is not None:
                return [_NOOP_PACKET]
            busy = self._posting or (self.closing and not self.closed)
            if not busy:
                packets = self._take_packets()
                if packets or self.closed:
                    return packets
            self._event.clear()
            if self.closed or (self.outbox and not self._posting and not self.closing):
                continue
            now = time.monotonic()
            if deadline is None:
                deadline = now + timeout
            elif now >= deadline:
                if busy and self.outbox:
                    return self._take_packets()
                raise QueueEmpty()
            await self._wait_for_wake(deadline - now)

    # -- heartbeat ---------------------------------------------------------------

    def _pong_deadline(self) -> float | None:
        """Monotonic time by which a pong (or any packet) is due, if one is."""
        last_ping = self.last_ping
        if last_ping is None or not self.server._monitor_clients:
            return None
        return max(last_ping, self._last_seen) + self.server.ping_timeout

    def _ping_overdue(self) -> bool:
        """Whether the client has been silent past its pong deadline (P-31, P-32)."""
        deadline = self._pong_deadline()
        return deadline is not None and time.monotonic() > deadline

    def schedule_ping(self) -> None:
        """Arm the timer for the next ping (``ping_interval`` from now)."""
        self._ping_due = time.monotonic() + self.server.ping_interval
        self._heartbeat = self.server._timers.call_later(self.server.ping_interval, self._send_ping)

    def _ping(self) -> None:
        """Send a ping and arm the pong deadline (P-30, P-31)."""
        if self.closing or self.closed:
            return
        now = time.monotonic()
        due = self._ping_due
        self.last_ping = now if due is None else min(due, now)
        self._queue(_PING_PACKET)
        if self.server._monitor_clients:
            self._heartbeat = self.server._timers.call_later(
                self.server.ping_timeout, self._check_pong
            )

    def _check_pong(self) -> Any:
        """Timer callback: close the session when it stayed silent past its deadline."""
        deadline = self._pong_deadline()
        if self.closed or deadline is None:
            return None
        remaining = deadline - time.monotonic()
        if remaining > 0:
            self._heartbeat = self.server._timers.call_later(remaining, self._check_pong)
            return None
        return self.server._close_socket_on_timeout(self)

    # -- incoming ----------------------------------------------------------------

    def _classify(self, ptype: int, data: Any) -> int:
        """Check that the client may send this packet type now (P-26)."""
        self._last_seen = time.monotonic()
        if 'packet' in self.server.handlers:
            self.server._fire_observer('packet', self.sid, packet.Packet(ptype, data))
        if ptype == MESSAGE or ptype == PONG or ptype == CLOSE or ptype == NOOP:
            return ptype
        raise UnknownPacketError('Unexpected packet type %d' % ptype)

    async def _receive(self, ptype: int, data: Any) -> None:
        """Act on one packet from the client (P-26)."""
        kind = self._classify(ptype, data)
        if kind == MESSAGE:
            await self.server._dispatch_message(self, data)
        elif kind == PONG:
            if self.last_ping is not None:
                self.last_ping = None
                self.schedule_ping()
                if 'heartbeat' in self.server.handlers:
                    self.server._fire_observer('heartbeat', self.sid)
        elif kind != NOOP:  # CLOSE
            await settle(self.close(wait=False, reason=self.server.reason.CLIENT_DISCONNECT))

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
        it, so they are handled first (P-25) and the disconnect comes last.
        """
        inbox = self._inbox
        call_handler = self.server._call_handler
        while True:
            with self._inbox_lock:
                if not inbox:
                    self._inbox_draining = False
                    deferred_close, self._deferred_close = self._deferred_close, None
                    break
                data = inbox.popleft()
            await call_handler('message', (self.sid, data))
        if deferred_close is not None:
            await self._finish_close(*deferred_close)

    # -- closing -----------------------------------------------------------------

    async def _close(self, abort: bool, reason: str | None) -> None:
        """Close the session once; after the pending messages when there are any."""
        if self.closed or self.closing:
            return
        self.closing = True
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
            self.outbox.append(self._packet_for_close(reason))
        self.closed = True
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

    def _packet_for_close(self, reason: str) -> packet.Packet:
        """The packet a pending GET gets when the session closes (P-22, P-27)."""
        if reason == self.server.reason.CLIENT_DISCONNECT:
            return _NOOP_PACKET
        return _CLOSE_PACKET

    async def _close_for(self, detail: str | None, reason: str) -> None:
        """Close after a transport failure, recording why (F-09)."""
        if detail is not None:
            self.close_detail = detail
        await settle(self.close(wait=False, reason=reason))

    # -- polling -----------------------------------------------------------------

    async def _handle_get(self, environ: dict, start_response: Any) -> Any:
        """Answer a GET: a websocket upgrade, or a long poll returning packets."""
        if http.is_websocket_upgrade(environ):
            return await self._upgrade_websocket(environ, start_response)
        if self._polling:
            await self._close_for('polling overlap', self.server.reason.TRANSPORT_ERROR)
            raise ProtocolError(400, http.BAD_REQUEST)
        self._polling = True
        try:
            if self.upgrading:
                packets = await self._poll_during_upgrade()
                if packets is not None:
                    return packets
            return await self._poll(long_poll=True)
        except QueueEmpty:
            await self._close_for(None, self.server.reason.TRANSPORT_ERROR)
            raise ProtocolError(400, http.BAD_REQUEST) from None
        finally:
            self._polling = False

    async def _poll_during_upgrade(self) -> list | None:
        """A GET made while an upgrade is under way (P-41); None if the upgrade failed.

        Such a GET is the client's last poll, or a request racing the
        client's ``5``, whose frames may still be on their way (a peer that
        compresses them on a thread pool, a server that hands messages over
        one per loop turn).  It waits for the upgrade to end (400 once
        upgraded), and gets a noop ``UPGRADE_NOOP_DELAY`` after it came or
        after the probe was answered, whichever is later, as on the JS server.
        """
        arrival = time.monotonic()
        while self.upgrading and not self.closed:
            self._event.clear()
            if not self.upgrading or self.closed:
                break
            start = max(arrival, self._probe_answered or arrival)
            remaining = start + UPGRADE_NOOP_DELAY - time.monotonic()
            if remaining <= 0:
                return [_NOOP_PACKET]
            await self._wait_for_wake(remaining)
        if self.upgraded:
            raise http.invalid_session(self.sid)
        return None

    async def _handle_post(self, environ: dict) -> None:
        """Receive the packets of a POST body (P-20, P-24, P-25).

        A body over the limit or a malformed packet closes the session
        (``transport error``) after the packets before it were handled, and
        the error is raised for the server to answer 413 or 400.
        """
        error_reason = self.server.reason.TRANSPORT_ERROR
        if self._posting:
            await self._close_for('polling overlap', error_reason)
            raise ProtocolError(400, http.BAD_REQUEST)
        self._posting = True
        try:
            body = await self.server._read_body(environ)
            for ptype, data in self.server._decode_payload(body):
                await self._receive(ptype, data)
        except ContentTooLongError:
            await self._close_for('payload too large', error_reason)
            raise
        except (DecodeError, UnknownPacketError) as error:
            self.server.logger.warning('%s: bad POST payload: %s', self.sid, error)
            await self._close_for('parse error', error_reason)
            raise
        finally:
            self._posting = False
            self._event.set()

    # -- websocket ---------------------------------------------------------------

    async def _upgrade_websocket(self, environ: dict, start_response: Any) -> Any:
        """Hand the request to the driver's websocket server (P-40, P-42, P-43)."""
        websocket_class = self.server._async.get('websocket')
        if websocket_class is None:
            raise ProtocolError(400, http.BAD_UPGRADE)
        if self.upgraded or self.upgrading:
            # One websocket per session: a second one is accepted and closed
            # at once, leaving the live transport alone (P-42).  Refusing it
            # with an HTTP status fails clients that expect a close.
            ws = websocket_class(self._refuse_websocket, self.server)
            return await self._run_websocket(ws, environ, start_response)
        if self.connected:
            self.upgrading = True
        ws = websocket_class(self._websocket_handler, self.server)
        return await self._run_websocket(ws, environ, start_response)

    async def _run_websocket(self, ws: Any, environ: dict, start_response: Any) -> Any:
        """Run the driver's websocket object in the subclass's calling style."""
        raise NotImplementedError  # pragma: no cover

    async def _close_websocket(self, ws: Any) -> list:
        """Close a websocket that cannot serve this session (P-42)."""
        try:
            await settle(ws.close())
        except Exception:  # the peer went first
            pass
        return []

    async def _serve_websocket(self, ws: Any) -> list:
        """Serve the session over an accepted websocket until it closes."""
        server = self.server
        if self.connected:
            if not await self._finish_upgrade(ws):
                self._end_upgrade(upgraded=False)
                code = self._websocket_close_code
                await settle(ws.close() if code is None else ws.close(code))
                return []
        else:
            self.connected = True
            self.upgraded = True
        writer = server._spawn_flow(self._websocket_writer(ws))
        self._websocket = (ws, writer)
        reason = server.reason.TRANSPORT_CLOSE
        loads = packet._json_loads()
        limit = server.max_http_buffer_size
        receive = self._receive
        try:
            while not self.closing:
                message = ws.wait()
                if type(message) is not str and isawaitable(message):  # inline settle()
                    message = await message
                if message is None:
                    break
                if self._ping_overdue():
                    reason = server.reason.PING_TIMEOUT
                    break
                size = len(message) if isinstance(message, bytes) else _codec.utf8_len(message)
                if size > limit:
                    raise ContentTooLongError()
                ptype, data, _ = _codec.decode_packet(message, loads)
                await receive(ptype, data)
        except ContentTooLongError:
            server.logger.warning('%s: websocket message over %d bytes', self.sid, limit)
            self.close_detail = 'payload too large'
            self._websocket_close_code = MESSAGE_TOO_BIG
            reason = server.reason.TRANSPORT_ERROR
        except (DecodeError, UnknownPacketError):
            self.close_detail = 'parse error'
            reason = server.reason.TRANSPORT_ERROR
        except ConnectionAbortedError as exc:  # an invalid frame, seen by the driver (P-44)
            server.logger.info('%s: %s', self.sid, exc)
            reason = server.reason.TRANSPORT_ERROR
        except Exception:
            server.logger.info('%s: websocket read failed', self.sid, exc_info=True)
            reason = server.reason.TRANSPORT_ERROR
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
            self._probe_answered = time.monotonic()
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
        if ptype != UPGRADE or self.closed or not self.upgrading:  # not upgrading: expired
            return False
        self._end_upgrade(upgraded=True)
        if 'upgrade' in server.handlers:
            server._fire_observer('upgrade', self.sid)
        return True

    async def _probe_frame(self, ws: Any) -> tuple:
        """The next frame of a probe exchange, decoded; one over the limit refused (H-43)."""
        message = await settle(ws.wait()) or ''
        size = len(message) if isinstance(message, bytes) else _codec.utf8_len(message)
        if size > self.server.max_http_buffer_size:
            raise ContentTooLongError()
        ptype, data, _ = _codec.decode_packet(message, packet._json_loads())
        return ptype, data

    def _expire_upgrade(self, ws: Any) -> Any:
        """Timer callback: abandon an upgrade that did not finish in time (F-05)."""
        if self.upgrading and not self.upgraded:
            self.close_detail = 'upgrade timeout'
            # Polling goes on at once, not only when the websocket's reader notices.
            self._end_upgrade(upgraded=False)
            # A client that does not answer the close frame is dropped (P-31).
            self.server._timers.call_later(self.server.ping_timeout, lambda: _drop(ws))
            return ws.close()
        return None

    def _end_upgrade(self, upgraded: bool) -> None:
        """The upgrade completed or failed: a GET waiting for it gets its answer."""
        if upgraded:
            self.upgraded = True
        self.upgrading = False
        self._probe_answered = None
        self._event.set()

    def _attach_writer(self, ws: Any) -> None:
        """The websocket writer starts on ``ws``: enable write-through if possible."""

    async def _next_batch(self) -> list:
        """The writer's next packets; ``[]`` once the session is closed and drained."""
        try:
            return await self._poll(FOREVER)
        except QueueEmpty:
            return []

    def _end_batch(self) -> None:
        """The writer handled the packets of ``_next_batch``."""

    async def _websocket_writer(self, ws: Any) -> None:
        """Send queued packets over the websocket until the session closes.

        A failed write only closes the websocket: the reader then sees the
        closed connection and closes the session with the reason.
        """
        self._attach_writer(ws)
        try:
            while True:
                # No deadline: pings keep coming, and a close wakes the writer.
                packets = await self._next_batch()
                try:
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
                            sent = ws.send(pkt.encode())
                            if sent is not None and isawaitable(sent):  # inline settle()
                                await sent
                        except (UnicodeEncodeError, EncodeError):
                            self.server._log_unencodable()
                    self._written()
                finally:
                    self._end_batch()
                if self.closed and not self.outbox:
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
