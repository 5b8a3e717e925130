"""The server session state machine (``engineio_fast._protocol.session``): no I/O, a fake clock.

P-22..P-27 polling and close, P-30..P-33 heartbeat, P-40..P-44 upgrade and
websocket sessions, F-05 upgrade timeout, F-09 close details, H-43 oversized
websocket messages.  Every time below is a plain float handed in as ``now``.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engineio_fast._constants import (
    CLIENT_DISCONNECT,
    CLOSE,
    MESSAGE,
    MESSAGE_TOO_BIG,
    NOOP,
    OPEN,
    PING,
    PING_TIMEOUT,
    PONG,
    SERVER_DISCONNECT,
    TRANSPORT_CLOSE,
    TRANSPORT_ERROR,
    UPGRADE,
)
from engineio_fast._protocol import session as protocol
from engineio_fast._protocol.session import (
    INVALID,
    NOOP_ONLY,
    ONLY,
    POLL,
    PROBE,
    REFUSE,
    TAKE,
    UPGRADE_NOOP_DELAY,
    WAIT,
    SessionState,
)
from engineio_fast.exceptions import (
    ContentTooLongError,
    DecodeError,
    EncodeError,
    UnknownPacketError,
)

INTERVAL = 25.0
TIMEOUT = 20.0


class Clock:
    """A fake monotonic clock: time moves only when a test says so."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock():
    return Clock()


def connected(monitor: bool = True) -> SessionState:
    """A polling session past its connect handler (what the server marks after it)."""
    state = SessionState(INTERVAL, TIMEOUT, monitor)
    state.connected = True
    return state


def pinged(clock: Clock, monitor: bool = True) -> SessionState:
    """A connected session whose first ping went out on time."""
    state = connected(monitor)
    state.next_ping(clock.now)
    clock.advance(INTERVAL)
    assert state.ping(clock.now)
    return state


def upgrading() -> SessionState:
    """A polling session with an accepted websocket, probe not answered yet."""
    state = connected()
    assert state.websocket_opened() == PROBE
    return state


# -- heartbeat (P-30..P-33) ---------------------------------------------------


def test_new_session_has_no_pong_deadline(clock):
    """P-31: nothing is overdue before the first ping went out."""
    state = SessionState(INTERVAL, TIMEOUT)
    assert state.pong_deadline() is None
    assert not state.ping_overdue(clock.advance(10 * (INTERVAL + TIMEOUT)))
    assert state.pong_check(clock.now) is None


def test_first_ping_is_due_ping_interval_after_handshake(clock):
    """P-30: the delay is ping_interval, and the ping counts from handshake + interval."""
    state = connected()
    assert state.next_ping(clock.now) == INTERVAL
    assert state.ping_due == clock.now + INTERVAL
    clock.advance(INTERVAL)
    assert state.ping(clock.now) is True
    assert state.last_ping == 1025.0
    assert state.pong_deadline() == 1025.0 + TIMEOUT


def test_late_ping_counts_its_pong_deadline_from_when_it_was_due(clock):
    """P-31: a ping sent late by a busy timer does not give the client extra time."""
    state = connected()
    state.next_ping(clock.now)
    clock.advance(INTERVAL + 3.0)
    assert state.ping(clock.now)
    assert state.last_ping == 1025.0
    assert state.pong_deadline() == 1045.0
    assert state.ping_overdue(1045.5)


def test_ping_before_due_time_counts_from_when_it_went_out(clock):
    """P-31: a ping sent before its due time (or never scheduled) counts from now."""
    early = connected()
    early.next_ping(clock.now)
    assert early.ping(1010.0)
    assert early.last_ping == 1010.0
    unscheduled = connected()
    assert unscheduled.ping(1010.0)
    assert unscheduled.pong_deadline() == 1010.0 + TIMEOUT


def test_ping_overdue_only_strictly_after_the_deadline(clock):
    """P-31, P-32: exactly at the deadline the client is still in time."""
    state = pinged(clock)
    deadline = state.pong_deadline()
    assert deadline == clock.now + TIMEOUT
    assert not state.ping_overdue(deadline - 1.0)
    assert not state.ping_overdue(deadline)
    assert state.ping_overdue(math.nextafter(deadline, math.inf))
    assert state.ping_overdue(deadline + 1.0)


