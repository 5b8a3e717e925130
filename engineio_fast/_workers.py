"""A pool of reusable threads for the threading mode's short jobs.

How it works: ``submit`` puts the job on a queue and starts a thread only
when no worker is idle; a worker takes jobs until it has waited
``idle_timeout`` seconds for one, then exits.  Delivering a message on a
worker that already exists costs a queue handoff instead of a thread start
(python-engineio starts a thread per message).  ``shutdown`` ends the
idle workers at once and lets busy ones end after their job, as
python-engineio's thread per job would; jobs submitted later still run.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable


class Job:
    """A submitted call; ``join()`` waits for it like ``Thread.join``."""

    __slots__ = ('_call', '_args', '_done')

    def __init__(self, call: Callable, args: tuple):
        self._call = call
        self._args = args
        self._done = threading.Event()

    def join(self, timeout: float | None = None) -> None:
        self._done.wait(timeout)

    def _run(self, logger: Any) -> None:
        try:
            self._call(*self._args)
        except Exception:
            logger.exception('background job error')


class WorkerPool:
    """Daemon threads that run submitted jobs and retire when idle."""

    def __init__(self, logger: Any, idle_timeout: float = 10.0):
        self._logger = logger
        self._idle_timeout = idle_timeout
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._closed = False
        self._retired: queue.SimpleQueue = queue.SimpleQueue()

    def submit(self, call: Callable, *args) -> Job:
        """Run ``call(*args)`` on a worker; the job, to join."""
        job = Job(call, args)
        with self._lock:
            start = self._idle == 0
            if not start:
                self._idle -= 1  # that worker is taken by this job
            self._jobs.put(job)
        if start:
            threading.Thread(target=self._work, daemon=True).start()
        return job

    def _work(self) -> None:
        jobs = self._jobs
        while True:
            try:
                job = jobs.get(timeout=self._idle_timeout)
            except queue.Empty:
                with self._lock:
                    if self._idle > 0 and jobs.empty():
                        self._idle -= 1
                        return
                continue  # a job was promised to this worker: take it
            if job is None:  # shutdown() retires this idle worker
                self._retired.put(threading.current_thread())
                return
            job._run(self._logger)
            with self._lock:
                closed = self._closed
                if not closed:
                    self._idle += 1
            # After counting itself idle: whoever joins may submit again at once.
            job._done.set()
            if closed:
                return

    def shutdown(self, timeout: float = 5.0) -> None:
        """End the idle workers now (joined) and the busy ones after their job.

        Called by ``Server.shutdown()``: python-engineio leaves no thread
        behind once its jobs end, and callers (python-socketio's tests among
        them) count threads right after shutting down.
        """
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, 0
            for _ in range(idle):
                self._jobs.put(None)
        deadline = time.monotonic() + timeout
        for _ in range(idle):
            try:
                worker = self._retired.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return
            worker.join(max(0.0, deadline - time.monotonic()))
