"""The sync timer service (threading mode) on a race seen under load."""

from __future__ import annotations

import logging
import threading

from engineio_fast._timers import TimerService


def start_thread(target):
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_stop_returns_when_a_timer_is_armed_while_it_waits():
    """S-17: ``shutdown()`` stops the heartbeat service even when a session arms a
    timer between the stop and the end of the old task (it used to hang forever)."""
    service: TimerService

    class RacingEvent(threading.Event):
        """The stop's wake-up lets another session arm a timer before the task sees it."""

        raced = False

        def set(self) -> None:
            if service._stopped and not RacingEvent.raced:
                RacingEvent.raced = True
                service.call_later(60, lambda: None)
            super().set()

    service = TimerService(start_thread, RacingEvent, logging.getLogger('test'))
    service.call_later(60, lambda: None)
    stopper = start_thread(service.stop)
    stopper.join(5)
    assert RacingEvent.raced
    assert not stopper.is_alive(), 'stop() hung'
    service.stop()


def test_a_timer_armed_after_stop_starts_no_task():
    """S-17: after ``shutdown()`` a closing session's timer starts no thread that would
    outlive the shutdown (python-socketio's admin tests count threads after it)."""
    started = []

    def start(target):
        thread = start_thread(target)
        started.append(thread)
        return thread

    ran = threading.Event()
    service = TimerService(start, threading.Event, logging.getLogger('test'))
    service.call_later(0, ran.set)
    assert ran.wait(5)
    service.stop()
    assert not started[0].is_alive()
    service.call_later(0, lambda: None)
    assert len(started) == 1 and service._task is None


def test_an_answered_ping_leaves_one_timer_per_session():
    """P-30, P-31: a pong cancels its ping's pong deadline when it arms the next ping.

    Left armed, each deadline lingered for ``ping_timeout``: a session pinged
    every second with a 20 s timeout held 20 stale timers (issue 17's idle
    websocket benchmark saw its memory grow with every ping).
    """
    import engineio_fast
    from engineio_fast._constants import PONG

    server = engineio_fast.Server(async_mode='threading', ping_interval=1, ping_timeout=20)
    try:
        session = server._new_socket('sid')
        server.sockets['sid'] = session
        session.schedule_ping()
        for _ in range(5):
            session._heartbeat[2] = None  # the ping timer fires:
            session._send_ping()  # the ping goes out, its pong deadline is armed
            session.state.received(PONG, session.state.last_ping)
            session.state.pong()
            session.schedule_ping()
        live = [entry for entry in server._timers._heap if entry[2] is not None]
        assert len(live) == 1, live
        assert live[0][2] == session._send_ping
    finally:
        server.shutdown()
