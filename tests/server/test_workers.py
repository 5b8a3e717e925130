"""The threading mode's worker pool (issue 8): jobs run, join waits, idle threads retire."""

from __future__ import annotations

import logging
import threading
import time

from engineio_fast._workers import WorkerPool


def test_jobs_run_and_join_waits_for_them():
    pool = WorkerPool(logging.getLogger('test'), idle_timeout=5)
    done = []
    release = threading.Event()

    def job(n):
        release.wait(5)
        done.append(n)

    jobs = [pool.submit(job, n) for n in range(5)]
    assert done == []
    release.set()
    for j in jobs:
        j.join(5)
    assert sorted(done) == [0, 1, 2, 3, 4]


def test_idle_workers_are_reused_then_retire():
    pool = WorkerPool(logging.getLogger('test'), idle_timeout=0.3)
    names = []
    for _ in range(20):
        pool.submit(lambda: names.append(threading.current_thread().name)).join(5)
    assert len(set(names)) == 1  # one worker served every sequential job
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(t.name == names[0] for t in threading.enumerate()):
        time.sleep(0.05)
    assert not any(t.name == names[0] for t in threading.enumerate())


def test_a_failing_job_is_logged_and_the_worker_survives(caplog):
    pool = WorkerPool(logging.getLogger('test.workers'), idle_timeout=5)
    pool.submit(lambda: 1 / 0).join(5)
    assert 'background job error' in caplog.text
    result = []
    pool.submit(result.append, 'still working').join(5)
    assert result == ['still working']


def _worker_threads(pool: WorkerPool) -> list:
    return [t for t in threading.enumerate() if getattr(t, '_target', None) == pool._work]


def test_shutdown_ends_idle_workers_before_returning():
    """Server.shutdown() leaves no idle worker behind (python-socketio's admin tests count threads)."""
    pool = WorkerPool(logging.getLogger('test'), idle_timeout=60)
    release = threading.Event()
    jobs = [pool.submit(release.wait, 5) for _ in range(3)]
    release.set()
    for job in jobs:
        job.join(5)
    assert len(_worker_threads(pool)) == 3  # idle, waiting up to 60 s for work
    pool.shutdown()
    assert _worker_threads(pool) == []


def test_after_shutdown_a_busy_worker_ends_with_its_job_and_new_jobs_still_run():
    pool = WorkerPool(logging.getLogger('test'), idle_timeout=60)
    release = threading.Event()
    busy = pool.submit(release.wait, 5)
    pool.shutdown()
    assert len(_worker_threads(pool)) == 1
    release.set()
    busy.join(5)
    deadline = time.monotonic() + 5
    while _worker_threads(pool) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _worker_threads(pool) == []
    result = []
    pool.submit(result.append, 'late').join(5)
    assert result == ['late']
