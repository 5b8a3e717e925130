"""The ASGI side of the native server: requests that are not Engine.IO, and lifespan.

The application is called as an ASGI server would call it (ASGI 3.0,
HTTP spec 2.3): static files, ``other_asgi_app`` and the app's own 404 all
stay the application's business.  Only Engine.IO requests bypass it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .._constants import INTERNAL_ERROR, NORMAL_CLOSURE
from ..async_drivers._environ import environ_key
from .connection import reason_phrase
from .websocket import ServerWebSocket, handshake_error

if TYPE_CHECKING:
    from .connection import HttpConnection, Request
    from .service import Service

_ASGI = {'version': '3.0', 'spec_version': '2.3'}


class ASGIAdapter:
    """Runs the application for one connection's request at a time."""

    def __init__(self, service: Service):
        self.service = service
        self.state: dict = {}

    def scope(self, connection: HttpConnection, request: Request, kind: str) -> dict:
        path, _, query = request.target.partition(b'?')
        peer, scheme = connection.peer, connection.scheme
        if connection.proxied:
            # proxied: the service has a proxy configuration.
            peer, scheme = self.service.proxy.apply(peer, scheme, request.headers)  # type: ignore[union-attr]
        if kind == 'websocket':
            scheme = 'wss' if scheme == 'https' else 'ws'
        sockname = connection.transport.get_extra_info('sockname') if connection.transport else None
        return {
            'type': kind,
            'asgi': _ASGI,
            'http_version': request.version,
            'method': request.method,
            'scheme': scheme,
            # As uvicorn has it: a proxy stripped root_path, the path has it again.
            'path': self.service.root_path + _decoded_path(path),
            'raw_path': path,
            'query_string': query,
            'root_path': self.service.root_path,
            'headers': [(name.lower(), value) for name, value in request.headers],
            'client': list(peer) if peer else None,
            'server': list(sockname[:2]) if isinstance(sockname, tuple) else None,
            'state': dict(self.state),
            'extensions': {'websocket.http.response': {}} if kind == 'websocket' else {},
        }

    async def handle(self, connection: HttpConnection, request: Request) -> None:
        """Run the application for ``request`` and write what it sends."""
        if request.upgrade and _is_websocket(request):
            exchange: Any = WebSocketExchange(connection, request)
            scope = self.scope(connection, request, 'websocket')
        else:
            exchange = HttpExchange(connection, request)
            scope = self.scope(connection, request, 'http')
        try:
            await self.service.app(scope, exchange.receive, exchange.send)
        except Exception:
            self.service.logger.exception('ASGI application failed')
            exchange.failed()
        else:
            exchange.ended()
        connection.finish(request)

    # -- lifespan --------------------------------------------------------------------

    async def lifespan(self, phase: str, timeout: float, mode: str = 'auto') -> bool:
        """Run the startup or shutdown phase; False if the application failed it."""
        if phase == 'startup':
            self._lifespan = Lifespan(self.service.app, self.state, self.service.logger, mode)
            return await self._lifespan.startup(timeout)
        lifespan = getattr(self, '_lifespan', None)
        return True if lifespan is None else await lifespan.shutdown(timeout)


def _decoded_path(path: bytes) -> str:
    text = path.decode('latin-1')
    return unquote(text, 'utf-8', 'replace') if '%' in text else text


def _is_websocket(request: Request) -> bool:
    return any(
        name.lower() == b'upgrade' and b'websocket' in value.lower()
        for name, value in request.headers
    )


