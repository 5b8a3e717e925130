"""Sync socket: one Engine.IO session served by threads or greenlets."""

from __future__ import annotations

import threading
from typing import Any

from . import base_socket, packet
from ._coro import run_sync
from .exceptions import EncodeError, SocketIsClosedError


class _PartialFrame(base_socket.PendingWrite):
    """The unsent tail of a frame a non-blocking write could not finish."""

    __slots__ = ('data',)

    def __init__(self, data: bytes, callback):
        super().__init__(callback)
        self.data = data

    async def finish(self, ws) -> None:
        ws.write_raw(self.data)


class _LockedTurn(base_socket.WriterTurn):
    """With write-through, the writer takes the write lock before the packets and
    holds it until they are written, so no sender's packet overtakes them; only
    what would block, a close, or a busy lock wakes it."""

    __slots__ = ('locked',)
    socket: Socket

    def __init__(self, socket: base_socket.BaseSocket):
        super().__init__(socket)
        self.locked = False

    async def __aenter__(self) -> list:
        socket = self.socket
        if socket._direct_ws is None:
            return await super().__aenter__()
        while True:
            if not socket.outbox and not socket.state.closed:
                socket._event.wait()
                socket._event.clear()
            socket._write_lock.acquire()
            if socket.outbox or socket.state.closed:
                self.locked = True
                return socket._take_packets()
            socket._write_lock.release()

    async def __aexit__(self, *exc_info) -> None:
        if self.locked:
            self.locked = False
            self.socket._write_lock.release()


class Socket(base_socket.BaseSocket):
    """An Engine.IO session on a sync server; the shared flows run with blocking I/O.

    Write-through: when the driver's websocket can write without blocking
    (``nonblocking_writes``), whoever queues a packet also writes the
    outbox, on its own thread, as far as the socket takes it without
    blocking; only what would block is left to the writer thread.  One lock
    serialises the writers, so packets leave in the order they were queued.
    """

    _writer_turn = _LockedTurn

    def __init__(self, server: Any, sid: str) -> None:
        super().__init__(server, sid)
        self._write_lock = threading.Lock()

    async def _wait_for_wake(self, timeout: float) -> None:
        self._event.wait(None if timeout == base_socket.FOREVER else timeout)

    async def _run_websocket(self, ws, environ, start_response):
        return ws(environ, start_response)

    def send(self, pkt: packet.Packet, callback=None) -> None:
        """Queue a packet for the client.

        :param pkt: the :class:`~engineio_fast.packet.Packet` to send.
        :param callback: ``callback(error)``, run once the packet was handed to
                         the transport (``error`` None) or could not be.
        """
        # F-04
        if self.state.closed:
            self._run_callback(callback, SocketIsClosedError())
        if not self.check_ping_timeout():
            self._run_callback(callback, SocketIsClosedError())
            return
        if self._room is not None and self._outbox_full():
            run_sync(self._send_with_policy(pkt, callback))
        else:
            self._queue(pkt, callback)

    async def _wait_for_room(self) -> None:
        # Bounded, so a wakeup lost between clear() and wait() costs one second.
        self._room.wait(1.0)

    # -- write-through -------------------------------------------------------------

    def _queue(self, pkt: packet.Packet, callback=None) -> None:
        if self._direct_ws is None:
            super()._queue(pkt, callback)
            return
        self.outbox.append(pkt if callback is None else (pkt, callback))
        if 'packet_create' in self.server.handlers:
            self.server._fire_observer('packet_create', self.sid, pkt)
        self._write_outbox()

    def _write_outbox(self) -> None:
        """Write queued packets on this thread while the socket takes them at once."""
        lock = self._write_lock
        while self.outbox:
            if not lock.acquire(False):
                self._event.set()  # the holder may be the writer: it looks again
                return
            try:
                ws = self._direct_ws
                blocked = ws is None or self._write_nowait(ws)
            finally:
                lock.release()
            if blocked:
                self._event.set()  # the writer thread waits until it can write
                return

    def _write_nowait(self, ws) -> bool:
        """Write the outbox without blocking; True if the rest must wait for the writer."""
        outbox = self.outbox
        server = self.server
        while outbox:
            item = outbox.popleft()
            callback = None
            if type(item) is tuple:
                item, callback = item
            try:
                if isinstance(item, _PartialFrame):
                    callback = item.callback
                    rest = ws.write_raw_nowait(item.data)
                else:
                    rest = ws.write_nowait(item.encode())
            except (UnicodeEncodeError, EncodeError):
                server._log_unencodable()
                rest = b''
            except Exception as exc:  # the peer went away: the reader reports it
                server.logger.info('%s: websocket write failed: %r', self.sid, exc)
                self._run_callback(callback, SocketIsClosedError())
                continue
            if rest:
                outbox.appendleft(_PartialFrame(rest, callback))
                return True
            self._run_callback(callback, None)
        self._drained()
        return False

    def _attach_writer(self, ws) -> None:
        if getattr(ws, 'nonblocking_writes', False):
            self._direct_ws = ws

    def poll(self, timeout: float | None = None) -> list:
        """Wait for packets to send; ``[]`` once the session is closed and drained.

        :param timeout: seconds to wait; ``ping_interval + ping_timeout`` by
                        default. Raises ``QueueEmpty`` when it expires.
        """
        return run_sync(self._poll(timeout))

    def check_ping_timeout(self) -> bool:
        """Close the session if its pong is overdue; False when it did.

        Raises ``SocketIsClosedError`` on a closed session.
        """
        # P-31
        if self.state.closed:
            raise SocketIsClosedError()
        if self._ping_overdue():
            self.server._close_socket_on_timeout(self)
            return False
        return True

    def _send_ping(self) -> None:
        """Send a ping and arm the pong deadline."""
        # P-30, P-31
        self._ping()

    def receive(self, pkt: packet.Packet) -> None:
        """Handle a packet from the client.

        :param pkt: the decoded :class:`~engineio_fast.packet.Packet`.
        """
        run_sync(self._receive(pkt.packet_type, pkt.data))

    def close(self, wait: bool = True, abort: bool = False, reason: str | None = None) -> None:
        """Close the session; returns at once (``wait`` is kept for compatibility).

        :param abort: do not send the client a final packet.
        :param reason: the reason given to the ``disconnect`` handler.
        """
        run_sync(self._close(abort, reason))

    def handle_get_request(self, environ: dict, start_response):
        """Answer a GET: a websocket upgrade, or a long poll returning packets."""
        return run_sync(self._handle_get(environ, start_response))

    def handle_post_request(self, environ: dict) -> None:
        """Receive the packets of a POST body."""
        # P-20, P-24, P-25
        run_sync(self._handle_post(environ))

    def _websocket_handler(self, ws) -> list:
        """Serve the session over an accepted websocket until it closes."""
        return run_sync(self._serve_websocket(ws))

    def _refuse_websocket(self, ws) -> list:
        """Close a second websocket for this session once accepted."""
        # P-42
        return run_sync(self._close_websocket(ws))
