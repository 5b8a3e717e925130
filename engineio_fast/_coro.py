"""Driving the shared request and session flows from sync and async code.

The flows of ``base_server`` and ``base_socket`` are written once, as
coroutines.  ``AsyncServer`` awaits them.  ``Server`` runs them with
``run_sync``: their I/O calls block (a WSGI stream, a threading event), so a
flow never suspends and one ``send(None)`` runs it to the end.  ``settle``
lets a flow call a method that is plain on ``Server`` and a coroutine on
``AsyncServer`` (or that an application patched either way).
"""

from __future__ import annotations

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
