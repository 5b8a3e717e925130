"""Ping-timeout lag with many idle sessions (B-18, P-31): a bounded script.

Usage: ``python bench/e2e/timer_lag.py [--sessions N] [--upstream-sessions M]``

Opens N sessions on an in-process threading ``Server`` (no HTTP: sessions are
created and scheduled the way a handshake does), never answers a ping, and
records for each session how long after its pong deadline (scheduled ping +
ping_timeout) the ``disconnect`` handler ran with ``ping timeout``.  Prints
p50/p99/max lag for engineio_fast, and for python-engineio 4.15.1 with M
sessions (its sweep plus a thread per ping make large M impractical).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import engineio

from engineio_fast import server as fast_server
from engineio_fast import socket as fast_socket

PING_INTERVAL = 0.5
PING_TIMEOUT = 0.5


def measure_fast(count: int) -> list[float]:
    """Lags (seconds) of engineio_fast's timeout closes."""
    eio = fast_server.Server(
        async_mode='threading', ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT
    )
    closed: dict[str, float] = {}
    done = threading.Event()

    def on_disconnect(sid, reason):
        assert reason == 'ping timeout', reason
        closed[sid] = time.monotonic()
        if len(closed) == count:
            done.set()

    eio.on('disconnect', on_disconnect)
    deadlines = {}
    for _ in range(count):
        sid = eio.generate_id()
        session = fast_socket.Socket(eio, sid)
        session.connected = True
        eio.sockets[sid] = session
        session.schedule_ping()
        deadlines[sid] = session.state.ping_due + PING_TIMEOUT
    assert done.wait(60), 'only %d of %d sessions closed' % (len(closed), count)
    eio.shutdown()
    return [closed[sid] - deadlines[sid] for sid in deadlines]


def measure_upstream(count: int) -> list[float]:
    """Lags of python-engineio 4.15.1 (its service task sweeps for timeouts)."""
    eio = engineio.Server(
        async_mode='threading', ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT
    )
    closed: dict[str, float] = {}
    done = threading.Event()

    def on_disconnect(sid, reason):
        closed[sid] = time.monotonic()
        if len(closed) == count:
            done.set()

    eio.on('disconnect', on_disconnect)
    eio.service_task_handle = eio.start_background_task(eio._service_task)
    deadlines = {}
    for _ in range(count):
        sid = eio.generate_id()
        session = engineio.socket.Socket(eio, sid)
        session.connected = True
        eio.sockets[sid] = session
        session.schedule_ping()
        # upstream pings after ping_interval, then waits ping_timeout for the pong
        deadlines[sid] = time.monotonic() + PING_INTERVAL + PING_TIMEOUT
    assert done.wait(120), 'only %d of %d sessions closed' % (len(closed), count)
    eio.shutdown()
    return [closed[sid] - deadlines[sid] for sid in deadlines if sid in closed]


def report(name: str, count: int, lags: list[float]) -> None:
    lags = sorted(lags)
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    print(
        '%-16s %6d sessions: lag p50 %6.1f ms, p99 %6.1f ms, max %6.1f ms'
        % (name, count, statistics.median(lags) * 1000, p99 * 1000, lags[-1] * 1000)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sessions', type=int, default=10_000)
    parser.add_argument('--upstream-sessions', type=int, default=1_000)
    args = parser.parse_args()
    report('engineio_fast', args.sessions, measure_fast(args.sessions))
    if args.upstream_sessions:
        report('python-engineio', args.upstream_sessions, measure_upstream(args.upstream_sessions))


if __name__ == '__main__':
    main()