def test_pong_deadline_runs_from_last_packet_seen_after_the_ping(clock):
    """P-31: a pong queued behind a burst of messages is not a timeout."""
    state = pinged(clock)
    ping_at = clock.now
    for _ in range(5):
        assert state.received(MESSAGE, clock.advance(TIMEOUT - 1.0))
    assert clock.now > ping_at + TIMEOUT
    assert state.pong_deadline() == clock.now + TIMEOUT
    assert not state.ping_overdue(clock.now + TIMEOUT)
    assert state.ping_overdue(clock.now + TIMEOUT + 0.5)
    assert state.pong()
    assert not state.ping_overdue(clock.now + 10 * TIMEOUT)


def test_packet_seen_before_the_ping_does_not_extend_its_deadline(clock):
    """P-31: the deadline is the later of ping and last packet, not the last packet alone."""
    state = connected()
    state.next_ping(clock.now)
    assert state.received(MESSAGE, clock.advance(INTERVAL - 1.0))
    assert state.ping(clock.advance(1.0))
    assert state.pong_deadline() == clock.now + TIMEOUT


def test_pong_answers_the_pending_ping_and_clears_the_deadline(clock):
    """P-30, P-31: after the pong nothing is due until the next ping."""
    state = pinged(clock)
    assert state.received(PONG, clock.advance(1.0))
    assert state.pong() is True
    assert state.last_ping is None
    assert state.pong_deadline() is None
    assert not state.ping_overdue(clock.advance(10 * TIMEOUT))
    assert state.pong_check(clock.now) is None


def test_pong_without_a_pending_ping_is_not_an_answer(clock):
    """P-26: an unsolicited pong is accepted but answers nothing (no new ping scheduled)."""
    state = connected()
    assert state.received(PONG, clock.now)
    assert state.pong() is False
    answered = pinged(clock)
    assert answered.pong() is True
    assert answered.pong() is False


def test_next_ping_after_a_pong_is_due_ping_interval_after_it(clock):
    """P-30: then ping_interval after each pong; its lateness is measured from there."""
    state = pinged(clock)
    assert state.pong()
    pong_at = clock.advance(2.0)
    assert state.next_ping(pong_at) == INTERVAL
    assert state.ping_due == pong_at + INTERVAL
    assert state.ping(clock.advance(INTERVAL + 4.0))
    assert state.last_ping == pong_at + INTERVAL


def test_pong_check_waits_the_seconds_left_before_the_deadline(clock):
    """P-31: a pong timer that fires early is re-armed for the time left."""
    state = pinged(clock)
    assert state.pong_check(clock.now) == TIMEOUT
    assert state.pong_check(clock.advance(5.0)) == TIMEOUT - 5.0
    state.received(NOOP, clock.advance(5.0))
    assert state.pong_check(clock.now) == TIMEOUT


def test_pong_check_reports_a_timeout_once_the_deadline_passed(clock):
    """P-31: 0.0 tells the caller to close the session (ping timeout)."""
    state = pinged(clock)
    assert state.pong_check(clock.advance(TIMEOUT + 0.5)) == 0.0
    assert state.pong_check(clock.advance(100.0)) == 0.0


def test_pong_check_has_nothing_to_do_after_pong_close_or_unmonitored(clock):
    """P-31, P-33: None means no timer to re-arm."""
    answered = pinged(clock)
    answered.pong()
    assert answered.pong_check(clock.now + TIMEOUT + 1.0) is None
    closed = pinged(clock)
    closed.begin_close()
    closed.finish_close()
    assert closed.pong_check(clock.now + TIMEOUT + 1.0) is None
    unmonitored = pinged(clock, monitor=False)
    assert unmonitored.pong_check(clock.now + TIMEOUT + 1.0) is None


def test_pong_check_still_times_out_a_session_that_is_only_closing(clock):
    """P-31: closing is not closed yet; a silent client still times out."""
    state = pinged(clock)
    assert state.begin_close()
    assert state.pong_check(clock.advance(TIMEOUT + 1.0)) == 0.0


