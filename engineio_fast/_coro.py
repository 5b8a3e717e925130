"""Driving the shared request and session flows from sync and async code.

The flows of ``base_server`` and ``base_socket`` are written once, as
coroutines.  ``AsyncServer`` awaits them.  ``Server`` runs them with
``run_sync``: their I/O calls block (a WSGI stream, a threading event), so a
flow never suspends and one ``send(None)`` runs it to the end.  ``settle``
lets a flow call a method that is plain on ``Server`` and a coroutine on
``AsyncServer`` (or that an application patched either way).  ``resume``
finishes, on a task, a coroutine that was started by hand (stepped inline
to save a task when it does not suspend) and did suspend.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Coroutine


def run_sync(flow: Coroutine) -> Any:
    """Run a coroutine that never suspends; its result."""
    try:
        flow.send(None)
    except StopIteration as done:
        return done.value
    flow.close()
    raise RuntimeError('a sync flow awaited an asynchronous operation')


async def settle(value: Any) -> Any:
    """``value``, awaited first if it is awaitable."""
    if inspect.isawaitable(value):
        return await value
    return value


async def resume(flow: Coroutine, waiting: Any) -> None:
    """Drive ``flow``, suspended on what it yielded (``waiting``), to its end as its task would."""
    while True:
        if getattr(waiting, '_asyncio_future_blocking', False):
            # Reset as the task that received it would, or awaiting it fails.
            waiting._asyncio_future_blocking = False
        try:
            await (waiting if waiting is not None else asyncio.sleep(0))
        except Exception:  # noqa: S110 - the flow sees it when resumed
            pass
        try:
            waiting = flow.send(None)
        except StopIteration:
            return
