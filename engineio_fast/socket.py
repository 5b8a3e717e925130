"""Sync socket: one Engine.IO session served by threads or greenlets."""

from __future__ import annotations

import threading
import time
from collections import deque

from . import _codec, base_socket, packet
from ._constants import MESSAGE, NOOP, PING, PONG, UPGRADE
from ._protocol import http
from .exceptions import (
    ContentTooLongError,
    DecodeError,
    EncodeError,
    ProtocolError,
    QueueEmpty,
    SocketIsClosedError,
    UnknownPacketError,
)

_PROBE_PONG = packet.Packet(PONG, 'probe')
#: Websocket close code for a message over max_http_buffer_size (H-43).
MESSAGE_TOO_BIG = 1009


class Socket(base_socket.BaseSocket):
    """An Engine.IO session on a sync server."""

    def __init__(self, server, sid):
        super().__init__(server, sid)
        self._event = server.create_event()
        self._inbox: deque = deque()
        self._inbox_lock = threading.Lock()
        self._inbox_draining = False
        self._deferred_close: tuple | None = None
        self._websocket_close_code: int | None = None

    def _wake(self) -> None:
        self._event.set()

    # -- sending -----------------------------------------------------------------

    def send(self, pkt: packet.Packet) -> None:
        """Queue a packet for the client.

        :param pkt: the :class:`~engineio_fast.packet.Packet` to send.
        """
        if not self.check_ping_timeout():
            return
        self._queue(pkt)

    def poll(self, timeout: float | None = None) -> list:
        """Wait for packets to send; ``[]`` once the session is closed and drained.

        While a POST of this session is being handled, or its close waits
        for earlier messages, packets are held back so that everything that
        request produces leaves in one response (P-22, P-25).

        :param timeout: seconds to wait; ``ping_interval + ping_timeout`` by
                        default. Raises ``QueueEmpty`` when it expires.
        """
        if timeout is None:
            timeout = self.server.ping_interval + self.server.ping_timeout
        deadline = None
        while True:
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
            self._event.wait(deadline - now)

    # -- heartbeat ---------------------------------------------------------------

    def check_ping_timeout(self) -> bool:
        """Close the session if its pong is overdue; False when it did (P-31).

        Raises ``SocketIsClosedError`` on a closed session.
        """
        if self.closed:
            raise SocketIsClosedError()
        if self._ping_overdue():
            self.server._close_socket_on_timeout(self)
            return False
        return True

    def _send_ping(self) -> None:
        """Send a ping and arm the pong deadline (P-30, P-31)."""
        if self.closing or self.closed:
            return
        now = time.monotonic()
        due = self._ping_due
        self.last_ping = now if due is None else min(due, now)
        self._queue(base_socket._PING_PACKET)
        if self.server._monitor_clients:
            self.server._timers.call_later(self.server.ping_timeout, self._check_pong)

    def _check_pong(self) -> None:
        """Timer callback: close the session when it stayed silent past its deadline."""
        deadline = self._pong_deadline()
        if self.closed or deadline is None:
            return
        remaining = deadline - time.monotonic()
        if remaining > 0:
            self.server._timers.call_later(remaining, self._check_pong)
        else:
            self.server._close_socket_on_timeout(self)

    # -- receiving ---------------------------------------------------------------

    def receive(self, pkt: packet.Packet) -> None:
        """Handle a packet from the client.

        :param pkt: the decoded :class:`~engineio_fast.packet.Packet`.
        """
        self._receive(pkt.packet_type, pkt.data)

    def _receive(self, ptype: int, data) -> None:
        """Act on one packet from the client (P-26)."""
        kind = self._classify(ptype, data)
        if kind == MESSAGE:
            self.server._dispatch_message(self, data)
        elif kind == PONG:
            if self.last_ping is not None:
                self.last_ping = None
                self.schedule_ping()
                if 'heartbeat' in self.server.handlers:
                    self.server._fire_observer('heartbeat', self.sid)
        elif kind != NOOP:  # CLOSE
            self.close(wait=False, reason=self.server.reason.CLIENT_DISCONNECT)

    def _deliver_messages(self) -> None:
        """Run message handlers for this session in arrival order (async_handlers).

        A close requested meanwhile waits for the messages received before
        it, so they are handled first (P-25) and the disconnect comes last.
        """
        inbox = self._inbox
        while True:
            with self._inbox_lock:
                if not inbox:
                    self._inbox_draining = False
                    deferred_close, self._deferred_close = self._deferred_close, None
                    break
                data = inbox.popleft()
            self.server._trigger_event('message', self.sid, data)
        if deferred_close is not None:
            self._finish_close(*deferred_close)

    def _enqueue_message(self, data) -> bool:
        """Queue a message for the delivery task; True if one must be started."""
        with self._inbox_lock:
            self._inbox.append(data)
            if self._inbox_draining:
                return False
            self._inbox_draining = True
            return True

    # -- closing -----------------------------------------------------------------

    def close(self, wait: bool = True, abort: bool = False, reason: str | None = None) -> None:
        """Close the session; returns at once (``wait`` is kept for compatibility).

        :param abort: do not send the client a final packet.
        :param reason: the reason given to the ``disconnect`` handler.
        """
        if self.closed or self.closing:
            return
        self.closing = True
        reason = reason or self.server.reason.SERVER_DISCONNECT
        with self._inbox_lock:
            if self._inbox_draining:
                self._deferred_close = (abort, reason)
                return
        self._finish_close(abort, reason)

    def _finish_close(self, abort: bool, reason: str) -> None:
        """Run the disconnect handler, queue the final packet, release waiters."""
        self.server._trigger_event('disconnect', self.sid, reason)
        if not abort:
            self.outbox.append(self._packet_for_close(reason))
        self.closed = True
        self.server._forget_socket(self, reason)
        self._wake()

    # -- polling -----------------------------------------------------------------

    def handle_get_request(self, environ: dict, start_response):
        """Answer a GET: a websocket upgrade, or a long poll returning packets."""
        if http.is_websocket_upgrade(environ):
            return self._upgrade_websocket(environ, start_response)
        if self.upgrading:
            return [base_socket._NOOP_PACKET]
        if self._polling:
            self.close_detail = 'polling overlap'
            self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise ProtocolError(400, http.BAD_REQUEST)
        self._polling = True
        try:
            return self.poll()
        except QueueEmpty:
            self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise ProtocolError(400, http.BAD_REQUEST) from None
        finally:
            self._polling = False

    def handle_post_request(self, environ: dict) -> None:
        """Receive the packets of a POST body (P-20, P-24, P-25).

        A body over the limit or a malformed packet closes the session
        (``transport error``) after the packets before it were handled, and
        the error is raised for the server to answer 413 or 400.
        """
        if self._posting:
            self.close_detail = 'polling overlap'
            self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise ProtocolError(400, http.BAD_REQUEST)
        self._posting = True
        try:
            body = self.server._read_body(environ)
            for ptype, data in self.server._decode_payload(body):
                self._receive(ptype, data)
        except ContentTooLongError:
            self.close_detail = 'payload too large'
            self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise
        except (DecodeError, UnknownPacketError) as error:
            self.server.logger.warning('%s: bad POST payload: %s', self.sid, error)
            self.close_detail = 'parse error'
            self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise
        finally:
            self._posting = False
            self._wake()

    # -- websocket ---------------------------------------------------------------

    def _upgrade_websocket(self, environ: dict, start_response):
        """Hand the request to the driver's websocket server (P-40, P-42, P-43)."""
        if self.upgraded or self.upgrading:
            raise ProtocolError(400, http.BAD_UPGRADE)
        websocket_class = self.server._async.get('websocket')
        if websocket_class is None:
            raise ProtocolError(400, http.BAD_UPGRADE)
        if self.connected:
            self.upgrading = True
        ws = websocket_class(self._websocket_handler, self.server)
        return ws(environ, start_response)

    def _websocket_handler(self, ws) -> list:
        """Serve the session over an accepted websocket until it closes."""
        server = self.server
        if self.connected:
            if not self._finish_upgrade(ws):
                self.upgrading = False
                ws.close()
                return []
        else:
            self.connected = True
            self.upgraded = True
        writer = server.start_background_task(self._websocket_writer, ws)
        reason = server.reason.TRANSPORT_CLOSE
        loads = packet.Packet.json.loads
        limit = server.max_http_buffer_size
        try:
            while not self.closing:
                message = ws.wait()
                if message is None:
                    break
                if self._ping_overdue():
                    reason = server.reason.PING_TIMEOUT
                    break
                size = len(message) if isinstance(message, bytes) else _codec.utf8_len(message)
                if size > limit:
                    raise ContentTooLongError()
                ptype, data, _ = _codec.decode_packet(message, loads)
                self._receive(ptype, data)
        except ContentTooLongError:
            server.logger.warning('%s: websocket message over %d bytes', self.sid, limit)
            self.close_detail = 'payload too large'
            self._websocket_close_code = MESSAGE_TOO_BIG
            reason = server.reason.TRANSPORT_ERROR
        except (DecodeError, UnknownPacketError):
            self.close_detail = 'parse error'
            reason = server.reason.TRANSPORT_ERROR
        except Exception:
            server.logger.info('%s: websocket read failed', self.sid, exc_info=True)
            reason = server.reason.TRANSPORT_ERROR
        self.close(wait=False, abort=True, reason=reason)
        writer.join()
        return []

    def _finish_upgrade(self, ws) -> bool:
        """The probe exchange of a polling session's upgrade; False if it failed."""
        server = self.server
        server._timers.call_later(server.upgrade_timeout, lambda: self._expire_upgrade(ws))
        loads = packet.Packet.json.loads
        try:
            ptype, data, _ = _codec.decode_packet(ws.wait() or '', loads)
            if ptype != PING or data != 'probe':
                return False
            ws.send(_PROBE_PONG.encode())
            # A GET held by the client gets a noop and ends (P-40).
            self._queue(base_socket._NOOP_PACKET)
            ptype, _, _ = _codec.decode_packet(ws.wait() or '', loads)
        except (DecodeError, OSError):
            return False
        if ptype != UPGRADE or self.closed:
            return False
        self.upgraded = True
        self.upgrading = False
        if 'upgrade' in server.handlers:
            server._fire_observer('upgrade', self.sid)
        return True

    def _expire_upgrade(self, ws) -> None:
        """Timer callback: abandon an upgrade that did not finish in time (F-05)."""
        if self.upgrading and not self.upgraded:
            self.close_detail = 'upgrade timeout'
            ws.close()

    def _websocket_writer(self, ws) -> None:
        """Send queued packets over the websocket until the session closes.

        A failed write only closes the websocket: the reader then sees the
        closed connection and closes the session with the reason.
        """
        try:
            while True:
                try:
                    packets = self.poll()
                except QueueEmpty:
                    break
                if not packets:
                    break
                for pkt in packets:
                    try:
                        ws.send(pkt.encode())
                    except (UnicodeEncodeError, EncodeError):
                        self.server._log_error_once(
                            'Dropped a packet that is not valid UTF-8', 'bad-utf8'
                        )
                if self.closed and not self.outbox:
                    break
        except Exception as exc:  # the peer went away: the reader reports it
            self.server.logger.info('%s: websocket write failed: %r', self.sid, exc)
        finally:
            code = self._websocket_close_code
            ws.close() if code is None else ws.close(code)
