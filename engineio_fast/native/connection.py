"""One HTTP/1.1 connection of the native server: parsing, pipelining, limits, responses.

httptools (llhttp) parses; this module decides.  Engine.IO requests go
straight to ``AsyncServer._handle_http`` with a WSGI-style environ; every
other request goes to the application through the ASGI adapter
(``native/asgi.py``).  One task per connection answers its requests in
order (pipelining), and hands the connection to a websocket on upgrade.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from asyncio.tasks import _enter_task, _leave_task
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import httptools

from .._coro import Suspended, step
from ..async_drivers._body import PulledBody
from ..async_drivers._environ import build_environ, set_request
from ..base_server import WHOLE_BODY

if TYPE_CHECKING:
    from .service import Service

#: Connection states, for the idle sweep (``Service._sweep``).
IDLE = 0  # between requests: the keep-alive timeout runs
HEADERS = 1  # a request line or headers are arriving: the header timeout runs
BUSY = 2  # a request is being answered: no HTTP timeout (a long poll may hold it)
UPGRADED = 3  # a websocket: its own heartbeat decides

#: Requests parsed ahead of the one being answered before reading pauses.
MAX_PIPELINED = 16

#: Whether a task can be given its context (Python 3.11+): ``_answer_now`` needs it.
_TASK_CONTEXTS = sys.version_info >= (3, 11)

#: Reason phrases by status code, as the standard library names them.
_REASONS = {status.value: status.phrase for status in HTTPStatus}


def reason_phrase(status: int) -> str:
    """The reason phrase of ``status``; empty for a code without one."""
    return _REASONS.get(status, '')


class _Refused(Exception):
    """A request the connection answers itself, then closes: ``status``, ``body``."""

    def __init__(self, status: int, body: str):
        super().__init__(body)
        self.status = status
        self.body = body


class Request:
    """One parsed request and the state of its body."""

    __slots__ = (
        'method',
        'target',
        'headers',
        'version',
        'keep_alive',
        'upgrade',
        'engineio',
        'chunks',
        'body_size',
        'complete',
        'waiter',
        'started',
    )

    # Set once the headers are parsed (on_headers_complete).
    method: str
    version: str
    keep_alive: bool
    engineio: bool

    def __init__(self) -> None:
        self.target = b''
        self.headers: list = []
        self.chunks: list = []
        self.body_size = 0
        self.complete = False
        self.waiter: asyncio.Future | None = None
        self.started = False
        self.upgrade = False


class RequestBody(PulledBody):
    """``wsgi.input`` of a native request: the body chunks as httptools delivers them."""

    __slots__ = ('request', 'connection')

    def __init__(self, request: Request, connection: HttpConnection):
        self.request = request
        self.connection = connection

    async def pull(self, size_hint: int) -> bytes:
        request = self.request
        while not request.chunks:
            if request.complete:
                return b''
            if self.connection.transport is None:
                raise ConnectionResetError('client disconnected before the end of the body')
            request.waiter = self.connection.loop.create_future()
            self.connection.resume_reading_for_body()
            await request.waiter
        chunks = request.chunks
        request.chunks = []
        return chunks[0] if len(chunks) == 1 else b''.join(chunks)


def _same_headers(raw: list, seen: tuple[list, dict, int]) -> bool:
    """Whether ``raw`` are the headers ``seen``, or differ from them in Content-Length alone."""
    known, _, at = seen
    if raw == known:
        return True
    return (
        at >= 0
        and len(raw) == len(known)
        and raw[at][0] == known[at][0]
        and raw[:at] == known[:at]
        and raw[at + 1 :] == known[at + 1 :]
    )


class HttpConnection(asyncio.Protocol):
    """An HTTP/1.1 connection; hands itself over to a websocket on upgrade."""

    # Slots: a server may hold many thousands of idle websocket connections.
    __slots__ = (
        'service',
        'loop',
        'transport',
        'parser',
        'state',
        'ticks',
        'request',
        'current',
        'pipeline',
        'websocket',
        'upgrade_rest',
        'header_bytes',
        'write_paused',
        'drain_waiter',
        'reading_paused',
        'closing',
        'discarding',
        'peer',
        'scheme',
        'proxied',
        'refusal',
        'worker',
        'wakeup',
        'context',
        'suspended',
        'seen',
    )

    def __init__(self, service: Service):
        self.service = service
        self.loop = service.loop
        self.transport: Any = None
        self.parser = httptools.HttpRequestParser(self)
        self.state = IDLE
        #: Sweeps (``Service._sweep``) since the state last changed.
        self.ticks = 0
        self.request: Request | None = None  # being parsed
        self.current: Request | None = None  # being answered
        #: Requests parsed while another was being answered (rare: a list).
        self.pipeline: list = []
        self.websocket: Any = None  # the websocket that took the connection over
        #: After an upgrade request, the bytes that follow it, for its websocket.
        self.upgrade_rest: bytes | None = None
        self.header_bytes = 0
        self.write_paused = False
        self.drain_waiter: asyncio.Future | None = None
        self.reading_paused = False
        self.closing = False
        #: A request answered before its body ended: the rest is read and dropped,
        #: so that closing does not reset the connection under the response.
        self.discarding: Request | None = None
        self.peer: tuple | None = None
        self.scheme = 'http'
        self.proxied = False
        #: A request that cannot be served, ``(status, text)``: refused once the
        #: requests before it are answered; nothing after it is parsed.
        self.refusal: tuple[int, str] | None = None
        #: The task answering this connection's requests, and its wakeup.
        self.worker: asyncio.Task | None = None
        self.wakeup: asyncio.Future | None = None
        #: The worker's context, for what ``_answer_now`` runs as the worker
        #: (None before Python 3.11: the worker answers every request).
        self.context: contextvars.Context | None = None
        #: A request's answer that ``_answer_now`` began and the worker finishes.
        self.suspended: Suspended | None = None
        #: The last two header sets: ``(raw headers, the environ they gave (never
        #: handed out: copied), where their Content-Length is (-1: none))``.
        self.seen: list[tuple[list, dict, int]] = []

    # -- asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        peer = transport.get_extra_info('peername')
        self.peer = tuple(peer[:2]) if isinstance(peer, tuple) else None
        if transport.get_extra_info('sslcontext') is not None:
            self.scheme = 'https'
        proxy = self.service.proxy
        #: The peer is a trusted proxy: its X-Forwarded-* headers count.
        self.proxied = proxy is not None and proxy.trusts(self.peer[0] if self.peer else peer)
        self.service.connections.add(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.transport = None
        self.service.connections.discard(self)
        for request in (self.current, self.request):
            if request is not None and request.waiter is not None and not request.waiter.done():
                request.waiter.set_result(None)
        self._wake_drain()
        self._wake_worker()
        if self.websocket is not None:
            self.websocket.connection_lost()

    def data_received(self, data: bytes) -> None:
        websocket = self.websocket
        if websocket is not None:
            websocket.feed(data)
            return
        if self.upgrade_rest is not None:
            self.upgrade_rest += data  # for the websocket about to take over
            return
        if self.refusal is not None:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            # The stream after an upgrade request is not HTTP any more: it waits
            # for the websocket that the request's answer may accept.
            self.upgrade_rest = data[upgrade.args[0] :]
        except httptools.HttpParserCallbackError as error:
            refused = error.__context__
            if isinstance(refused, _Refused):
                self._refuse_in_order(refused.status, refused.body)
            else:  # a bug of ours: logged, the client gets a 500
                self.service.logger.error('native server: request failed', exc_info=refused)
                self._refuse_in_order(500, 'Internal Server Error')
        except httptools.HttpParserError:
            # Bytes after a request that ends the connection are an error to
            # llhttp too: that request's response closes, and they are dropped.
            self._refuse_in_order(400, 'Invalid HTTP request')
        if (
            self.current is None
            and self.pipeline
            and self.wakeup is not None
            and self.context is not None
        ):
            self._answer_now()

    def _refuse_in_order(self, status: int, text: str) -> None:
        """Refuse a request once the ones pipelined before it are answered (in order)."""
        failing = self.request
        if failing is not None and failing in self.pipeline:
            self.pipeline.remove(failing)  # its body broke before it started: refused instead
        if (self.current is None or self.current is failing) and not self.pipeline:
            self.refuse(status, text)
        else:
            self.refusal = (status, text)
            self._pause_reading()

    def pause_writing(self) -> None:
        self.write_paused = True
        self._pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake_drain()
        if self.websocket is None or not self.websocket.inbox_full():
            self._resume_reading()

    def _wake_drain(self) -> None:
        waiter = self.drain_waiter
        if waiter is not None:
            self.drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def drained(self) -> asyncio.Future:
        """A future done once the transport's write buffer is below its low-water mark."""
        if self.drain_waiter is None:
            self.drain_waiter = self.loop.create_future()
        return self.drain_waiter

    def _pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.reading_paused and self.transport is not None and not self.write_paused:
            self.reading_paused = False
            self.transport.resume_reading()

    def resume_reading_for_body(self) -> None:
        """A request waits for more of its body: read even if the pipeline is long."""
        if len(self.pipeline) < MAX_PIPELINED:
            self._resume_reading()

    # -- httptools callbacks -----------------------------------------------------

    def on_message_begin(self) -> None:
        # httptools calls the other on_* callbacks only between this one and
        # on_message_complete, so they find self.request set.
        self.request = Request()
        self.header_bytes = 0
        if self.state == IDLE:
            self.state = HEADERS
            self.ticks = 0

    def on_url(self, url: bytes) -> None:
        request: Request = self.request  # type: ignore[assignment]  # see on_message_begin
        request.target += url
        if len(request.target) > self.service.limits.max_request_line:
            raise _Refused(414, 'Request-URI too long')

    def on_header(self, name: bytes, value: bytes) -> None:
        request: Request = self.request  # type: ignore[assignment]  # see on_message_begin
        request.headers.append((name, value))
        self.header_bytes += len(name) + len(value) + 4
        limits = self.service.limits
        if len(request.headers) > limits.max_header_count:
            raise _Refused(431, 'Too many request headers')
        if self.header_bytes > limits.max_header_size:
            raise _Refused(431, 'Request headers too large')

    def on_headers_complete(self) -> None:
        request: Request = self.request  # type: ignore[assignment]  # see on_message_begin
        parser = self.parser
        request.method = parser.get_method().decode('ascii')
        request.version = parser.get_http_version()
        request.keep_alive = parser.should_keep_alive()
        request.upgrade = parser.should_upgrade()
        request.engineio = self.service.is_engineio_target(request.target)
        # Its answer starts in the connection's task, after this read: a body
        # that came with the headers is complete by then; a longer one is read
        # as it comes (the server sees a POST in progress, P-24, and stops at
        # its size limit, H-41).
        self._queue(request)

    def on_body(self, body: bytes) -> None:
        request: Request = self.request  # type: ignore[assignment]  # see on_message_begin
        if request is self.discarding:
            return
        request.chunks.append(body)
        request.body_size += len(body)
        if request.waiter is not None:
            self._wake(request)
        if request.started and request.body_size > self.service.limits.body_buffer:
            self._pause_reading()

    def on_message_complete(self) -> None:
        request: Request = self.request  # type: ignore[assignment]  # see on_message_begin
        self.request = None
        request.complete = True
        if request is self.discarding:  # the rest of a refused body was read: now close
            self.close()
            return
        if request.waiter is not None:
            self._wake(request)

    # -- requests ------------------------------------------------------------------

    @staticmethod
    def _wake(request: Request) -> None:
        waiter: asyncio.Future = request.waiter  # type: ignore[assignment]  # callers checked it
        request.waiter = None
        if not waiter.done():
            waiter.set_result(None)

    def _queue(self, request: Request) -> None:
        self.pipeline.append(request)
        if len(self.pipeline) >= MAX_PIPELINED:
            self._pause_reading()
        if self.worker is None:
            if _TASK_CONTEXTS:
                self.context = contextvars.copy_context()
            self.worker = self.service.spawn(self._work(), self.context)
        elif not request.engineio or self.wakeup is None or self.context is None:
            self._wake_worker()
        # else: answered at the end of this read (data_received), by _answer_now

    def _wake_worker(self) -> None:
        wakeup = self.wakeup
        if wakeup is not None:
            self.wakeup = None
            if not wakeup.done():
                wakeup.set_result(None)

    async def _work(self) -> None:
        """Answer the connection's requests in order, until it closes or upgrades.

        Requests run as this one task per connection, not as the protocol's
        callbacks: handlers then run inside a task, as under an ASGI server
        (``asyncio.timeout()`` and libraries built on it need one).  An
        Engine.IO request that arrives while this task is idle is answered on
        the read's stack as this task (``_answer_now``); the task finishes it
        only if it has to wait.
        """
        try:
            while self.transport is not None and self.websocket is None:
                suspended = self.suspended
                if suspended is not None:
                    self.suspended = None
                    await suspended.finish()
                    continue
                if self.current is not None or not self.pipeline:
                    self.wakeup = self.loop.create_future()
                    await self.wakeup
                    continue
                request = self._start_next()
                if request.engineio:
                    await self._answer_engineio(request)
                else:
                    await self.service.asgi.handle(self, request)
        finally:
            self.worker = None

    def _start_next(self) -> Request:
        """Take the next pipelined request as the one being answered."""
        request = self.pipeline.pop(0)
        self.current = request
        request.started = True
        self.state = BUSY
        if len(self.pipeline) < MAX_PIPELINED and self.refusal is None:
            self._resume_reading()
        return request

    def _answer_now(self) -> None:
        """Answer the Engine.IO requests just read while the worker is idle, as the
        worker, without waking it: it is woken only for a request that waits."""
        worker: asyncio.Task = self.worker  # type: ignore[assignment]  # the caller checked it
        try:
            _enter_task(self.loop, worker)
        except RuntimeError:  # fed from inside a task: the worker answers
            self._wake_worker()
            return
        try:
            while (
                self.current is None
                and self.pipeline
                and self.pipeline[0].engineio
                and self.transport is not None
                and self.websocket is None
            ):
                step(
                    self._answer_engineio(self._start_next()),
                    self._hand_to_worker,
                    context=self.context,
                )
        finally:
            _leave_task(self.loop, worker)
        if self.current is None and self.pipeline:
            self._wake_worker()  # what is left is not Engine.IO's: the worker runs it

    def _hand_to_worker(self, suspended: Suspended) -> None:
        suspended.context = None  # the worker runs in that context already
        self.suspended = suspended
        self._wake_worker()

    def finish(self, request: Request) -> None:
        """``request`` was answered: start the next one, or wait for one."""
        if request is not self.current:
            return
        self.current = None
        if self.transport is None or self.closing or self.websocket is not None:
            return
        if self.pipeline:
            return  # the worker takes the next one
        if self.refusal is not None:
            self.refuse(*self.refusal)
        else:
            self.state = HEADERS if self.request is not None else IDLE
            self.ticks = 0
            self._resume_reading()

    async def _answer_engineio(self, request: Request) -> None:
        environ = self.environ(request)
        try:
            # Only Engine.IO requests come here, so the service has a server.
            response = await self.service.eio._handle_http(environ)  # type: ignore[union-attr]
        except Exception:  # a bug: logged once, the client gets a 500
            self.service.logger.exception('Engine.IO request failed')
            if self.websocket is None:
                self.refuse(500, 'Internal Server Error')
            return
        except BaseException:  # cancelled at shutdown: the connection is dropped
            self.abort()
            raise
        if type(response) is dict:
            self.respond(request, response['status'], response['headers'], response['response'])
        elif self.websocket is None and self.current is request:
            self.close()  # a websocket request that ended without a response
        self.finish(request)

    def environ(self, request: Request) -> dict:
        """The WSGI-style environ of ``request``.

        What comes from the headers is built once and copied for each request
        whose headers are the same but for Content-Length.  The last two sets
        are kept: a client's polls repeat their headers, its POSTs differ in
        length alone, and one connection may carry both.
        """
        # A-11..A-13
        path, _, query = request.target.partition(b'?')
        path_text = path.decode('latin-1')
        if '%' in path_text:
            path_text = unquote(path_text, 'latin-1')
        try:
            query_text = query.decode('utf-8')
        except UnicodeDecodeError:
            query_text = query.decode('latin-1')
        raw = request.headers
        # In the environ now; a websocket keeps its request alive.
        request.headers = None  # type: ignore[assignment]
        body = RequestBody(request, self)
        protocol = 'HTTP/' + request.version
        for seen in self.seen:
            if _same_headers(raw, seen):
                environ = seen[1].copy()
                set_request(environ, request.method, path_text, query_text, body, protocol)
                if seen[2] >= 0:
                    environ['CONTENT_LENGTH'] = raw[seen[2]][1].decode('latin-1')
                return _with_whole_body(environ, request)
        headers = []
        length_at = -1
        for at, (name, value) in enumerate(raw):
            if length_at < 0 and name.lower() == b'content-length':
                length_at = at
            try:
                headers.append((name.decode('latin-1'), value.decode('utf-8')))
            except UnicodeDecodeError:  # not representable in a WSGI environ
                continue
        peer = self.peer
        scheme = self.scheme
        if self.proxied:
            peer, scheme = self.service.proxy.apply(peer, scheme, raw)  # type: ignore[union-attr]
        environ = build_environ(
            'engineio_fast',
            request.method,
            path_text,
            query_text,
            headers,
            body,
            scheme,
            peer,
            protocol,
        )
        environ['engineio_fast.connection'] = self
        self.seen = [(raw, environ.copy(), length_at), *self.seen[:1]]
        return _with_whole_body(environ, request)

    # -- responses -----------------------------------------------------------------

    def respond(self, request: Request, status: str, headers: list, body: bytes) -> None:
        """Write a complete response (``status`` as ``'200 OK'``); close if it must."""
        transport = self.transport
        if transport is None:
            return
        keep_alive = request.keep_alive and request.complete and not self.closing
        if request.upgrade:
            keep_alive = False  # a refused upgrade: the rest of the stream is not HTTP
        lines = ['HTTP/1.1 ', status, '\r\n']
        for name, value in headers:
            lines += (name, ': ', value, '\r\n')
        lines.append('Content-Length: %d\r\n' % len(body))
        if not keep_alive:
            lines.append('Connection: close\r\n')
        lines.append('\r\n')
        head = ''.join(lines).encode('latin-1')
        transport.write(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            transport.write(body)
        self.response_sent(request, keep_alive)

    def response_sent(self, request: Request, keep_alive: bool) -> None:
        """After a response: close, or first read and drop the rest of an unread body."""
        if not request.complete and self.request is request:
            self.discarding = request
            self.closing = True
            request.chunks = []
            self.state = HEADERS  # a client that stops sending is dropped by the header timeout
            self.ticks = 0
        elif not keep_alive:
            self.close()

    def refuse(self, status: int, text: str) -> None:
        """Answer a request the connection cannot serve, then close."""
        if self.transport is None or self.transport.is_closing():
            return
        body = text.encode()
        head = 'HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n' % (
            status,
            reason_phrase(status),
            len(body),
        )
        head += 'Connection: close\r\n\r\n'
        self.transport.write(head.encode('latin-1') + body)
        self.close()

    def close(self) -> None:
        """Close after what was written is sent."""
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection now."""
        self.closing = True
        if self.transport is not None:
            self.transport.abort()

    def take_over(self, websocket: Any) -> None:
        """A websocket accepted on this connection reads everything from now on."""
        self.websocket = websocket
        self.state = UPGRADED
        self.parser = None  # type: ignore[assignment]  # no more HTTP on this connection
        self.seen = []
        self._wake_worker()  # idle (the upgrade was answered by _answer_now): it ends
        rest = self.upgrade_rest
        self.upgrade_rest = None
        if rest:
            websocket.feed(rest)

    # -- shutdown ------------------------------------------------------------------

    def shutdown(self) -> None:
        """The server is stopping: end what can end now, let running requests finish."""
        if self.websocket is not None:
            self.websocket.going_away()
        elif self.current is None or _is_long_poll(self.current):
            # Idle, or a long poll: ended without an Engine.IO close packet, so
            # the client reconnects (to another worker in a rolling deploy).
            self.close()
        else:
            self.closing = True  # closes once its response is written


def _with_whole_body(environ: dict, request: Request) -> dict:
    """``environ``, with the body of a POST that arrived whole before its answer began."""
    if request.complete and request.method == 'POST':
        chunks = request.chunks
        request.chunks = []
        environ[WHOLE_BODY] = chunks[0] if len(chunks) == 1 else b''.join(chunks)
    return environ


def _is_long_poll(request: Request) -> bool:
    return request.engineio and request.method == 'GET' and b'sid=' in request.target