class HttpExchange:
    """``receive``/``send`` of one HTTP request."""

    def __init__(self, connection: HttpConnection, request: Request):
        self.connection = connection
        self.request = request
        self.status: int | None = None
        self.headers: list = []
        self.chunked = False
        #: An HTTP/1.0 response of unknown length: its end is the connection's.
        self.close_delimited = False
        self.body_read = False
        self.done = False

    async def receive(self) -> dict:
        request = self.request
        if not self.body_read:
            while not request.chunks and not request.complete:
                if not await self._wait():
                    return {'type': 'http.disconnect'}
            body = b''.join(request.chunks)
            request.chunks = []
            self.body_read = request.complete
            return {'type': 'http.request', 'body': body, 'more_body': not request.complete}
        while not self.done:  # nothing more to read: until the response ends or the client leaves
            if not await self._wait():
                break
        return {'type': 'http.disconnect'}

    async def _wait(self) -> bool:
        """Wait for body bytes, the response's end or the client's leaving; False if it left."""
        connection = self.connection
        if connection.transport is None:
            return False
        self.request.waiter = connection.loop.create_future()
        connection.resume_reading_for_body()
        await self.request.waiter
        return connection.transport is not None

    async def send(self, message: dict) -> None:
        kind = message['type']
        transport = self.connection.transport
        if kind == 'http.response.start':
            if self.status is not None:
                raise RuntimeError('http.response.start sent twice')
            self.status = message['status']
            self.headers = list(message.get('headers', ()))
            return
        if kind != 'http.response.body':
            raise RuntimeError('unexpected ASGI message %r' % kind)
        if self.status is None:
            raise RuntimeError('http.response.body before http.response.start')
        if self.done:
            raise RuntimeError('response already complete')
        body = message.get('body', b'')
        more = message.get('more_body', False)
        if transport is None:
            return
        if self.headers is not None:
            self._write_head(more, len(body))
        if self.chunked:
            if body:
                transport.write(b'%x\r\n%s\r\n' % (len(body), body))
            if not more:
                transport.write(b'0\r\n\r\n')
        elif body and self.request.method != 'HEAD':
            transport.write(body)
        if not more:
            self.done = True
            waiter = self.request.waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            self._end()
        elif self.connection.write_paused:
            await self.connection.drained()

    def _write_head(self, more: bool, size: int) -> None:
        names = {name.lower() for name, _ in self.headers}
        keep_alive = self.request.keep_alive and not self.connection.closing
        status: int = self.status  # type: ignore[assignment]  # http.response.start set it
        lines = [b'HTTP/1.1 %d %s\r\n' % (status, _reason(status))]
        lines += [b'%s: %s\r\n' % (name, value) for name, value in self.headers]
        if b'content-length' not in names and status >= 200 and status not in (204, 304):
            if more and self.request.version == '1.0':
                self.close_delimited = True  # no chunked encoding in HTTP/1.0
                keep_alive = False
            elif more:
                self.chunked = True
                lines.append(b'transfer-encoding: chunked\r\n')
            else:
                lines.append(b'content-length: %d\r\n' % size)
        if not keep_alive:
            lines.append(b'connection: close\r\n')
        lines.append(b'\r\n')
        self.connection.transport.write(b''.join(lines))
        self.headers = None  # type: ignore[assignment]  # None: the head is written

    def _end(self) -> None:
        request = self.request
        keep_alive = request.keep_alive and not self.close_delimited and not self.connection.closing
        self.connection.response_sent(request, keep_alive and request.complete)

    def ended(self) -> None:
        """The application returned."""
        if self.status is None:
            self.connection.refuse(500, 'Internal Server Error')
        elif not self.done:
            self.connection.close()  # an unfinished response cannot be framed

    def failed(self) -> None:
        if self.status is None:
            self.connection.refuse(500, 'Internal Server Error')
        else:
            self.connection.abort()


