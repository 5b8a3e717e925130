"""WebSocket connections of the native server (RFC 6455, RFC 7692).

``ServerWebSocket`` speaks the protocol over a connection that an upgrade
handed over; framing is ``_ws`` (compiled, or its pure-Python twin).
``EngineIOWebSocket`` is the driver object the Engine.IO flows use:
``wait()`` returns a message without awaiting when one is buffered, and
``send()`` writes at once; the coroutine it returns only waits while the
connection's write buffer is over its high-water mark.
"""

from __future__ import annotations

import base64
import hashlib
from collections import deque
from typing import Any, Callable

from .. import _ws
from .._constants import INTERNAL_ERROR, MESSAGE_TOO_BIG, NORMAL_CLOSURE
from .._ws_deflate import negotiate
from ..async_drivers._close_codes import FAILURE_CODES
from ..base_server import WEBSOCKET_HEADERS
from ..exceptions import ContentTooLongError

GOING_AWAY = 1001
_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
#: Messages buffered for a reader that lags before the connection stops reading.
INBOX_HIGH = 64
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

    def __init__(self, connection: Any, max_message_size: int):
        self.connection = connection
        self.transport = connection.transport
        self.max_message_size = max_message_size
        self.reader: Any = None
        self.deflate: Any = None
        self.inbox: deque = deque()
        self.waiter: Any = None
        #: The peer's close code once closed (None: closed without one).
        self.close_code: int | None = None
        self.closed = False
        self.close_sent = False
        #: A frame-level failure (``ContentTooLongError`` or ``ConnectionAbortedError``).
        self.failure: BaseException | None = None

    # -- opening -----------------------------------------------------------------

    def accept(self, environ: dict, headers: list, compression: Any, subprotocol: str | None = None) -> None:
        """Write the 101 response and take the connection over."""
        response = [
            'HTTP/1.1 101 Switching Protocols',
            'Upgrade: websocket',
            'Connection: Upgrade',
            'Sec-WebSocket-Accept: ' + accept_key(environ['HTTP_SEC_WEBSOCKET_KEY'].strip()),
        ]
        if compression is not None and compression.enabled:
            self.deflate, extension = negotiate(environ.get('HTTP_SEC_WEBSOCKET_EXTENSIONS'), compression)
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
        except _ws.WebSocketProtocolError as error:
            if error.code == MESSAGE_TOO_BIG:
                self.failure = ContentTooLongError()
            else:
                self.failure = ConnectionAbortedError('invalid websocket frame: %s' % error.reason)
            self._fail(error.code)
            return
        inbox = self.inbox
        for event in events:
            if type(event) is tuple:
                self._control(event)
                continue
            waiter = self.waiter
            if waiter is not None:
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
            if code in FAILURE_CODES:
                self.failure = ConnectionAbortedError('websocket closed with code %d' % code)
            if not self.close_sent:
                self.close_sent = True
                self._write(_ws.encode_close(code if code is not None else None))
            self._closed()
            self.connection.close()

    def inbox_full(self) -> bool:
        return len(self.inbox) >= INBOX_HIGH

    def wait(self) -> Any:
        """The next message (str or bytes), None once closed; a future when none is buffered.

        A frame-level failure raises ``ContentTooLongError`` (over the size
        limit) or ``ConnectionAbortedError`` (an invalid frame or a failure
        close code).
        """
        inbox = self.inbox
        if inbox:
            message = inbox.popleft()
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

    def send(self, message: Any) -> Any:
        """Write a text (str) or binary message; a future to await while the buffer is full."""
        if self.close_sent or self.connection.transport is None:
            raise ConnectionResetError('websocket closed')
        deflate = self.deflate
        if deflate is not None and deflate.compresses(message):
            data = message.encode() if type(message) is str else bytes(message)
            frame = _ws.encode_frame(
                deflate.deflate(data), _ws.TEXT if type(message) is str else _ws.BINARY, True
            )
        else:
            frame = _ws.encode_frame(message)
        self.transport.write(frame)
        if self.connection.write_paused:
            return self.connection.drained()
        return None

    def send_frame(self, frame: bytes) -> Any:
        """Write a frame encoded beforehand (the same frame to many clients)."""
        if self.close_sent or self.connection.transport is None:
            raise ConnectionResetError('websocket closed')
        self.transport.write(frame)
        if self.connection.write_paused:
            return self.connection.drained()
        return None

    def _write(self, frame: bytes) -> None:
        if self.connection.transport is not None:
            self.transport.write(frame)

    def close(self, code: int = NORMAL_CLOSURE, reason: str = '') -> None:
        """Send a close frame; the connection ends when the peer answers it, or on abort."""
        if not self.close_sent:
            self.close_sent = True
            self._write(_ws.encode_close(code, reason))
        if self.close_code is not None or self.closed:
            self.connection.close()

    def _fail(self, code: int) -> None:
        """The peer broke the protocol: close with ``code``; what it still sends is dropped."""
        if not self.close_sent:
            self.close_sent = True
            self._write(_ws.encode_close(code))
        self._closed()
        self.connection.loop.call_later(FAIL_GRACE, self.connection.close)

    def abort(self) -> None:
        """Drop the connection now (P-31)."""
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

    def __init__(self, handler: Callable, server: Any, **kwargs: Any):
        self.handler = handler
        self.server = server

    async def send(self, message: Any) -> None:
        """``await ws.send(message)``, as the driver contract has it: the socket's
        write-through runs it inline (``_coro.step``) and hands it to the writer
        when it waits for the write buffer to drain (backpressure)."""
        sent = ServerWebSocket.send(self, message)
        if sent is not None:
            await sent

    async def __call__(self, environ: dict) -> None:
        connection = environ['engineio_fast.connection']
        super().__init__(connection, self.server.max_http_buffer_size)
        error = handshake_error(environ)
        if error is not None:
            connection.refuse(400, error)
            return
        headers = environ.get(WEBSOCKET_HEADERS) or []
        self.accept(environ, headers, self.server.websocket_compression)
        try:
            await self.handler(self)
        except Exception:
            self.server.logger.exception('websocket handler failed')
            self._fail(INTERNAL_ERROR)

