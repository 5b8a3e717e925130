"""The ``asgi`` async mode (uvicorn, hypercorn, ...) and ``ASGIApp``."""

from __future__ import annotations

from typing import IO, Any, Awaitable, Callable

from .._constants import NORMAL_CLOSURE, POLICY_VIOLATION
from .._coro import settle
from ..static_files import CHUNK_SIZE, open_static_file
from ._body import PulledBody
from ._close_codes import check_close_code
from ._environ import build_environ

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class ASGIApp:
    """ASGI application dispatching to an Engine.IO ``AsyncServer``.

    :param engineio_server: the :class:`~engineio_fast.AsyncServer`.
    :param other_asgi_app: an ASGI application for the other requests.
    :param static_files: static file mapping rules (see ``WSGIApp``).
    :param engineio_path: the URL path of the Engine.IO endpoint; with None,
                          every HTTP and websocket request goes to the server.
    :param on_startup: function or coroutine run at lifespan startup.
    :param on_shutdown: function or coroutine run at lifespan shutdown.
    """

    def __init__(
        self,
        engineio_server: Any,
        other_asgi_app: Any = None,
        static_files: dict[str, Any] | None = None,
        engineio_path: str | None = 'engine.io',
        on_startup: Callable[[], Any] | None = None,
        on_shutdown: Callable[[], Any] | None = None,
    ) -> None:
        self.engineio_server = engineio_server
        self.other_asgi_app = other_asgi_app
        if engineio_path is not None:
            engineio_path = '/' + engineio_path.strip('/') + '/'
            if engineio_path == '//':
                engineio_path = '/'
        self.engineio_path = engineio_path
        self.static_files = static_files or {}
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope['type']
        if kind == 'lifespan':
            await self.lifespan(scope, receive, send)
            return
        if kind in ('http', 'websocket') and self._is_engineio_path(scope.get('path', '')):
            await self.engineio_server.handle_request(scope, receive, send)
            return
        if kind == 'http' and self.static_files:
            opened = open_static_file(scope['path'], self.static_files)
            if opened is not None:
                await self._send_file(opened, send)
                return
        if self.other_asgi_app is not None:
            await self.other_asgi_app(scope, receive, send)
        elif kind == 'http':
            await self.not_found(receive, send)
        elif kind == 'websocket':
            await send({'type': 'websocket.close'})

    def _is_engineio_path(self, path: str) -> bool:
        """Whether a request goes to the server (a missing trailing slash is added)."""
        # H-05
        if self.engineio_path is None:
            return True
        if not path.endswith('/'):
            path += '/'
        return path.startswith(self.engineio_path)

    async def serve_static_file(
        self, static_file: dict[str, Any], receive: Receive, send: Send
    ) -> None:
        """Send a static file, or answer 404 if it cannot be opened.

        :param static_file: a ``{'filename': ..., 'content_type': ...}`` entry, as
                            ``static_files`` rules resolve to.
        :param receive: the ASGI ``receive`` callable.
        :param send: the ASGI ``send`` callable.
        """
        opened = open_static_file('/', {'/': static_file})
        if opened is None:
            await self.not_found(receive, send)
        else:
            await self._send_file(opened, send)

    async def _send_file(self, opened: tuple[IO[bytes], str, int], send: Send) -> None:
        """Stream an open file with its Content-Length."""
        # H-09
        f, content_type, size = opened
        with f:
            await send(
                {
                    'type': 'http.response.start',
                    'status': 200,
                    'headers': [
                        (b'content-type', content_type.encode()),
                        (b'content-length', str(size).encode()),
                    ],
                }
            )
            remaining = size
            while True:
                chunk = f.read(min(CHUNK_SIZE, remaining)) if remaining > 0 else b''
                remaining -= len(chunk)
                more = bool(chunk) and remaining > 0
                await send({'type': 'http.response.body', 'body': chunk, 'more_body': more})
                if not more:
                    return

    async def lifespan(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """Answer the ASGI lifespan protocol.

        With ``on_startup`` or ``on_shutdown`` set, the hooks run here and a
        hook that raises is reported as ``lifespan.<phase>.failed``; without
        them the scope goes to ``other_asgi_app`` when there is one.

        :param scope: the ASGI ``lifespan`` scope.
        :param receive: the ASGI ``receive`` callable.
        :param send: the ASGI ``send`` callable.
        """
        if self.other_asgi_app is not None and self.on_startup is None and self.on_shutdown is None:
            await self.other_asgi_app(scope, receive, send)
            return
        while True:
            event = await receive()
            if event['type'] == 'lifespan.startup':
                phase, hook = 'startup', self.on_startup
            elif event['type'] == 'lifespan.shutdown':
                phase, hook = 'shutdown', self.on_shutdown
            else:
                continue
            try:
                if hook is not None:
                    await settle(hook())
            except Exception as exc:
                await send({'type': 'lifespan.%s.failed' % phase, 'message': repr(exc)})
                return
            await send({'type': 'lifespan.%s.complete' % phase})
            if phase == 'shutdown':
                return

    async def not_found(self, receive: Receive, send: Send) -> None:
        """Answer 404 with a plain text body.

        :param receive: the ASGI ``receive`` callable.
        :param send: the ASGI ``send`` callable.
        """
        await send(
            {
                'type': 'http.response.start',
                'status': 404,
                'headers': [(b'Content-Type', b'text/plain')],  # as python-engineio's
            }
        )
        await send({'type': 'http.response.body', 'body': b'Not Found'})


class _RequestBody(PulledBody):
    """``wsgi.input`` of an ASGI request: reads ``http.request`` events on demand."""

    def __init__(self, receive: Receive):
        self._receive = receive
        self._ended = False

    async def pull(self, size_hint: int) -> bytes:
        """The body of the next ``http.request`` event that has one, or of the last."""
        while not self._ended:
            event = await self._receive()
            if event['type'] != 'http.request':  # http.disconnect before the body ended
                self._ended = True
                raise ConnectionResetError('client disconnected before the end of the body')
            body: bytes = event.get('body', b'')
            self._ended = not event.get('more_body', False)
            if body:
                return body
        return b''


async def translate_request(scope: dict[str, Any], receive: Receive, send: Send) -> dict[str, Any]:
    """The environ of an ASGI request; ``{}`` when a websocket left before connecting."""
    if scope['type'] == 'websocket':
        event = await receive()
        if event['type'] != 'websocket.connect':
            return {}
    headers = []
    for name, value in scope.get('headers', ()):
        try:
            headers.append((name.decode('latin-1'), value.decode('utf-8')))
        except UnicodeDecodeError:  # not representable in a WSGI environ
            continue
    query = scope.get('query_string', b'')
    try:
        query_string = query.decode('utf-8') if query else ''
    except UnicodeDecodeError:
        query_string = query.decode('latin-1')
    http_version = scope.get('http_version', '1.1')
    environ = build_environ(
        'asgi',
        scope.get('method', 'GET'),
        scope['path'],
        query_string,
        headers,
        _RequestBody(receive),
        scope.get('scheme', 'http'),
        scope.get('client'),
        'HTTP/' + http_version,
    )
    environ['asgi.scope'] = scope
    environ['asgi.receive'] = receive
    environ['asgi.send'] = send
    return environ


async def make_response(
    status: str, headers: list[tuple[str, str]], body: bytes, environ: dict[str, Any]
) -> None:
    """Send a response; a refused websocket is answered before being accepted."""
    #
    scope = environ['asgi.scope']
    send = environ['asgi.send']
    code = int(status.split(' ', 1)[0])
    raw_headers = [_ENCODED_HEADERS.get(header) or _encode_header(header) for header in headers]
    if scope['type'] == 'websocket':
        if 'websocket.http.response' in scope.get('extensions', {}):
            # The server can answer the handshake with a plain HTTP response,
            # so the client sees the same 400/403 as on polling.
            await send(
                {'type': 'websocket.http.response.start', 'status': code, 'headers': raw_headers}
            )
            await send({'type': 'websocket.http.response.body', 'body': body})
        else:
            await send({'type': 'websocket.close', 'code': POLICY_VIOLATION})
        return
    raw_headers.append((b'content-length', str(len(body)).encode()))
    await send({'type': 'http.response.start', 'status': code, 'headers': raw_headers})
    await send({'type': 'http.response.body', 'body': body})


#: Response headers as ASGI wants them, for the pairs seen first (most responses repeat them).
_ENCODED_HEADERS: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_MAX_CACHED_HEADERS = 512


def _encode_header(header: tuple[str, str]) -> tuple[bytes, bytes]:
    """``(name, value)`` encoded to latin-1 bytes."""
    name, value = header
    encoded = (name.encode('latin-1'), value.encode('latin-1'))
    if name != 'Set-Cookie' and len(_ENCODED_HEADERS) < _MAX_CACHED_HEADERS:  # one per session
        _ENCODED_HEADERS[header] = encoded
    return encoded


def _own_transport(scope: dict[str, Any], send: Send) -> Any:
    """The transport of the websocket's own connection, if the server is a known one.

    ASGI has no way to drop a connection whose close frame cannot be
    written, so this looks under ``send``: uvicorn's is a method of its
    connection protocol, which holds the transport (all three websocket
    implementations); hypercorn's is a method of its websocket stream, whose
    ``send`` is a method of the HTTP protocol, whose ``send`` is one of the TCP
    server holding the stream writer.  A websocket over HTTP/2 shares its
    connection with other streams: None, as for any other server.
    """
    if scope.get('http_version') not in ('1.0', '1.1'):
        return None
    owner = getattr(send, '__self__', None)
    transport = getattr(owner, 'transport', None)
    if transport is None:
        protocol = getattr(getattr(owner, 'send', None), '__self__', None)
        tcp_server = getattr(getattr(protocol, 'send', None), '__self__', None)
        transport = getattr(getattr(tcp_server, 'writer', None), 'transport', None)
    return transport if callable(getattr(transport, 'abort', None)) else None


class WebSocket:
    """An accepted ASGI websocket in the shape the server's flows use."""

    def __init__(self, handler: Callable[..., Any], server: Any, **kwargs: Any) -> None:
        self.handler = handler
        self.server = server
        self._scope: dict[str, Any] = {}
        # Set by __call__, which runs before any other method.
        self._receive: Receive = None  # type: ignore[assignment]
        self._send: Send = None  # type: ignore[assignment]
        self._closed = False

    async def __call__(self, environ: dict[str, Any]) -> None:
        self._scope = environ['asgi.scope']
        self._receive = environ['asgi.receive']
        self._send = environ['asgi.send']
        headers = environ.get('engineio_fast.websocket_headers') or []
        await self._send(
            {
                'type': 'websocket.accept',
                'headers': [(k.encode('latin-1'), v.encode('latin-1')) for k, v in headers],
            }
        )
        await self.handler(self)

    async def wait(self) -> str | bytes | None:
        """The next message, or None once the connection is gone."""
        if self._closed:
            return None
        try:
            event = await self._receive()
        except Exception:  # the server dropped the connection
            event = {'type': 'websocket.disconnect'}
        if event['type'] == 'websocket.receive':
            text = event.get('text')
            return text if text is not None else event.get('bytes')
        self._closed = True
        check_close_code(event.get('code'))
        return None

    async def send(self, message: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message."""
        if isinstance(message, str):
            await self._send({'type': 'websocket.send', 'text': message})
        else:
            await self._send({'type': 'websocket.send', 'bytes': bytes(message)})

    async def close(self, code: int = NORMAL_CLOSURE) -> None:
        """Close the connection; harmless when it is already closed."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._send({'type': 'websocket.close', 'code': code})
        except Exception:  # already closed by the peer
            pass

    def abort(self) -> None:
        """Drop the connection under uvicorn or hypercorn; elsewhere nothing can."""
        # P-31
        transport = _own_transport(self._scope, self._send)
        if transport is not None:
            transport.abort()


_async = {
    'asyncio': True,
    'translate_request': translate_request,
    'make_response': make_response,
    'websocket': WebSocket,
}
