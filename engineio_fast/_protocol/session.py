"""The server side of one Engine.IO session as a state machine, without I/O.

How it works: ``SessionState`` holds what a session is (connecting,
connected, upgrading, upgraded, closing, closed), its heartbeat clock and
which requests it is serving, and answers the questions the I/O layer
(``base_socket``) asks: may this packet come now, is the pong overdue, what
does a poll do next, what does a GET made during an upgrade get, which
packet ends a poll when the session closes.  It never reads the clock (the
caller passes ``now``, monotonic seconds), never waits and never locks; the
caller performs the answer (queue a packet, arm a timer, wake a waiter).

States: a session starts *connecting* (its connect handler runs) and becomes
*connected* on polling, or *connected* and *upgraded* at once when it opens
on a websocket.  A websocket accepted for a polling session makes it
*upgrading*; answering the client's ``2probe`` sets ``probe_answered``; the
client's ``5`` makes it *upgraded*; any other frame, or the upgrade timeout,
ends the upgrade and polling goes on.  Closing is one-way: *closing* while
the disconnect handler runs (or waits for earlier messages), then *closed*.

Heartbeat: ``next_ping`` is due ``ping_interval`` after the handshake and
after each pong; ``ping`` records when it went out (``last_ping``).  Any
packet from the client is a sign of life, so the pong deadline runs from the
later of the ping and the last packet received.
"""

from __future__ import annotations

from .._constants import (
    CLIENT_DISCONNECT,
    CLOSE,
    MESSAGE,
    MESSAGE_TOO_BIG,
    NOOP,
    PONG,
    TRANSPORT_ERROR,
    UPGRADE,
)
from ..exceptions import ContentTooLongError, DecodeError, UnknownPacketError

#: What a poll does next (``poll_step``).
TAKE = 'take'  # return the queued packets (possibly none, once closed)
NOOP_ONLY = 'noop'  # return a noop alone: the websocket takes the rest (P-40)
WAIT = 'wait'  # wait to be woken or for the deadline

#: What a GET made during an upgrade gets (``get_during_upgrade``).
POLL = 'poll'  # the upgrade failed: poll as usual
INVALID = 'invalid'  # the upgrade completed: the sid is no longer polling

#: What a websocket accepted for this session does (``websocket_opened``).
REFUSE = 'refuse'  # a second websocket: close it at once (P-42)
PROBE = 'probe'  # the upgrade of a polling session (P-40)
ONLY = 'only'  # a session opened on a websocket (P-43)

#: How long a GET made during an upgrade waits, once the probe is answered,
#: for the upgrade to end before it gets a noop (the JS server's interval).
UPGRADE_NOOP_DELAY = 0.1

#: Packet types a client may send (P-26).
_CLIENT_TYPES = frozenset((MESSAGE, PONG, CLOSE, NOOP))