def test_unmonitored_session_still_pings_but_is_never_overdue(clock):
    """P-33: monitor_clients=False disables timeout detection; pings still go out."""
    state = SessionState(INTERVAL, TIMEOUT, monitor=False)
    state.connected = True
    assert state.next_ping(clock.now) == INTERVAL
    assert state.ping(clock.advance(INTERVAL)) is True
    assert state.last_ping == clock.now
    assert state.pong_deadline() is None
    assert not state.ping_overdue(clock.advance(1000 * TIMEOUT))
    assert state.pong() is True


@pytest.mark.parametrize('finish', [False, True], ids=['closing', 'closed'])
def test_no_ping_once_the_session_is_closing(clock, finish):
    """P-28, P-31: a closing or closed session sends no ping and arms no deadline."""
    state = connected()
    state.next_ping(clock.now)
    assert state.begin_close()
    if finish:
        state.finish_close()
    assert state.ping(clock.advance(INTERVAL)) is False
    assert state.last_ping is None
    assert state.pong_deadline() is None


@pytest.mark.parametrize('ptype', [MESSAGE, PONG, CLOSE, NOOP])
def test_received_accepts_the_packet_types_a_client_may_send(clock, ptype):
    """P-26: message, pong, close and noop are allowed and are a sign of life."""
    state = connected()
    assert state.received(ptype, clock.advance(3.0)) is True
    assert state.last_seen == clock.now


@pytest.mark.parametrize('ptype', [OPEN, PING, UPGRADE, 7, 8, 9])
def test_received_refuses_open_ping_upgrade_and_unknown_types(clock, ptype):
    """P-26: open, plain ping, stray upgrade and 7-9 are protocol errors.

    The packet still arrived, so it still counts as the client's last sign of life.
    """
    state = connected()
    assert state.received(ptype, clock.advance(3.0)) is False
    assert state.last_seen == clock.now


_times = st.floats(min_value=0.0, max_value=1e6, allow_nan=False, allow_infinity=False)
_durations = st.floats(min_value=0.001, max_value=1e4, allow_nan=False, allow_infinity=False)


@given(
    interval=_durations,
    timeout=_durations,
    scheduled=_times,
    lateness=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
    seen=st.lists(_times, max_size=5),
    now=_times,
    monitor=st.booleans(),
)
def test_overdue_iff_silent_past_timeout_after_later_of_ping_and_last_packet(
    interval, timeout, scheduled, lateness, seen, now, monitor
):
    """P-31, P-33: overdue iff monitored and now > max(ping, last packet) + ping_timeout.

    The ping counts from its due time when it went out late.
    """
    state = SessionState(interval, timeout, monitor)
    state.next_ping(scheduled)
    sent = state.ping_due + lateness
    assert state.ping(sent)
    for at in seen:
        state.received(MESSAGE, at)
    last_ping = min(scheduled + interval, sent)
    last_seen = seen[-1] if seen else 0.0
    deadline = max(last_ping, last_seen) + timeout
    assert state.ping_overdue(now) == (monitor and now > deadline)
    check = state.pong_check(now)
    if monitor:
        assert check == max(deadline - now, 0.0)
        if state.ping_overdue(now):
            assert check == 0.0
    else:
        assert check is None


# -- polling (P-22..P-25) -----------------------------------------------------


def test_second_concurrent_get_is_refused():
    """P-23: a GET while another is pending is an overlap."""
    state = connected()
    assert state.begin_get() is True
    assert state.begin_get() is False
    assert state.polling


def test_second_concurrent_post_is_refused():
    """P-24: a POST while another is handled is an overlap."""
    state = connected()
    assert state.begin_post() is True
    assert state.begin_post() is False
    assert state.posting


def test_a_request_that_ended_makes_room_for_the_next():
    """P-23, P-24: only requests still in progress overlap."""
    state = connected()
    assert state.begin_get() and state.begin_post()
    state.end_request(post=False)
    assert state.begin_get()
    assert not state.begin_post()
    state.end_request(post=True)
    assert state.begin_post()


