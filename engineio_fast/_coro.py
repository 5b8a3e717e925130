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
from types import CoroutineType
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


def must_await(value: Any) -> bool:
    """Whether a handler's result is awaitable (a coroutine, the usual case, first)."""
    return type(value) is CoroutineType or (value is not None and inspect.isawaitable(value))


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
    suspended = Suspended(flow, waiting, context)
    if context is None:
        hand_over(suspended, *args)
    else:
        context.run(hand_over, suspended, *args)
    return False


class Suspended:
    """A coroutine ``step`` ran inline until it suspended on ``waiting``."""

    __slots__ = ('flow', 'waiting', 'context')

    def __init__(self, flow: Coroutine, waiting: Any, context: Any = None):
        self.flow = flow
        self.waiting = waiting
        #: The context the flow runs in (None: the finishing task's).
        self.context = context

    async def finish(self, interrupt: BaseException | None = None) -> None:
        """Drive the flow to its end, as the task that did not run it would.

        ``interrupt`` is a cancellation that reached the finishing task before it
        began: the flow's wait is cancelled and the flow sees it at once.
        """
        flow = self.flow
        waiting = self.waiting
        context = self.context
        cancelled = interrupt
        if cancelled is not None and getattr(waiting, '_asyncio_future_blocking', False):
            waiting.cancel()  # as a task cancels the future it waits for
        while True:
            if cancelled is None:
                if getattr(waiting, '_asyncio_future_blocking', False):
                    # Reset as the task that received it would, or awaiting it fails.
                    waiting._asyncio_future_blocking = False
                try:
                    await (waiting if waiting is not None else asyncio.sleep(0))
                except Exception:  # the flow sees it when resumed
                    pass
                except BaseException as error:  # this task was cancelled: so is the flow
                    cancelled = error  # (thrown in where it waits)
            try:
                resume: Callable[[Any], Any] = flow.send if cancelled is None else flow.throw
                waiting = resume(cancelled) if context is None else context.run(resume, cancelled)
            except StopIteration:
                return
            cancelled = None

    def close(self) -> None:
        """Abandon the flow: it sees ``GeneratorExit`` where it waits, and
        releases what it holds (a driver's send lock, say)."""
        self.flow.close()
