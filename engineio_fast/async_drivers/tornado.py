"""The ``tornado`` async mode: one tornado handler for polling and websockets.

How it works: ``get_tornado_handler(server)`` returns a ``WebSocketHandler``
subclass whose request methods all call ``server.handle_request``.
A websocket request is validated by the server before tornado sees the
upgrade, so a refusal is a plain HTTP answer; once accepted, tornado runs
its frame loop in a task while the session runs in the request's task.

A POST is handed to the server as soon as its headers arrive
(``stream_request_body``) and the server reads the body as tornado streams
it in, so it sees a POST in progress and answers a ``Content-Length``
over ``max_http_buffer_size`` unread, or a chunked body once it goes past the
limit; tornado then closes the connection rather than read the rest.
Of a body, at most ``max_http_buffer_size + 1`` bytes are kept.  Tornado's
own body limit (``max_body_size``, a bare 400 that would bypass the
session) is lifted for these POSTs, whose size the server bounds itself.
"""
# A-11..A-14, P-24, H-41

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import tornado.iostream
import tornado.web
import tornado.websocket

from .._constants import MESSAGE_TOO_BIG, NORMAL_CLOSURE
from ..exceptions import ContentTooLongError
from ._body import PulledBody
from ._environ import build_environ

#: Tornado's body limit for this handler's POSTs: none in effect, as the
#: server bounds what it reads and the rest is dropped.
_TORNADO_MAX_BODY = 1 << 62


class _Body(PulledBody):
    """A POST body as tornado streams it in, of which the server reads ``limit + 1`` bytes at most.

    Bytes past those are dropped: the server has refused the body by then.
    """

    def __init__(self, limit: int):
        self._room = limit + 1
        #: Fed by tornado, not pulled yet.
        self._pending = bytearray()
        self._ended = False
        self._error: Exception | None = None
        self._arrived = asyncio.Event()

    @classmethod
    def complete(cls, data: bytes) -> _Body:
        """A body already read whole."""
        body = cls(len(data))
        body.feed(data)
        body.end()
        return body

    def feed(self, chunk: bytes) -> None:
        """Add a chunk, or the part of it the server may still read."""
        if self._room > 0:
            part = chunk[: self._room]
            self._room -= len(part)
            self._pending += part
            self._arrived.set()

    def end(self, error: Exception | None = None) -> None:
        """The body is complete, or (``error``) cut short by the client."""
        if not self._ended:
            self._ended = True
            self._error = error
            self._arrived.set()

    async def pull(self, size_hint: int) -> bytes:
        """The bytes fed since the last pull, once there are some; ``b''`` at the end.

        Raises ``ConnectionResetError`` when the client left before sending
        the whole body, rather than hand over a truncated one.
        """
        while not self._pending and not self._ended:
            self._arrived.clear()
            await self._arrived.wait()
        if self._error is not None:
            raise self._error
        chunk = bytes(self._pending)
        self._pending.clear()
        return chunk