def test_a_probe_answered_at_time_zero_counts_as_answered():
    """P-41: the wait runs from the probe's answer even at the clock's origin."""
    state = connected()
    assert state.websocket_opened() == PROBE
    state.probe_answered_at(0.0)
    assert state.get_during_upgrade(-1.0, 0.0) == (WAIT, UPGRADE_NOOP_DELAY)


def test_get_and_post_may_overlap_each_other():
    """P-22, P-24: a long poll pending does not stop a POST, nor the reverse."""
    get_first = connected()
    assert get_first.begin_get() and get_first.begin_post()
    post_first = connected()
    assert post_first.begin_post() and post_first.begin_get()


def _state(posting=False, closing=False, closed=False, probe=False) -> SessionState:
    state = connected()
    if posting:
        assert state.begin_post()
    if closing or closed:
        assert state.begin_close()
    if closed:
        state.finish_close()
    if probe:
        assert state.websocket_opened() == PROBE
        state.probe_answered_at(1000.0)
    return state


@pytest.mark.parametrize(
    'situation, long_poll, queued, expected',
    [
        ({}, True, False, WAIT),
        ({}, True, True, TAKE),
        ({}, False, True, TAKE),
        ({}, False, False, WAIT),
        ({'posting': True}, True, True, WAIT),
        ({'posting': True}, False, True, WAIT),
        ({'closing': True}, True, True, WAIT),
        ({'closing': True}, True, False, WAIT),
        ({'closed': True}, True, False, TAKE),
        ({'closed': True}, True, True, TAKE),
        ({'closed': True, 'posting': True}, True, False, WAIT),
        ({'closed': True, 'posting': True}, True, True, WAIT),
        ({'probe': True}, True, True, NOOP_ONLY),
        ({'probe': True}, True, False, NOOP_ONLY),
        ({'probe': True, 'posting': True}, True, True, NOOP_ONLY),
        ({'probe': True}, False, True, TAKE),
        ({'probe': True}, False, False, WAIT),
    ],
    ids=[
        'idle-empty-waits',
        'idle-queued-takes',
        'writer-queued-takes',
        'writer-empty-waits',
        'posting-holds-for-poll',
        'posting-holds-for-writer',
        'closing-holds-queued',
        'closing-empty-waits',
        'closed-empty-takes-nothing',
        'closed-queued-takes',
        'posting-while-closed-empty-waits',
        'posting-while-closed-queued-waits',
        'long-poll-after-probe-noop',
        'long-poll-after-probe-empty-noop',
        'long-poll-after-probe-posting-noop',
        'writer-after-probe-takes',
        'writer-after-probe-empty-waits',
    ],
)
def test_poll_step(situation, long_poll, queued, expected):
    """P-22, P-25, P-40: what a poll does with what is queued, in every session state.

    Posting while closed waits for the POST to end (TAKE there made the poll loop spin);
    a long poll pending when the probe is answered gets a noop alone, while the
    websocket writer (not a long poll) still takes the queue.
    """
    assert _state(**situation).poll_step(long_poll, queued) == expected


def test_poll_step_takes_the_held_packets_once_the_post_ends():
    """P-22, P-25: what a POST produced leaves in one response after it."""
    state = connected()
    assert state.begin_post()
    assert state.poll_step(True, True) == WAIT
    state.end_request(post=True)
    assert state.poll_step(True, True) == TAKE


def test_poll_step_takes_what_a_close_held_once_it_is_closed():
    """P-22, P-28: the queue ending in 1 goes out once the close finished."""
    state = connected()
    assert state.begin_close()
    assert state.poll_step(True, True) == WAIT
    state.finish_close()
    assert state.poll_step(True, True) == TAKE


def test_long_poll_polls_as_usual_again_after_the_upgrade_failed():
    """P-40: any other frame aborts the upgrade; polling continues."""
    state = _state(probe=True)
    assert state.poll_step(True, True) == NOOP_ONLY
    state.end_upgrade(upgraded=False)
    assert state.poll_step(True, True) == TAKE


