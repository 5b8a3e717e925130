"""Driving the shared request and session flows from sync and async code.

The flows of ``base_server`` and ``base_socket`` are written once, as
coroutines.  ``AsyncServer`` awaits them.  ``Server`` runs them with
``run_sync``: their I/O calls block (a WSGI stream, a threading event), so a
flow never suspends and one ``send(None)`` runs it to the end.  ``settle``
lets a flow call a method that is plain on ``Server`` and a coroutine on
``AsyncServer`` (or that an application patched either way).

``step`` is the one place where asyncio code runs a coroutine by hand: most
message deliveries and websocket writes finish without ever waiting, so
``AsyncServer`` runs them inline on the caller's stack instead of paying for
a task each, and hands over only those that do wait (to a new task, or to
the session's websocket writer, which keeps their order).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable, Coroutine, TypeVar

_T = TypeVar('_T')


def run_sync(flow: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine that never suspends; its result."""
    try:
        flow.send(None)
    except StopIteration as done:
        value: _T = done.value
        return value
    flow.close()
    raise RuntimeError('a sync flow awaited an asynchronous operation')


async def settle(value: Any) -> Any:
    """``value``, awaited first if it is awaitable."""
    if inspect.isawaitable(value):
        return await value
    return value


def step(flow: Coroutine, hand_over: Callable[..., Any], *args: Any, context: Any = None) -> bool:
    """Run ``flow`` inline until it first suspends; True if it ran to its end.

    If it suspends, ``hand_over(suspended, *args)`` gets it as a
    ``Suspended``, whose ``finish()`` completes it as its task would have.  With a
    ``contextvars.Context``, the flow runs in it and ``hand_over`` is called
    in it (a task created there starts from that context), as in a task.
    Errors of the inline part propagate to the caller.
    """
    try:
        waiting = flow.send(None) if context is None else context.run(flow.send, None)
    except StopIteration:
        return True
    suspended = Suspended(flow, waiting)
    if context is None:
        hand_over(suspended, *args)
    else:
        context.run(hand_over, suspended, *args)
    return False


class Suspended:
    """A coroutine ``step`` ran inline until it suspended on ``waiting``."""

    __slots__ = ('flow', 'waiting')

    def __init__(self, flow: Coroutine, waiting: Any):
        self.flow = flow
        self.waiting = waiting

    async def finish(self) -> None:
        """Drive the flow to its end, as the task that did not run it would."""
        flow = self.flow
        waiting = self.waiting
        while True:
            if getattr(waiting, '_asyncio_future_blocking', False):
                # Reset as the task that received it would, or awaiting it fails.
                waiting._asyncio_future_blocking = False
            cancelled = None
            try:
                await (waiting if waiting is not None else asyncio.sleep(0))
            except Exception:  # the flow sees it when resumed
                pass
            except BaseException as error:  # this task was cancelled: so is the flow
                cancelled = error  # (thrown in where it waits)
            try:
                waiting = flow.send(None) if cancelled is None else flow.throw(cancelled)
            except StopIteration:
                return

    def close(self) -> None:
        """Abandon the flow: it sees ``GeneratorExit`` where it waits, and
        releases what it holds (a driver's send lock, say)."""
        self.flow.close()
