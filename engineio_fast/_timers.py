"""One timer service per server: heartbeats without a task per socket.

How it works: ``call_later`` pushes ``(deadline, seq, callback)`` on a heap
and wakes the service task when the new deadline is the earliest.  The task
(a thread or greenlet from the server's driver, started on first use) sleeps
on the driver's event until the earliest deadline, then runs every due
callback.  Callbacks check their socket's state themselves, so a stale timer
(the socket closed or answered meanwhile) is harmless and nothing is
cancelled.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import threading
import time
from typing import Callable


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
        self._wakeup = None
        self._task = None
        self._stopped = False

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Run ``callback()`` on the service task after ``delay`` seconds."""
        deadline = time.monotonic() + delay
        with self._lock:
            heapq.heappush(self._heap, (deadline, next(self._seq), callback))
            earliest = self._heap[0][2] is callback
            if self._task is None:
                self._stopped = False
                self._wakeup = self._make_event()
                self._task = self._start_task(self._run)
                return
        if earliest:
            self._wakeup.set()

    def stop(self) -> None:
        """Stop the service task; pending callbacks are dropped."""
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
                # A call_later while stop() waited for this task starts a new
                # task with a new event and clears _stopped: this one must end.
                if self._stopped or self._wakeup is not wakeup:
                    return
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
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

    def call_later(self, delay: float, callback: Callable[[], object]) -> None:
        """Run ``callback()`` on the running loop after ``delay`` seconds."""
        asyncio.get_running_loop().call_later(delay, self._fire, self._generation, callback)

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