def _log_failure(task: asyncio.Future[Any], logger: Any) -> None:
    """Done callback of a POST's task: a client leaving mid-body is no error to log."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None and not isinstance(error, ConnectionError):
        logger.error('Engine.IO request failed', exc_info=error)


def get_tornado_handler(engineio_server: Any) -> type:
    """A tornado ``RequestHandler`` class serving ``engineio_server``.

    Route it on the Engine.IO path, e.g.
    ``(r'/engine.io/', get_tornado_handler(eio))``; it serves polling
    requests (the protocol's 400 for methods it does not use) and accepts
    websockets.

    :param engineio_server: the :class:`~engineio_fast.AsyncServer` to serve,
                            created with ``async_mode='tornado'``.
    :return: a ``tornado.websocket.WebSocketHandler`` subclass.
    """
    #

    @tornado.web.stream_request_body
    class Handler(tornado.websocket.WebSocketHandler):
        """Engine.IO endpoint: polling requests and websockets."""

        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.eio_body: _Body | None = None
            self.eio_post: asyncio.Future[Any] | None = None
            self.eio_messages: asyncio.Queue[str | bytes | None] = asyncio.Queue()
            self.eio_open = asyncio.Event()
            self.eio_too_big = False

        async def prepare(self) -> None:
            if self.request.method != 'POST':
                return
            connection = self.request.connection
            if connection is not None and hasattr(connection, 'set_max_body_size'):
                connection.set_max_body_size(_TORNADO_MAX_BODY)
            self.eio_body = _Body(engineio_server.max_http_buffer_size)
            # The server takes the request now and reads the body as it
            # comes; post() only waits for its answer.
            self.eio_post = asyncio.ensure_future(engineio_server.handle_request(self))
            self.eio_post.add_done_callback(lambda task: _log_failure(task, engineio_server.logger))

        def data_received(self, chunk: bytes) -> None:
            if self.eio_body is not None:
                self.eio_body.feed(chunk)  # another method's body is dropped

        def on_connection_close(self) -> None:
            if self.eio_body is not None:
                self.eio_body.end(ConnectionResetError('the client left during the body'))
            super().on_connection_close()

        async def get(self, *args: Any, **kwargs: Any) -> None:
            await engineio_server.handle_request(self)

        async def post(self, *args: Any, **kwargs: Any) -> None:
            # prepare() set both for this POST.
            self.eio_body.end()  # type: ignore[union-attr]
            await asyncio.wait({self.eio_post})  # type: ignore[type-var]

        async def options(self, *args: Any, **kwargs: Any) -> None:
            await engineio_server.handle_request(self)

        # The other methods get the protocol's 400 rather than tornado's 405
        # (P-05).
        head = put = delete = patch = options

        def compute_etag(self) -> None:
            # Polling answers are never cacheable: no ETag, so no 304.
            return None

        def check_xsrf_cookie(self) -> None:
            # Engine.IO clients never send tornado's XSRF token; sessions are
            # guarded by their sid and the server's CORS check instead.
            return None

        def _eio_origin_allowed(self, origin: str, default: Callable[[str], bool]) -> bool:
            # The server checks Origin itself before accepting a websocket or
            # a POST (H-10), answering with its own error; only with its CORS
            # handling off ([]) does tornado's policy apply.
            if engineio_server.cors_allowed_origins == []:
                return default(origin)
            return True

        def check_origin(self, origin: str) -> bool:
            return self._eio_origin_allowed(origin, super().check_origin)

        def check_trusted_origin(self, origin: str) -> bool:
            return self._eio_origin_allowed(origin, super().check_trusted_origin)

        @property
        def max_message_size(self) -> int:
            # A message up to twice the limit is read whole and the server
            # closes with 1009 (H-43); tornado drops a larger one from its
            # header, unread, so the client may miss tornado's own 1009 in
            # the reset of a socket closed with data pending.
            limit: int = engineio_server.max_http_buffer_size
            return 2 * limit

        def get_compression_options(self) -> dict[str, Any] | None:
            # permessage-deflate when the client offers it and it is asked for;
            # tornado takes a zlib level but no threshold or window (F-02).
            option = engineio_server.websocket_compression
            if not option.enabled:
                return None
            return {'compression_level': option.level}

        def get_websocket_protocol(self) -> Any:
            protocol = super().get_websocket_protocol()
            if protocol is not None:
                # Tornado drops an oversized message by closing with 1009 and
                # keeps no record of it: note it so the session learns why.
                close = protocol.close

                def close_noting_size(code: int | None = None, reason: str | None = None) -> None:
                    if code == MESSAGE_TOO_BIG:
                        self.eio_too_big = True
                    close(code, reason)

                protocol.close = close_noting_size  # type: ignore[method-assign]
            return protocol

        def open(self, *args: Any, **kwargs: Any) -> None:
            self.eio_open.set()

        def on_message(self, message: str | bytes) -> None:
            self.eio_messages.put_nowait(message)

        def on_close(self) -> None:
            self.eio_messages.put_nowait(None)

    return Handler


def translate_request(handler: tornado.web.RequestHandler) -> dict[str, Any]:
    """The environ of a tornado request, with the peer's address and scheme."""
    # A-11..A-13
    request = handler.request
    host = request.remote_ip
    port = None
    address = getattr(getattr(request.connection, 'context', None), 'address', None)
    # With xheaders, remote_ip is the client a proxy named; the socket's port
    # only belongs to the socket's own address.
    if isinstance(address, tuple) and len(address) >= 2 and address[0] == host:
        port = address[1]
    body = getattr(handler, 'eio_body', None)
    if body is None:
        # Not a POST, or a handler other than get_tornado_handler's, whose
        # body tornado read.
        body = _Body.complete(request.body or b'')
    environ = build_environ(
        'tornado',
        request.method,
        request.path,
        request.query,
        request.headers.get_all(),
        body,
        request.protocol,
        (host, port),
        request.version,
    )
    environ['tornado.handler'] = handler
    return environ


def make_response(
    status: str, headers: list[tuple[str, str]], payload: bytes, environ: dict[str, Any]
) -> None:
    """Write the response through the tornado handler; it is the refusal of a websocket too."""
    handler = environ['tornado.handler']
    code, _, reason = status.partition(' ')
    try:
        handler.set_status(int(code), reason or None)
        seen = set()
        for name, value in headers:
            key = name.lower()
            # set_header replaces tornado's defaults (Content-Type); a
            # repeated name (Set-Cookie) is added.
            if key in seen:
                handler.add_header(name, value)
            else:
                handler.set_header(name, value)
                seen.add(key)
        handler.write(payload)
        handler.finish()
    except RuntimeError:
        # The websocket was accepted already, or the request finished.
        pass


class WebSocket:
    """A tornado websocket carrying one Engine.IO session.

    A message over ``max_http_buffer_size`` reaches the server, which closes
    with 1009, unless it is over twice the limit: tornado then closes with
    1009 itself and ``wait()`` raises ``ContentTooLongError`` for the session.
    """

    # H-43

    def __init__(self, handler: Callable[[Any], Awaitable[Any]], server: Any):
        self.handler = handler
        self.server = server
        self.environ: dict[str, Any] | None = None
        self.tornado_handler: Any = None
        self._accepted = False
        self._closed_here = False

    async def __call__(self, environ: dict[str, Any]) -> None:
        """Accept the websocket and serve the session on it until it ends."""
        self.environ = environ
        handler = self.tornado_handler = environ['tornado.handler']
        # WebSocketHandler.get accepts, awaits open() and then runs the frame
        # loop until the connection ends: it needs its own task.
        accept = asyncio.ensure_future(tornado.websocket.WebSocketHandler.get(handler))
        opened = asyncio.ensure_future(handler.eio_open.wait())
        await asyncio.wait({accept, opened}, return_when=asyncio.FIRST_COMPLETED)
        opened.cancel()
        # Refused by tornado (bad headers, version): the session still runs,
        # sees a closed websocket and ends; tornado has answered the client.
        self._accepted = handler.eio_open.is_set()
        try:
            await self.handler(self)
        finally:
            await self.close()
            # The frame loop ends with the close handshake, or tornado's own
            # 5 s timeout for it.
            await accept

    async def wait(self) -> str | bytes | None:
        """The next message, or None once the websocket is closed.

        Raises ``ContentTooLongError`` when tornado closed the connection
        because the peer sent a message over the size limit.
        """
        if not self._accepted:
            return None
        messages: asyncio.Queue[str | bytes | None] = self.tornado_handler.eio_messages
        message = await messages.get()
        if message is None:
            messages.put_nowait(None)  # every later wait() sees the end too
            if self.tornado_handler.eio_too_big and not self._closed_here:
                raise ContentTooLongError()
        return message

    async def send(self, message: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message; OSError once closed."""
        if not self._accepted:
            raise OSError('websocket is closed')
        binary = not isinstance(message, str)
        try:
            await self.tornado_handler.write_message(message, binary=binary)
        except (tornado.websocket.WebSocketClosedError, tornado.iostream.StreamClosedError):
            raise OSError('websocket is closed') from None

    async def close(self, code: int | None = None) -> None:
        """Close the websocket with ``code`` (default 1000); nothing once closed."""
        handler = self.tornado_handler
        if not self._accepted or handler.ws_connection is None:
            return  # never accepted, or closed (by either side)
        self._closed_here = True
        handler.close(NORMAL_CLOSURE if code is None else code)

    def abort(self) -> None:
        """Drop the connection now, not after tornado's close timeout."""
        # P-31
        connection = self.tornado_handler.ws_connection if self.tornado_handler else None
        stream = getattr(connection, 'stream', None)
        if stream is not None:
            stream.close()  # a pending write fails with StreamClosedError


_async = {
    'asyncio': True,
    'translate_request': translate_request,
    'make_response': make_response,
    'websocket': WebSocket,
    'websocket_compression': frozenset({'negotiate', 'level'}),
}
