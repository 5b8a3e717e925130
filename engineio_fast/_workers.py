"""A pool of reusable threads for the threading mode's short jobs.

How it works: ``submit`` puts the job on a queue and starts a thread only
when no worker is idle; a worker takes jobs until it has waited
``idle_timeout`` seconds for one, then exits.  Delivering a message on a
worker that already exists costs a queue handoff instead of a thread start
(issue 8: python-engineio starts a thread per message).
"""

from __future__ import annotations

import queue
import threading
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
            job._run(self._logger)
            with self._lock:
                self._idle += 1
            # After counting itself idle: whoever joins may submit again at once.
            job._done.set()