class SessionState:
    """Protocol state of one server-side session; every answer is a plain value."""

    __slots__ = (
        'ping_interval',
        'ping_timeout',
        'monitor',
        'connected',
        'upgrading',
        'upgraded',
        'closing',
        'closed',
        'probe_answered',
        'upgraded_probe',
        'last_ping',
        'last_seen',
        'ping_due',
        'polling',
        'posting',
    )

    def __init__(self, ping_interval: float, ping_timeout: float, monitor: bool = True):
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        #: Whether an overdue pong closes the session (P-33: pings go out anyway).
        self.monitor = monitor
        self.connected = False
        self.upgrading = False
        self.upgraded = False
        self.closing = False
        self.closed = False
        #: When the upgrade's ``3probe`` went out, while upgrading.
        self.probe_answered: float | None = None
        #: When the ``3probe`` of the completed upgrade went out (None without one).
        self.upgraded_probe: float | None = None
        #: When the ping still waiting for its pong went out, or None.
        self.last_ping: float | None = None
        #: When the last packet from the client arrived.
        self.last_seen = 0.0
        #: When the next ping is due: a ping sent late by a busy timer still
        #: counts its pong deadline from here, as a precise timer would.
        self.ping_due: float | None = None
        #: A long-poll GET / a POST of this session is being served.
        self.polling = False
        self.posting = False

    # -- heartbeat ---------------------------------------------------------------

    def next_ping(self, now: float) -> float:
        """The next ping is due ``ping_interval`` from ``now``; the delay."""
        # P-30
        self.ping_due = now + self.ping_interval
        return self.ping_interval

    def ping(self, now: float) -> bool:
        """A ping goes out now; False when the session is closing and must not ping."""
        if self.closing or self.closed:
            return False
        due = self.ping_due
        self.last_ping = now if due is None else min(due, now)
        return True

    def pong_deadline(self) -> float | None:
        """When a pong (or any packet) is due, if one is and it is monitored."""
        last_ping = self.last_ping
        if last_ping is None or not self.monitor:
            return None
        return max(last_ping, self.last_seen) + self.ping_timeout

    def ping_overdue(self, now: float) -> bool:
        """Whether the client has been silent past its pong deadline."""
        # P-31, P-32
        # pong_deadline() inlined: every request and frame asks this.
        last_ping = self.last_ping
        if last_ping is None or not self.monitor:
            return False
        return now > max(last_ping, self.last_seen) + self.ping_timeout

    def pong_check(self, now: float) -> float | None:
        """A pong-deadline timer fired: None when nothing is due any more, 0.0 when
        the session timed out, else the seconds until the next check."""
        # P-31
        deadline = self.pong_deadline()
        if self.closed or deadline is None:
            return None
        return max(deadline - now, 0.0)

    def received(self, ptype: int, now: float) -> bool:
        """A packet came from the client at ``now``; whether it may send that type."""
        # P-26
        self.last_seen = now
        return ptype in _CLIENT_TYPES

    def pong(self) -> bool:
        """A pong came; True if it answered the pending ping (the next is then scheduled)."""
        if self.last_ping is None:
            return False
        self.last_ping = None
        return True

    # -- polling -----------------------------------------------------------------

    def begin_get(self) -> bool:
        """A long-poll GET starts; False if one is already pending."""
        # P-23
        if self.polling:
            return False
        self.polling = True
        return True

    def begin_post(self) -> bool:
        """A POST starts; False if one is already being handled."""
        # P-24
        if self.posting:
            return False
        self.posting = True
        return True

    def end_request(self, post: bool) -> None:
        """The GET (or the POST, with ``post``) started by ``begin_*`` ended."""
        if post:
            self.posting = False
        else:
            self.polling = False

    def poll_step(self, long_poll: bool, queued: bool) -> str:
        """What a poll does with ``queued`` packets waiting: ``TAKE``, ``NOOP_ONLY`` or ``WAIT``.

        While a POST is handled, or a close waits for earlier messages, the
        packets are held so that what that request produces leaves in one
        response.  A long poll still pending when the probe is
        answered gets a noop alone: the queued packets stay for the websocket.
        """
        # P-22, P-25, P-40
        if long_poll and self.probe_answered is not None:
            return NOOP_ONLY
        if (queued or self.closed) and not (self.posting or (self.closing and not self.closed)):
            return TAKE
        return WAIT

    def poll_expired(self, queued: bool) -> bool:
        """A poll's deadline passed: True to return what is held, False for ``QueueEmpty``."""
        return queued and (self.posting or (self.closing and not self.closed))

    # -- upgrade -----------------------------------------------------------------

    def websocket_opened(self) -> str:
        """A websocket request came for this session: ``REFUSE``, ``PROBE`` or ``ONLY``."""
        if self.upgraded or self.upgrading:
            return REFUSE
        if self.connected:
            self.upgrading = True
            return PROBE
        return ONLY

    def websocket_only(self) -> None:
        """The session opened on a websocket: connected and upgraded at once."""
        # P-43
        self.connected = True
        self.upgraded = True

    def probe_answered_at(self, now: float) -> None:
        """The ``3probe`` went out: a pending long poll gets its noop."""
        # P-40
        self.probe_answered = now

    def upgrade_frame(self, ptype: int) -> bool:
        """The frame after the probe came; True if it completed the upgrade."""
        # P-40
        if ptype != UPGRADE or self.closed or not self.upgrading:  # not upgrading: expired
            return False
        self.end_upgrade(upgraded=True)
        return True

    def end_upgrade(self, upgraded: bool) -> None:
        """The upgrade completed, or failed and polling goes on."""
        if upgraded:
            self.upgraded = True
            self.upgraded_probe = self.probe_answered
        self.upgrading = False
        self.probe_answered = None

    def expire_upgrade(self) -> bool:
        """The upgrade timeout fired; True if it ended an unfinished upgrade."""
        # F-05
        if self.upgrading and not self.upgraded:
            self.end_upgrade(upgraded=False)
            return True
        return False

    def get_during_upgrade(self, arrival: float, now: float) -> tuple[str, float]:
        """A GET that came at ``arrival`` while upgrading: what it gets now.

        ``(WAIT, seconds)``, ``(NOOP_ONLY, 0)``, ``(POLL, 0)`` once the upgrade
        failed, or ``(INVALID, seconds)`` once upgraded.  Such a GET is the
        client's last poll, or a request racing the client's ``5``, whose
        frames may still be on their way: it waits for the upgrade to end, and
        gets a noop ``UPGRADE_NOOP_DELAY`` after it came or after the probe was
        answered, whichever is later, as on the JS server.
        """
        # P-41
        if not self.upgrading or self.closed:
            if self.upgraded:
                return INVALID, self.refusal_hold(now)
            return POLL, 0.0
        answered = self.probe_answered
        start = arrival if answered is None else max(arrival, answered)
        remaining = start + UPGRADE_NOOP_DELAY - now
        if remaining <= 0:
            return NOOP_ONLY, 0.0
        return WAIT, remaining

    def refusal_hold(self, now: float) -> float:
        """How long a refusal waits: a poll's 400 once upgraded, a second websocket's close.

        Until ``UPGRADE_NOOP_DELAY`` after the ``3probe``: the refusal and the
        ``3probe`` travel on two connections, and a client that gets both at
        once may read the refusal first (the official suite's client does,
        seen with strace), taking the ``3probe`` for the next message.
        """
        # P-41, P-42
        answered = self.upgraded_probe if self.upgraded else self.probe_answered
        if answered is None:
            return 0.0
        return max(0.0, answered + UPGRADE_NOOP_DELAY - now)

    def probe_pending(self) -> bool:
        """Whether the upgrade under way has not answered its ``2probe`` yet."""
        return self.upgrading and self.probe_answered is None and not self.closed

    # -- closing -----------------------------------------------------------------

    def begin_close(self) -> bool:
        """A close starts; False if the session is already closing or closed."""
        if self.closed or self.closing:
            return False
        self.closing = True
        return True

    def finish_close(self) -> None:
        """The disconnect handler ran: the session is closed."""
        self.closed = True


def close_packet_type(reason: str) -> int:
    """The packet a pending GET gets when the session closes."""
    # P-22, P-27
    return NOOP if reason == CLIENT_DISCONNECT else CLOSE


def reader_failure(error: BaseException) -> tuple[str | None, str, int | None]:
    """Why a websocket's reader failed with ``error``.

    ``(close_detail, disconnect reason, websocket close code)``; a close
    code of None closes normally.
    """
    # F-09, H-43, P-44
    if isinstance(error, ContentTooLongError):
        return 'payload too large', TRANSPORT_ERROR, MESSAGE_TOO_BIG
    if isinstance(error, (DecodeError, UnknownPacketError)):
        return 'parse error', TRANSPORT_ERROR, None
    return None, TRANSPORT_ERROR, None
