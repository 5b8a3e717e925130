"""Running a websocket session through a framework that may cancel its request task."""

from __future__ import annotations

import asyncio
from typing import Any, Callable


async def serve_shielded(ws: Any, on_cancel: Callable[[], None] | None = None) -> None:
    """Run ``ws.handler(ws)`` then ``ws.close()``, to the end even if the request is cancelled.

    aiohttp (``handler_cancellation``) and sanic cancel the request's task when
    the client goes; the session must still see the closed websocket and end
    (its disconnect handler runs).  ``on_cancel`` may wake a reader that would
    otherwise wait on the lost connection.
    """

    async def serve() -> None:
        await ws.handler(ws)
        await ws.close()

    session = asyncio.ensure_future(serve())
    try:
        await asyncio.shield(session)
    except asyncio.CancelledError:
        if on_cancel is not None:
            on_cancel()
        await asyncio.wait({session})
        raise
