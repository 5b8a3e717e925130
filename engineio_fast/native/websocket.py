"""WebSocket connections of the native server (RFC 6455, RFC 7692).

``ServerWebSocket`` speaks the protocol over a connection that an upgrade
handed over; framing is ``_ws`` (compiled, or its pure-Python twin).
``EngineIOWebSocket`` is the driver object the Engine.IO flows use:
``wait_now()`` returns a message without awaiting when one is buffered, and
``send_now()`` writes at once, returning a future only while the connection's
write buffer is over its high-water mark; ``wait()`` and ``send()`` are their
awaitable forms (``base_socket.driver_method`` picks).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import hashlib
from asyncio.tasks import _enter_task, _leave_task
from typing import Any, Callable

from .. import _ws
from .._constants import INTERNAL_ERROR, MESSAGE_TOO_BIG, NORMAL_CLOSURE
from .._ws_deflate import negotiate
from ..async_drivers._close_codes import FAILURE_CODES
from ..base_server import WEBSOCKET_HEADERS
from ..exceptions import ContentTooLongError, WebSocketProtocolError

GOING_AWAY = 1001
_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
#: What ``wait_now`` returns that is not a future: messages and split packets.
_MESSAGE_TYPES = (str, bytes, tuple)
#: Messages buffered for a reader that lags before the connection stops reading.
INBOX_HIGH = 64
#: The last message (or packet) framed and its frame: a broadcast sends one
#: encoded message object (or packet) to every recipient, framed once (no
#: deflate involved).
_last_frame: list = [None, b'']
#: Seconds a peer that broke the protocol has to stop sending before the
#: connection closes (closing at once would reset it under the close frame).
FAIL_GRACE = 1.0


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    digest = hashlib.sha1(key.encode('latin-1') + _GUID).digest()
    return base64.b64encode(digest).decode('ascii')


def handshake_error(environ: dict) -> str | None:
    """Why an upgrade request cannot be accepted, or None."""
    if environ.get('REQUEST_METHOD') != 'GET':
        return 'websocket upgrade needs GET'
    if 'websocket' not in environ.get('HTTP_UPGRADE', '').lower():
        return 'missing Upgrade: websocket'
    if environ.get('HTTP_SEC_WEBSOCKET_VERSION', '').strip() != '13':
        return 'unsupported Sec-WebSocket-Version'
    key = environ.get('HTTP_SEC_WEBSOCKET_KEY', '').strip()
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return 'invalid Sec-WebSocket-Key'
    except ValueError:
        return 'invalid Sec-WebSocket-Key'
    return None


class ServerWebSocket:
    """The server side of one websocket on a native connection."""

    __slots__ = (
        'connection',
        'transport',
        'max_message_size',
        'reader',
        'deflate',
        'inbox',
        'waiter',
        'close_code',
        'closed',
        'peer_done',
        'close_sent',
        'failure',
        'sink',
    )

    def __init__(self, connection: Any, max_message_size: int):
        self.connection = connection
        self.transport = connection.transport
        self.max_message_size = max_message_size
        self.reader: Any = None
        self.deflate: Any = None
        #: Messages read and not taken yet (a list: usually empty, at most INBOX_HIGH or so).
        self.inbox: list = []
        self.waiter: Any = None
        #: The peer's close code once closed (None: closed without one).
        self.close_code: int | None = None
        #: No more messages will be read (the peer closed, failed or left).
        self.closed = False
        #: The peer sent its close frame or the connection is gone: nothing more comes.
        self.peer_done = False
        self.close_sent = False
        #: A frame-level failure (``ContentTooLongError`` or ``ConnectionAbortedError``).
        self.failure: BaseException | None = None
        #: Offered each message first while a reader waits (``offer_messages``).
        self.sink: Any = None

    # -- opening -----------------------------------------------------------------

    def accept(
        self, environ: dict, headers: list, compression: Any, subprotocol: str | None = None
    ) -> None:
        """Write the 101 response and take the connection over."""
        response = [
            'HTTP/1.1 101 Switching Protocols',
            'Upgrade: websocket',
            'Connection: Upgrade',
            'Sec-WebSocket-Accept: ' + accept_key(environ['HTTP_SEC_WEBSOCKET_KEY'].strip()),
        ]
        if compression is not None and compression.enabled:
            self.deflate, extension = negotiate(
                environ.get('HTTP_SEC_WEBSOCKET_EXTENSIONS'), compression
            )
            if extension is not None:
                response.append('Sec-WebSocket-Extensions: ' + extension)
        if subprotocol:
            response.append('Sec-WebSocket-Protocol: ' + subprotocol)
        response += ['%s: %s' % header for header in headers]
        self.reader = _ws.FrameReader(self.max_message_size, self.deflate)
        self.transport.write(('\r\n'.join(response) + '\r\n\r\n').encode('latin-1'))
        self.connection.take_over(self)

    # -- reading -----------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes from the peer (called by the connection)."""
        if self.closed:
            return
        try:
            events = self.reader.feed(data)
        except WebSocketProtocolError as error:
            if error.code == MESSAGE_TOO_BIG:
                self.failure = ContentTooLongError()
            else:
                self.failure = ConnectionAbortedError('invalid websocket frame: %s' % error.reason)
            self._fail(error.code)
            return
        inbox = self.inbox
        for event in events:
            if type(event) is tuple and event[0] >= _ws.CLOSE:
                self._control(event)
                continue
            waiter = self.waiter
            if waiter is not None:
                if self.sink is not None and not waiter.done() and self.sink(event):
                    continue
                self.waiter = None
                if not waiter.done():
                    waiter.set_result(event)
                    continue
            inbox.append(event)
        if len(inbox) >= INBOX_HIGH:
            self.connection._pause_reading()

    def _control(self, event: tuple) -> None:
        opcode = event[0]
        if opcode == _ws.PING:
            self._write(_ws.encode_frame(event[1], _ws.PONG))
        elif opcode == _ws.CLOSE:
            code = event[1]
            self.close_code = code
            self.peer_done = True
            if code in FAILURE_CODES:
                self.failure = ConnectionAbortedError('websocket closed with code %d' % code)
            if not self.close_sent:
                self.close_sent = True
                self._write(_ws.encode_close(code if code is not None else None))
            self._closed()
            self.connection.close()

    def offer_messages(self, sink: Callable[[Any], bool]) -> None:
        """While the calling task waits for a message, offer it each message as it
        arrives: ``sink(message)`` runs as if on that task (its context, and
        ``asyncio.current_task()``) and returns True when it handled the message."""
        loop = self.connection.loop
        task = asyncio.current_task()
        if task is None:  # nothing to run as: the reader keeps getting every message
            return
        context = contextvars.copy_context()

        def offer(message: Any) -> bool:
            _enter_task(loop, task)
            try:
                return context.run(sink, message)
            finally:
                _leave_task(loop, task)

        self.sink = offer

    def split_packets(self, strict_json: bool) -> None:
        """Have the frame reader split text Engine.IO packets into ``(type, data)``."""
        self.reader.split_packets(strict_json)

    def inbox_full(self) -> bool:
        return len(self.inbox) >= INBOX_HIGH

    def wait_now(self) -> Any:
        """The next message (str, bytes or a split packet), None once closed; a future
        when none is buffered.

        A frame-level failure raises ``ContentTooLongError`` (over the size
        limit) or ``ConnectionAbortedError`` (an invalid frame or a failure
        close code).
        """
        inbox = self.inbox
        if inbox:
            message = inbox.pop(0)
            if len(inbox) < INBOX_HIGH // 2 and self.connection.reading_paused:
                self.connection._resume_reading()
            return message
        if self.closed:
            failure = self.failure
            if failure is not None:
                self.failure = None
                raise failure
            return None
        waiter = self.waiter = self.connection.loop.create_future()
        return waiter

    def connection_lost(self) -> None:
        self.peer_done = True
        self._closed()

    def _closed(self) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                failure = self.failure
                if failure is not None:
                    self.failure = None
                    waiter.set_exception(failure)
                else:
                    waiter.set_result(None)

    # -- writing -----------------------------------------------------------------

    async def wait(self) -> Any:
        """``await ws.wait()``: the next message, None once closed."""
        message = self.wait_now()
        if message is not None and type(message) not in _MESSAGE_TYPES:
            message = await message
        return message

    async def send(self, message: Any) -> None:
        """``await ws.send(message)``: write a text (str) or binary message."""
        sent = self.send_now(message)
        if sent is not None:
            await sent

    def send_now(self, message: Any) -> Any:
        """Write a text (str) or binary message; a future to await while the buffer is full."""
        if self.close_sent or self.connection.transport is None:
            raise ConnectionResetError('websocket closed')
        deflate = self.deflate
        if deflate is not None:
            frame = self._deflated_frame(message)
        elif message is _last_frame[0]:  # a broadcast: one frame for every recipient
            frame = _last_frame[1]
        else:
            frame = _ws.encode_frame(message)
            _last_frame[:] = message, frame
        self.transport.write(frame)
        if self.connection.write_paused:
            return self.connection.drained()
        return None

    def send_packet_now(self, pkt: Any) -> Any:
        """``send_now`` of an Engine.IO packet; the frame of a text packet is built
        from its type and data in one step."""
        data = pkt.data
        if type(data) is not str or pkt.encode_cache is not None or self.deflate is not None:
            return self.send_now(pkt.encode())
        if self.close_sent or self.connection.transport is None:
            raise ConnectionResetError('websocket closed')
        if pkt is _last_frame[0]:  # a broadcast: one frame for every recipient
            frame = _last_frame[1]
        else:
            frame = _ws.encode_text_packet(pkt.packet_type, data)
            _last_frame[:] = pkt, frame
        self.transport.write(frame)
        if self.connection.write_paused:
            return self.connection.drained()
        return None

    def _deflated_frame(self, message: Any) -> bytes:
        """The frame of ``message``, compressed when it is over the threshold."""
        text = type(message) is str
        data = message.encode() if text else bytes(message)
        if len(data) < self.deflate.threshold:
            return _ws.encode_frame(message)
        return _ws.encode_frame(self.deflate.deflate(data), _ws.TEXT if text else _ws.BINARY, True)

    def _write(self, frame: bytes) -> None:
        if self.connection.transport is not None:
            self.transport.write(frame)

    def close(self, code: int = NORMAL_CLOSURE, reason: str = '') -> None:
        """Send a close frame; the connection ends when the peer answers it, or on abort."""
        if not self.close_sent:
            self.close_sent = True
            self._write(_ws.encode_close(code, reason))
        if self.peer_done:
            self.connection.close()

    def _fail(self, code: int) -> None:
        """The peer broke the protocol: close with ``code``; what it still sends is dropped."""
        if not self.close_sent:
            self.close_sent = True
            self._write(_ws.encode_close(code))
        self._closed()
        self.connection.loop.call_later(FAIL_GRACE, self.connection.close)

    def abort(self) -> None:
        """Drop the connection now."""
        # P-31
        self.connection.abort()

    def going_away(self) -> None:
        """The server shuts down: close with 1001, without an Engine.IO close packet."""
        if not self.close_sent:
            self.close_sent = True
            self._write(_ws.encode_close(GOING_AWAY))
        self._closed()
        self.connection.close()


class EngineIOWebSocket(ServerWebSocket):
    """The driver's websocket class for an ``AsyncServer`` served natively."""

    # __dict__: code may wrap wait/send on the instance (python-socketio's admin
    # instrumentation does); the dict exists only once it does.
    __slots__ = ('handler', 'server', '__dict__')

    def __init__(self, handler: Callable, server: Any, **kwargs: Any):
        self.handler = handler
        self.server = server

    async def __call__(self, environ: dict) -> None:
        connection = environ['engineio_fast.connection']
        super().__init__(connection, self.server.max_http_buffer_size)
        error = handshake_error(environ)
        if error is not None:
            connection.refuse(400, error)
            return
        headers = environ.get(WEBSOCKET_HEADERS) or []
        self.accept(environ, headers, self.server.websocket_compression)
        # The session runs in a task of its own, not at the bottom of the
        # request's flow: each message then resumes three coroutines, not
        # fourteen.  Nothing in the request flow follows the websocket's end.
        connection.service.spawn(self._serve())

    async def _serve(self) -> None:
        try:
            await self.handler(self)
        except Exception:
            self.server.logger.exception('websocket handler failed')
            self._fail(INTERNAL_ERROR)
