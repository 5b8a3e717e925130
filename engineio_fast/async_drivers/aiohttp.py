"""The ``aiohttp`` async mode: aiohttp.web requests and websockets."""
# A-11..A-14

from __future__ import annotations

from typing import Any, Awaitable, Callable

from aiohttp import WSMsgType, web
from aiohttp.http_exceptions import ContentEncodingError
from aiohttp.http_websocket import WebSocketError

from .._constants import MESSAGE_TOO_BIG, NORMAL_CLOSURE
from ..exceptions import ContentTooLongError, DecodeError
from ._body import PulledBody
from ._close_codes import check_close_code
from ._environ import build_environ
from ._shielded import serve_shielded


class _Body(PulledBody):
    """``wsgi.input`` over aiohttp's request stream, read only as far as asked."""

    #

    def __init__(self, stream: Any):
        self._stream = stream

    async def pull(self, size_hint: int) -> bytes:
        """What aiohttp has buffered, up to ``size_hint`` bytes (all the rest when -1).

        A body aiohttp could not inflate is a ``DecodeError``; any
        other failure of the body a ``ConnectionResetError``.
        """
        # P-25
        try:
            return await self._stream.read(size_hint)
        except web.RequestPayloadError as exc:
            if isinstance(exc.__cause__, ContentEncodingError):
                raise DecodeError('Invalid compressed data') from None
            raise ConnectionResetError(str(exc)) from None


def create_route(app: web.Application, engineio_server: Any, engineio_endpoint: str) -> None:
    """Serve ``engineio_endpoint`` of ``app`` with the server (``AsyncServer.attach``).

    Every method goes to the server, GET, POST and OPTIONS included, so the
    others get the protocol's 400 rather than aiohttp's 405.
    """
    # P-05
    app.router.add_route('*', engineio_endpoint, engineio_server.handle_request)


def translate_request(request: web.BaseRequest) -> dict:
    """The environ of an aiohttp request, with the peer's address and scheme."""
    # A-11..A-13
    host = request.remote
    port = None
    transport = request.transport
    peer = transport.get_extra_info('peername') if transport is not None else None
    # A proxy middleware may have replaced request.remote with the client it
    # names; the socket's port only belongs to the socket's own address.
    if isinstance(peer, (tuple, list)) and len(peer) >= 2 and (host is None or host == peer[0]):
        host, port = peer[0], peer[1]
    environ = build_environ(
        'aiohttp',
        request.method,
        request.path,
        # the raw form: a decoded query string could not be split on & and =
        request.rel_url.raw_query_string,
        request.headers.items(),
        _Body(request.content),
        request.scheme,
        (host, port),
        'HTTP/%d.%d' % tuple(request.version),
    )
    if request.message.compression is not None:
        # aiohttp inflates gzip/deflate/br/zstd bodies itself: the engine gets
        # the inflated bytes, of a length the header does not give.
        environ.pop('HTTP_CONTENT_ENCODING', None)
        environ.pop('CONTENT_LENGTH', None)
    environ['aiohttp.request'] = request
    return environ


def make_response(
    status: str, headers: list[tuple[str, str]], payload: bytes, environ: dict
) -> web.Response:
    """An aiohttp response; on a refused websocket request it is the refusal itself."""
    code, _, reason = status.partition(' ')
    return web.Response(body=payload, status=int(code), reason=reason or None, headers=headers)


class WebSocket:
    """An aiohttp websocket carrying one Engine.IO session.

    A message over ``max_http_buffer_size`` but within twice that is read
    whole and handed to the server, which closes with 1009.  aiohttp
    refuses a larger one from its frame header, unread, also with 1009, and
    ``wait()`` raises ``ContentTooLongError`` for the session to close; the
    client may then miss the close frame, as closing a socket with unread
    data resets it.  Reading a message whole is what lets the client see
    1009, hence the margin.
    """

    # H-43

    def __init__(self, handler: Callable[[Any], Awaitable[Any]], server: Any):
        self.handler = handler
        self.server = server
        self.environ: dict | None = None
        self._ws: web.WebSocketResponse | None = None

    async def __call__(self, environ: dict) -> web.StreamResponse:
        """Accept the websocket, serve the session on it, and return it to aiohttp."""
        self.environ = environ
        request = environ['aiohttp.request']
        # aiohttp refuses a message of max_msg_size bytes or more: one byte
        # more than the margin of twice the limit.
        # aiohttp negotiates permessage-deflate when told to, and sets level
        # and window itself (F-02: only on/off applies).
        compress = self.server.websocket_compression.enabled
        ws = web.WebSocketResponse(
            max_msg_size=2 * self.server.max_http_buffer_size + 1, compress=compress
        )
        # Extra 101 headers, such as the session cookie (H-21).
        ws.headers.extend(environ.get('engineio_fast.websocket_headers') or [])
        try:
            await ws.prepare(request)
        except web.HTTPException as refusal:
            # Malformed handshake headers: the session still runs, sees a
            # closed websocket and ends; the client gets aiohttp's refusal.
            await self.handler(self)
            return web.Response(status=refusal.status, text=refusal.text)
        self._ws = ws
        await serve_shielded(self)
        return ws

    async def wait(self) -> str | bytes | None:
        """The next message, or None once the websocket is closed.

        Raises ``ContentTooLongError`` when the peer sent a message over the
        size limit.
        """
        ws = self._ws
        if ws is None or ws.closed:
            return None
        try:
            msg = await ws.receive()
        except ConnectionError:
            return None
        if msg.type is WSMsgType.TEXT or msg.type is WSMsgType.BINARY:
            return msg.data
        if (
            msg.type is WSMsgType.ERROR
            and isinstance(msg.data, WebSocketError)
            and msg.data.code == MESSAGE_TOO_BIG
        ):
            raise ContentTooLongError()
        if msg.type is WSMsgType.ERROR and isinstance(msg.data, WebSocketError):
            check_close_code(msg.data.code)  # an invalid frame
        elif msg.type is WSMsgType.CLOSE:
            check_close_code(msg.data)  # the peer's close code
        return None  # CLOSING, CLOSED or a failed connection

    async def send(self, message: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message; OSError once closed."""
        ws = self._ws
        if ws is None or ws.closed:
            raise OSError('websocket is closed')
        if isinstance(message, str):
            await ws.send_str(message)
        else:
            await ws.send_bytes(message)

    def abort(self) -> None:
        """Drop the connection at once: a send or close waiting to drain returns."""
        request = self.environ.get('aiohttp.request') if self.environ else None
        transport = request.transport if request is not None else None
        if transport is not None:
            transport.abort()

    async def close(self, code: int | None = None) -> None:
        """Close the websocket with ``code`` (default 1000); nothing once closed."""
        ws = self._ws
        if ws is None or ws.closed:
            return
        try:
            await ws.close(code=NORMAL_CLOSURE if code is None else code)
        except (OSError, RuntimeError):  # the peer went away meanwhile
            pass


_async = {
    'asyncio': True,
    'create_route': create_route,
    'translate_request': translate_request,
    'make_response': make_response,
    'websocket': WebSocket,
    'websocket_compression': frozenset({'negotiate'}),
}