class WebSocketExchange:
    """``receive``/``send`` of one ASGI websocket."""

    def __init__(self, connection: HttpConnection, request: Request):
        self.connection = connection
        self.request = request
        self.websocket: ServerWebSocket | None = None
        self.connected = False
        self.refused = False
        self.response_status: int | None = None

    async def receive(self) -> dict:
        if not self.connected:
            self.connected = True
            return {'type': 'websocket.connect'}
        websocket = self.websocket
        if websocket is None:  # refused, or receive() before accept: until the client leaves
            while self.connection.transport is not None:
                self.request.waiter = self.connection.loop.create_future()
                await self.request.waiter
            return {'type': 'websocket.disconnect', 'code': 1006}
        try:
            message = websocket.wait_now()
            if message is not None and not isinstance(message, (str, bytes)):
                message = await message
        except Exception:
            message = None
        if message is None:
            return {'type': 'websocket.disconnect', 'code': websocket.close_code or 1006}
        if type(message) is str:
            return {'type': 'websocket.receive', 'text': message}
        return {'type': 'websocket.receive', 'bytes': message}

    async def send(self, message: dict) -> None:
        kind = message['type']
        connection = self.connection
        if kind == 'websocket.accept':
            environ = _handshake_environ(self.request)
            error = handshake_error(environ)
            if error is not None:
                connection.refuse(400, error)
                self.refused = True
                return
            self.websocket = ServerWebSocket(connection, 1 << 24)
            headers = [
                (n.decode('latin-1'), v.decode('latin-1')) for n, v in message.get('headers', ())
            ]
            self.websocket.accept(environ, headers, None, message.get('subprotocol'))
        elif kind == 'websocket.send':
            if self.websocket is None:
                raise RuntimeError('websocket.send before websocket.accept')
            text = message.get('text')
            sent = self.websocket.send_now(text if text is not None else message.get('bytes', b''))
            if sent is not None:
                await sent
        elif kind == 'websocket.close':
            if self.websocket is None:
                self.refused = True
                connection.refuse(403, 'Forbidden')
            else:
                self.websocket.close(
                    message.get('code', NORMAL_CLOSURE), message.get('reason') or ''
                )
        elif kind == 'websocket.http.response.start':
            self.response_status = message['status']
            self._response_headers = list(message.get('headers', ()))
            self._response_body = []
        elif kind == 'websocket.http.response.body':
            self._response_body.append(message.get('body', b''))
            if not message.get('more_body', False):
                self.refused = True
                self._write_refusal()
        else:
            raise RuntimeError('unexpected ASGI message %r' % kind)

    def _write_refusal(self) -> None:
        transport = self.connection.transport
        if transport is None:
            return
        body = b''.join(self._response_body)
        status: int = self.response_status  # type: ignore[assignment]  # set by response.start
        head = [b'HTTP/1.1 %d %s\r\n' % (status, _reason(status))]
        head += [b'%s: %s\r\n' % header for header in self._response_headers]
        head.append(b'content-length: %d\r\nconnection: close\r\n\r\n' % len(body))
        transport.write(b''.join(head) + body)
        self.connection.close()

    def ended(self) -> None:
        if self.websocket is not None:
            self.websocket.close()
        elif not self.refused:
            self.connection.refuse(403, 'Forbidden')

    def failed(self) -> None:
        if self.websocket is not None:
            self.websocket.close(INTERNAL_ERROR)
        else:
            self.connection.refuse(500, 'Internal Server Error')


def _handshake_environ(request: Request) -> dict:
    environ = {'REQUEST_METHOD': request.method}
    for name, value in request.headers:
        environ[environ_key(name.decode('latin-1'))] = value.decode('latin-1')
    return environ


def _reason(status: int) -> bytes:
    return reason_phrase(status).encode('latin-1')


class Lifespan:
    """The ASGI lifespan protocol, run as uvicorn's ``--lifespan auto`` runs it."""

    def __init__(self, app: Any, state: dict, logger: Any, mode: str = 'auto'):
        self.app = app
        self.mode = mode
        self.state = state
        self.logger = logger
        self.events: asyncio.Queue = asyncio.Queue()
        self.replies: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None
        #: The application raised instead of running the protocol.
        self.error = False

    async def _run(self) -> None:
        scope = {'type': 'lifespan', 'asgi': _ASGI, 'state': self.state}
        try:
            await self.app(scope, self.events.get, self.replies.put)
        except Exception:
            self.error = True
            if self.mode == 'auto':
                self.logger.info('ASGI lifespan not supported by the application')
            else:
                self.logger.exception('ASGI lifespan failed')
        finally:
            await self.replies.put({'type': 'lifespan.ended'})

    async def _phase(self, phase: str, timeout: float) -> bool:
        await self.events.put({'type': 'lifespan.%s' % phase})
        try:
            reply = await asyncio.wait_for(self.replies.get(), timeout)
        except asyncio.TimeoutError:
            self.logger.error('ASGI lifespan %s timed out', phase)
            return False
        if reply['type'] == 'lifespan.ended':  # the application returned (or raised)
            return not (self.error and self.mode == 'on')
        if reply['type'].endswith('.failed'):
            self.logger.error('ASGI lifespan %s failed: %s', phase, reply.get('message', ''))
            return False
        return True

    async def startup(self, timeout: float) -> bool:
        self.task = asyncio.ensure_future(self._run())
        return await self._phase('startup', timeout)

    async def shutdown(self, timeout: float) -> bool:
        if self.task is None or self.task.done():
            return True
        ok = await self._phase('shutdown', timeout)
        if not self.task.done():
            self.task.cancel()
        return ok
