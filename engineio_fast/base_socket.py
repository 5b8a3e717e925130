"""Per-session state and packet handling shared by the sync and async sockets.

How it works: a session is created *connecting* (its connect handler runs,
requests for it are refused), then becomes *connected* on polling or
*connected* and *upgraded* at once on a websocket-first handshake.  A polling
session may go *upgrading* (a websocket sent the probe) and then *upgraded*
(the client sent ``5``).  Closing is one-way: *closing* while the disconnect
handler runs, then *closed*.

Outgoing packets wait in ``outbox``, a deque (append and popleft are atomic,
so any thread or task may send without a lock), until a long-poll GET or the
websocket writer takes them.  Heartbeats go through the server's timer
service: ``schedule_ping`` arms a timer that calls ``_send_ping``, which arms
the pong deadline.  ``last_ping`` holds the monotonic time of the ping still
waiting for its pong, or None.  Any packet from the client counts as a sign
of life: the pong deadline runs from the later of the ping and the last
packet received, so a pong queued behind a burst of messages is not a
timeout.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from . import packet
from ._constants import CLOSE, MESSAGE, NOOP, PING, PONG
from .exceptions import UnknownPacketError

_PING_PACKET = packet.Packet(PING)
_CLOSE_PACKET = packet.Packet(CLOSE)
_NOOP_PACKET = packet.Packet(NOOP)


class BaseSocket:
    """State of one Engine.IO session; transports and I/O live in subclasses."""

    upgrade_protocols = ['websocket']

    def __init__(self, server: Any, sid: str):
        self.server = server
        self.sid = sid
        self.outbox: deque = deque()
        self.connected = False
        self.upgrading = False
        self.upgraded = False
        self.closing = False
        self.closed = False
        self.session: dict = {}
        self.last_ping: float | None = None
        self._last_seen = 0.0
        # When the next ping is due: a ping sent late by a busy timer still
        # counts its pong deadline from here, as a precise timer would.
        self._ping_due: float | None = None
        #: Why the transport failed, when it did (F-09): 'parse error',
        #: 'payload too large', 'polling overlap', 'upgrade timeout',
        #: 'forced close'.
        self.close_detail: str | None = None
        #: The environ of the handshake request (F-14).
        self.environ: dict | None = None
        self._polling = False
        self._posting = False

    @property
    def remote_address(self) -> str | None:
        """Peer address of the handshake request (F-14)."""
        return self.environ.get('REMOTE_ADDR') if self.environ else None

    # -- outgoing ----------------------------------------------------------------

    def _queue(self, pkt: packet.Packet) -> None:
        """Append a packet to the outbox and wake whoever drains it."""
        self.outbox.append(pkt)
        self._wake()
        if 'packet_create' in self.server.handlers:
            self.server._fire_observer('packet_create', self.sid, pkt)

    def _take_packets(self) -> list:
        """Everything queued so far, in order."""
        outbox = self.outbox
        packets = []
        while outbox:
            packets.append(outbox.popleft())
        return packets

    def _wake(self) -> None:  # pragma: no cover - overridden
        """Wake the transport waiting for outgoing packets."""
        raise NotImplementedError

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
        self.server._timers.call_later(self.server.ping_interval, self._send_ping)

    # -- incoming ----------------------------------------------------------------

    def _classify(self, ptype: int, data: Any) -> int:
        """Check that the client may send this packet type now (P-26)."""
        self._last_seen = time.monotonic()
        if 'packet' in self.server.handlers:
            self.server._fire_observer('packet', self.sid, packet.Packet(ptype, data))
        if ptype == MESSAGE or ptype == PONG or ptype == CLOSE or ptype == NOOP:
            return ptype
        raise UnknownPacketError('Unexpected packet type %d' % ptype)

    def _packet_for_close(self, reason: str) -> packet.Packet | None:
        """The packet a pending GET gets when the session closes (P-22, P-27)."""
        if reason == self.server.reason.CLIENT_DISCONNECT:
            return _NOOP_PACKET
        return _CLOSE_PACKET
