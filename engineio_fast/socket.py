"""Sync socket: one Engine.IO session served by threads or greenlets."""

from __future__ import annotations

from . import base_socket, packet
from ._coro import run_sync
from .exceptions import SocketIsClosedError

#: Kept here for compatibility: the websocket close code for oversized messages.
MESSAGE_TOO_BIG = base_socket.MESSAGE_TOO_BIG


class Socket(base_socket.BaseSocket):
    """An Engine.IO session on a sync server; the shared flows run with blocking I/O."""

    async def _wait_for_wake(self, timeout: float) -> None:
        self._event.wait(None if timeout == base_socket.FOREVER else timeout)

    async def _run_websocket(self, ws, environ, start_response):
        return ws(environ, start_response)

    def send(self, pkt: packet.Packet, callback=None) -> None:
        """Queue a packet for the client.

        :param pkt: the :class:`~engineio_fast.packet.Packet` to send.
        :param callback: ``callback(error)``, run once the packet was handed to
                         the transport (``error`` None) or could not be
                         (F-04).
        """
        if self.closed:
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

    def poll(self, timeout: float | None = None) -> list:
        """Wait for packets to send; ``[]`` once the session is closed and drained.

        :param timeout: seconds to wait; ``ping_interval + ping_timeout`` by
                        default. Raises ``QueueEmpty`` when it expires.
        """
        return run_sync(self._poll(timeout))

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
        """Receive the packets of a POST body (P-20, P-24, P-25)."""
        run_sync(self._handle_post(environ))

    def _websocket_handler(self, ws) -> list:
        """Serve the session over an accepted websocket until it closes."""
        return run_sync(self._serve_websocket(ws))