@pytest.mark.parametrize(
    'posting, closing, closed, probe, long_poll, queued',
    list(itertools.product([False, True], repeat=6)),
)
def test_poll_step_invariants(posting, closing, closed, probe, long_poll, queued):
    """P-22, P-25, P-40: never TAKE while posting or with nothing to give; noop iff probe."""
    state = _state(posting=posting, closing=closing, closed=closed, probe=probe)
    step = state.poll_step(long_poll, queued)
    assert (step == NOOP_ONLY) == (long_poll and probe)
    if step == TAKE:
        assert not posting
        assert queued or closed
        assert not (closing and not closed)


@pytest.mark.parametrize(
    'situation, queued, expected',
    [
        ({}, True, False),
        ({}, False, False),
        ({'posting': True}, True, True),
        ({'posting': True}, False, False),
        ({'closing': True}, True, True),
        ({'closing': True}, False, False),
        ({'closed': True}, True, False),
        ({'closed': True, 'posting': True}, True, True),
    ],
    ids=[
        'idle-queued',
        'idle-empty',
        'posting-queued',
        'posting-empty',
        'closing-queued',
        'closing-empty',
        'closed-queued',
        'posting-while-closed-queued',
    ],
)
def test_poll_expired_returns_held_packets_else_queue_empty(situation, queued, expected):
    """P-22: at the poll deadline held packets leave; an empty queue is QueueEmpty (False)."""
    assert _state(**situation).poll_expired(queued) is expected


# -- upgrade (P-40..P-43, F-05) -----------------------------------------------


def test_websocket_for_a_new_session_is_websocket_only():
    """P-43: a session not yet connected gets its websocket as its only transport."""
    state = SessionState(INTERVAL, TIMEOUT)
    assert state.websocket_opened() == ONLY
    assert not state.upgrading
    state.websocket_only()
    assert state.connected and state.upgraded
    assert not state.upgrading


def test_websocket_for_a_connected_polling_session_is_a_probe():
    """P-40: accepting the websocket marks the session upgrading."""
    state = connected()
    assert state.websocket_opened() == PROBE
    assert state.upgrading
    assert not state.upgraded


def test_second_websocket_while_upgrading_is_refused():
    """P-42, B-17: one websocket per session, even during the upgrade."""
    state = connected()
    assert state.websocket_opened() == PROBE
    assert state.websocket_opened() == REFUSE
    assert state.upgrading


def test_websocket_for_an_upgraded_session_is_refused():
    """P-42: an upgraded (or websocket-only) session keeps its live transport."""
    upgraded = connected()
    upgraded.websocket_opened()
    assert upgraded.upgrade_frame(UPGRADE)
    assert upgraded.websocket_opened() == REFUSE
    websocket_only = SessionState(INTERVAL, TIMEOUT)
    websocket_only.websocket_only()
    assert websocket_only.websocket_opened() == REFUSE


def test_answered_probe_releases_the_pending_long_poll_with_a_noop(clock):
    """P-40: once 3probe went out a long poll gets 6 alone; the queue waits for the websocket."""
    state = upgrading()
    assert state.poll_step(True, True) == TAKE
    state.probe_answered_at(clock.now)
    assert state.probe_answered == clock.now
    assert state.poll_step(True, True) == NOOP_ONLY


def test_upgrade_packet_after_probe_completes_the_upgrade(clock):
    """P-40: the client's 5 makes the session upgraded; upgrading ends."""
    state = upgrading()
    state.probe_answered_at(clock.now)
    assert state.upgrade_frame(UPGRADE) is True
    assert state.upgraded
    assert not state.upgrading
    assert state.probe_answered is None
    assert state.poll_step(True, True) == TAKE  # the websocket writer takes the queue


@pytest.mark.parametrize('ptype', [MESSAGE, PING, PONG, NOOP, CLOSE, OPEN])
def test_other_frame_after_probe_does_not_complete_the_upgrade(clock, ptype):
    """P-40: any frame but 5 aborts the upgrade (the caller ends it); polling continues."""
    state = upgrading()
    state.probe_answered_at(clock.now)
    assert state.upgrade_frame(ptype) is False
    assert not state.upgraded
    state.end_upgrade(upgraded=False)
    assert not state.upgrading
    assert state.probe_answered is None
    assert state.websocket_opened() == PROBE  # a later upgrade may try again


