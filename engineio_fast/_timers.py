"""One timer service per server: heartbeats without a task per socket.

How it works: ``call_later`` pushes ``[deadline, seq, callback]`` on a heap
and wakes the service task when the new deadline is the earliest.  The task
(a thread or greenlet from the server's driver, started on first use) sleeps
on the driver's event until the earliest deadline, then runs every due
callback.  Callbacks check their socket's state themselves, so a stale timer
is harmless; ``cancel`` only lets a closed socket go before the deadline
(its entry stays on the heap without the callback).
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import threading
import time
from typing import Any, Callable


class TimerService:
    """Runs callbacks at deadlines on one background task."""

    def __init__(self, start_task: Callable, make_event: Callable, logger):
        self._start_task = start_task
        self._make_event = make_event
        self._logger = logger
        self._heap: list = []
        self._seq = itertools.count()
        # Never held across I/O or callbacks, so safe under greenlets too.
        self._lock = threading.Lock()
        # The driver's event and thread/greenlet types.
        self._wakeup: Any = None
        self._task: Any = None
        self._stopped = False

    def call_later(self, delay: float, callback: Callable[[], None]) -> list:
        """Run ``callback()`` on the service task after ``delay`` seconds; returns a handle."""
        entry = [time.monotonic() + delay, next(self._seq), callback]
        with self._lock:
            if self._stopped:
                # Server.shutdown() ended the service for good: a session closing
                # afterwards must not start a thread that outlives the shutdown
                # (python-socketio's tests count threads after it).
                return entry
            heapq.heappush(self._heap, entry)
            earliest = self._heap[0] is entry
            if self._task is None:
                self._wakeup = self._make_event()
                self._task = self._start_task(self._run)
                return entry
        if earliest:
            self._wakeup.set()
        return entry

    @staticmethod
    def cancel(entry: list) -> None:
        """Drop the callback of a ``call_later`` that has not run."""
        entry[2] = None

    def stop(self) -> None:
        """Stop the service task for good; pending and later callbacks are dropped."""
        with self._lock:
            task, self._task = self._task, None
            self._stopped = True
            self._heap.clear()
            wakeup = self._wakeup
        if task is not None:
            wakeup.set()
            task.join()

    def _run(self) -> None:
        """Service loop: run due callbacks, then sleep until the next deadline."""
        wakeup = self._wakeup
        while True:
            due = []
            with self._lock:
                if self._stopped or self._wakeup is not wakeup:
                    return
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    callback = heapq.heappop(self._heap)[2]
                    if callback is not None:
                        due.append(callback)
                timeout = self._heap[0][0] - now if self._heap else None
                wakeup.clear()
            for callback in due:
                try:
                    callback()
                except Exception:
                    self._logger.exception('timer callback error')
            if not due:
                wakeup.wait(timeout)


class AsyncTimerService:
    """The asyncio flavour: each deadline is a ``loop.call_later`` handle.

    The event loop already keeps a heap of timers, so nothing runs between
    deadlines.  A callback returning an awaitable (an ``AsyncSocket``
    closing, a patched coroutine ``_send_ping``) has it run as a task.
    ``stop`` drops pending callbacks by bumping a generation number.
    """

    def __init__(self, spawn: Callable, logger):
        self._spawn = spawn
        self._logger = logger
        self._generation = 0

    def call_later(self, delay: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        """Run ``callback()`` on the running loop after ``delay`` seconds; returns a handle."""
        return asyncio.get_running_loop().call_later(delay, self._fire, self._generation, callback)

    @staticmethod
    def cancel(handle: asyncio.TimerHandle) -> None:
        """Drop a ``call_later`` that has not run."""
        handle.cancel()

    def stop(self) -> None:
        """Forget every pending callback."""
        self._generation += 1

    def _fire(self, generation: int, callback: Callable[[], object]) -> None:
        if generation != self._generation:
            return
        try:
            result = callback()
        except Exception:
            self._logger.exception('timer callback error')
            return
        if inspect.isawaitable(result):
            self._spawn(result)