def test_upgrade_packet_after_the_upgrade_expired_does_not_upgrade(clock):
    """F-05: a 5 arriving after the upgrade timeout leaves the session on polling."""
    state = upgrading()
    state.probe_answered_at(clock.now)
    assert state.expire_upgrade() is True
    assert state.upgrade_frame(UPGRADE) is False
    assert not state.upgraded
    assert not state.upgrading


def test_upgrade_packet_after_close_does_not_upgrade(clock):
    """P-40: a closed session is not revived by a late 5."""
    state = upgrading()
    state.probe_answered_at(clock.now)
    assert state.begin_close()
    state.finish_close()
    assert state.upgrade_frame(UPGRADE) is False
    assert not state.upgraded


def test_upgrade_packet_without_an_upgrade_does_not_upgrade():
    """P-26: a stray 5 on a session that is not upgrading changes nothing."""
    state = connected()
    assert state.upgrade_frame(UPGRADE) is False
    assert not state.upgraded


def test_expire_upgrade_ends_an_unfinished_upgrade_once(clock):
    """F-05, B-17: the upgrade timeout fires once; a second firing does nothing."""
    state = upgrading()
    state.probe_answered_at(clock.now)
    assert state.expire_upgrade() is True
    assert not state.upgrading and not state.upgraded
    assert state.probe_answered is None
    assert state.expire_upgrade() is False


def test_expire_upgrade_never_undoes_a_completed_upgrade(clock):
    """F-05: the timer firing after the 5 leaves the session upgraded."""
    state = upgrading()
    assert state.upgrade_frame(UPGRADE)
    assert state.expire_upgrade() is False
    assert state.upgraded


def test_expire_upgrade_without_an_upgrade_does_nothing():
    """F-05: a polling session with no websocket has nothing to expire."""
    state = connected()
    assert state.expire_upgrade() is False
    assert not state.upgrading and not state.upgraded


def test_get_arriving_before_the_probe_answer_waits_from_the_answer(clock):
    """P-41: the noop comes UPGRADE_NOOP_DELAY after the probe answer; the wait shrinks."""
    state = upgrading()
    arrival = clock.now
    answered = clock.advance(0.5)
    state.probe_answered_at(answered)
    step, wait = state.get_during_upgrade(arrival, clock.now)
    assert step == WAIT
    assert wait == pytest.approx(UPGRADE_NOOP_DELAY)
    step, later_wait = state.get_during_upgrade(arrival, clock.advance(UPGRADE_NOOP_DELAY / 4))
    assert step == WAIT
    assert later_wait == pytest.approx(UPGRADE_NOOP_DELAY * 3 / 4)
    assert 0 < later_wait < wait
    assert state.get_during_upgrade(arrival, answered + UPGRADE_NOOP_DELAY) == (NOOP_ONLY, 0.0)


def test_get_arriving_after_the_probe_answer_waits_from_its_arrival(clock):
    """P-41: a GET racing the client's 5 gets UPGRADE_NOOP_DELAY for the 5 to land."""
    state = upgrading()
    state.probe_answered_at(clock.now)
    arrival = clock.advance(2.0)
    step, wait = state.get_during_upgrade(arrival, arrival)
    assert step == WAIT
    assert wait == pytest.approx(UPGRADE_NOOP_DELAY)
    step, wait = state.get_during_upgrade(arrival, clock.advance(UPGRADE_NOOP_DELAY / 2))
    assert step == WAIT
    assert wait == pytest.approx(UPGRADE_NOOP_DELAY / 2)
    almost = math.nextafter(arrival + UPGRADE_NOOP_DELAY, -math.inf)
    assert state.get_during_upgrade(arrival, almost)[0] == WAIT
    assert state.get_during_upgrade(arrival, arrival + UPGRADE_NOOP_DELAY) == (NOOP_ONLY, 0.0)
    assert state.get_during_upgrade(arrival, arrival + 1.0) == (NOOP_ONLY, 0.0)


def test_get_before_any_probe_answer_waits_from_its_arrival(clock):
    """P-41: with no 3probe sent yet the delay counts from the GET itself."""
    state = upgrading()
    arrival = clock.now
    assert state.get_during_upgrade(arrival, arrival)[0] == WAIT
    assert state.get_during_upgrade(arrival, arrival + UPGRADE_NOOP_DELAY) == (NOOP_ONLY, 0.0)


@given(
    arrival=st.floats(min_value=1.0, max_value=1e6, allow_nan=False),
    answered=st.floats(min_value=1.0, max_value=1e6, allow_nan=False),
    elapsed=st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
)
def test_get_during_upgrade_waits_until_delay_after_later_of_arrival_and_answer(
    arrival, answered, elapsed
):
    """P-41: WAIT until max(arrival, probe answer) + UPGRADE_NOOP_DELAY, NOOP_ONLY from then on."""
    state = connected()
    state.websocket_opened()
    state.probe_answered_at(answered)
    end = max(arrival, answered) + UPGRADE_NOOP_DELAY
    now = max(arrival, answered) + elapsed
    step, wait = state.get_during_upgrade(arrival, now)
    if end - now > 0:
        assert step == WAIT
        assert wait == end - now
    else:
        assert (step, wait) == (NOOP_ONLY, 0.0)


def test_get_after_the_upgrade_completed_is_invalid_held_until_the_delay_after_the_probe(clock):
    """P-21, P-41, TS-22: the sid is no longer polling once upgraded (400).

    The 400 waits until UPGRADE_NOOP_DELAY after the 3probe, so that the
    suite's client, reading both connections at once, has the 3probe first.
    """
    state = upgrading()
    answered = clock.now
    state.probe_answered_at(answered)
    arrival = clock.now
    assert state.upgrade_frame(UPGRADE)
    assert state.upgraded_probe == answered
    step, hold = state.get_during_upgrade(arrival, clock.advance(0.01))
    assert step == INVALID
    assert hold == pytest.approx(UPGRADE_NOOP_DELAY - 0.01)
    assert state.refusal_hold(clock.now) == hold
    almost = math.nextafter(answered + UPGRADE_NOOP_DELAY, -math.inf)
    assert state.refusal_hold(almost) > 0
    assert state.get_during_upgrade(arrival, answered + UPGRADE_NOOP_DELAY) == (INVALID, 0.0)
    assert state.refusal_hold(answered + 60.0) == 0.0


@given(
    answered=st.floats(min_value=0, max_value=1e6),
    later=st.floats(min_value=0, max_value=1.0),
)
def test_refusal_hold_never_outlasts_the_delay_after_the_probe(answered, later):
    """P-41: the hold runs out UPGRADE_NOOP_DELAY after the answer, never longer."""
    state = upgrading()
    state.probe_answered_at(answered)
    assert state.upgrade_frame(UPGRADE)
    now = answered + later
    hold = state.refusal_hold(now)
    assert hold == max(0.0, answered + UPGRADE_NOOP_DELAY - now)
    assert 0.0 <= hold <= UPGRADE_NOOP_DELAY or hold == pytest.approx(UPGRADE_NOOP_DELAY)


def test_refusal_hold_is_zero_without_a_probe():
    """P-43: a session opened on a websocket had no 3probe to wait for."""
    state = SessionState(25.0, 20.0)
    state.websocket_only()
    assert state.refusal_hold(0.0) == 0.0
    assert state.get_during_upgrade(0.0, 0.0) == (INVALID, 0.0)


def test_a_failed_upgrade_leaves_no_refusal_hold(clock):
    """P-40: only a completed upgrade's probe holds a later refusal."""
    state = upgrading()
    state.probe_answered_at(clock.now)
    assert not state.upgrade_frame(MESSAGE)
    state.end_upgrade(upgraded=False)
    assert state.upgraded_probe is None
    assert state.refusal_hold(clock.now) == 0.0


@pytest.mark.parametrize('how', ['other-frame', 'timeout'])
def test_get_after_the_upgrade_failed_polls_as_usual(clock, how):
    """P-40, F-05: a failed upgrade sends the waiting GET back to a normal poll."""
    state = upgrading()
    state.probe_answered_at(clock.now)
    arrival = clock.now
    if how == 'timeout':
        assert state.expire_upgrade()
    else:
        assert not state.upgrade_frame(MESSAGE)
        state.end_upgrade(upgraded=False)
    assert state.get_during_upgrade(arrival, clock.advance(0.01)) == (POLL, 0.0)


def test_get_during_an_upgrade_of_a_closed_session_stops_waiting(clock):
    """P-22, P-41: a close ends the wait; the poll then sees the closed session."""
    state = upgrading()
    state.probe_answered_at(clock.now)
    assert state.begin_close()
    state.finish_close()
    assert state.get_during_upgrade(clock.now, clock.now) == (POLL, 0.0)


def test_get_without_an_upgrade_polls_as_usual(clock):
    """P-41: only an upgrading session holds a GET."""
    assert connected().get_during_upgrade(clock.now, clock.now) == (POLL, 0.0)


# -- closing (P-22, P-27, P-28, P-44) -----------------------------------------


def test_begin_close_only_once():
    """P-28, S-33: the close runs once; later attempts are told it is under way."""
    state = connected()
    assert state.begin_close() is True
    assert state.closing and not state.closed
    assert state.begin_close() is False
    state.finish_close()
    assert state.closed
    assert state.begin_close() is False


def test_finished_close_releases_a_waiting_poll():
    """P-22: a pending GET ends (TAKE, possibly nothing) once the session is closed."""
    state = connected()
    assert state.begin_get()
    assert state.begin_close()
    assert state.poll_step(True, False) == WAIT
    state.finish_close()
    assert state.poll_step(True, False) == TAKE


def test_client_disconnect_ends_a_pending_poll_with_noop():
    """P-27: the client's own close releases its GET with 6."""
    assert protocol.close_packet_type(CLIENT_DISCONNECT) == NOOP


@pytest.mark.parametrize(
    'reason', [SERVER_DISCONNECT, PING_TIMEOUT, TRANSPORT_ERROR, TRANSPORT_CLOSE]
)
def test_other_close_reasons_end_a_pending_poll_with_close(reason):
    """P-22, P-28, P-31: a server-side close releases the GET with 1."""
    assert protocol.close_packet_type(reason) == CLOSE


def test_reader_failure_on_oversized_message_closes_with_1009():
    """H-43, F-09: too big -> transport error, 'payload too large', close code 1009."""
    error = ContentTooLongError('1048577 > 1048576')
    assert protocol.reader_failure(error) == ('payload too large', TRANSPORT_ERROR, MESSAGE_TOO_BIG)
    assert MESSAGE_TOO_BIG == 1009


@pytest.mark.parametrize('error', [DecodeError('bad frame'), UnknownPacketError('7')])
def test_reader_failure_on_invalid_frame_is_a_parse_error(error):
    """P-26, P-44, F-09: an invalid frame -> transport error, 'parse error', normal close."""
    assert protocol.reader_failure(error) == ('parse error', TRANSPORT_ERROR, None)


@pytest.mark.parametrize(
    'error',
    [
        ConnectionResetError(104, 'reset'),
        OSError('broken pipe'),
        ValueError('not a DecodeError'),
        EncodeError('lone surrogate'),
        RuntimeError('driver bug'),
    ],
)
def test_reader_failure_on_other_errors_is_a_plain_transport_error(error):
    """P-44: read failures -> transport error, no close detail, normal close."""
    assert protocol.reader_failure(error) == (None, TRANSPORT_ERROR, None)


def test_a_second_websocket_waits_for_the_probe_and_the_delay_after_it(clock):
    """P-42: while upgrading, the refusal of a second websocket is held like a poll's 400."""
    state = upgrading()
    assert state.probe_pending()
    assert state.refusal_hold(clock.now) == 0.0  # nothing answered yet: the caller waits
    answered = clock.now
    state.probe_answered_at(answered)
    assert not state.probe_pending()
    assert state.refusal_hold(clock.advance(0.03)) == pytest.approx(UPGRADE_NOOP_DELAY - 0.03)
    assert state.upgrade_frame(UPGRADE)
    assert state.refusal_hold(answered + UPGRADE_NOOP_DELAY) == 0.0
    assert not connected().probe_pending()
