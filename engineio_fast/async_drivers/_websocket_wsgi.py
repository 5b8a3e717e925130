"""WebSocket for WSGI servers through simple-websocket (threading, gevent)."""

from __future__ import annotations

import _socket
import dataclasses
import socket
import struct
import zlib

import simple_websocket
from wsproto.events import AcceptConnection, Message, TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode
from wsproto.utilities import LocalProtocolError

from .._constants import DROP_CONNECTION
from .._ws_compression import FEATURES, WebSocketCompression
from ..exceptions import ContentTooLongError
from ._close_codes import check_close_code

#: Bytes asked of the socket per read.
_RECEIVE_BYTES = 65536
#: ``send`` flag for a write that never blocks (absent on Windows).
_DONTWAIT = getattr(socket, 'MSG_DONTWAIT', None)
#: The last message framed by ``plain_frame`` and its frame: a broadcast sends one
#: encoded packet object to every recipient, so it is framed once (F-03).
_last_frame: tuple = (None, b'')


def plain_frame(message) -> bytes:
    """A server websocket frame (final, unmasked, no extension) for a message."""
    global _last_frame
    last = _last_frame
    if last[0] is message:
        return last[1]
    if isinstance(message, str):
        payload, first = message.encode('utf-8'), 0x81
    else:
        payload, first = bytes(message), 0x82
    size = len(payload)
    if size < 126:
        header = struct.pack('!BB', first, size)
    elif size < 65536:
        header = struct.pack('!BBH', first, 126, size)
    else:
        header = struct.pack('!BBQ', first, 127, size)
    frame = header + payload
    _last_frame = (message, frame)
    return frame


#: simple-websocket negotiates through wsproto, which lets every part be set.
COMPRESSION_FEATURES = FEATURES


class _Deflate(PerMessageDeflate):
    """wsproto's permessage-deflate with the server's level, window and threshold.

    A message under the threshold goes out as one frame with RSV1 clear,
    which RFC 7692 allows on a connection that negotiated compression.
    """

    # F-02

    def __init__(self, option: WebSocketCompression):
        super().__init__()
        self._option = option
        self._plain_message = False

    def accept(self, offer: str) -> bool | str | None:
        accepted = super().accept(offer)
        bits = self._option.server_max_window_bits
        if accepted is None or bits is None or bits >= self.server_max_window_bits:
            return accepted
        # RFC 7692 7.1.2.1: the server may ask for a smaller window unprompted.
        self.server_max_window_bits = bits
        # PerMessageDeflate.accept returns str or None (typed as the base class's).
        parts = accepted.split('; ')  # type: ignore[union-attr]
        params = [p for p in parts if p and not p.startswith('server_max_window')]
        return '; '.join(params + ['server_max_window_bits=%d' % bits])

    def frame_outbound(self, proto, opcode, rsv, data, fin):
        if opcode is not Opcode.CONTINUATION and self._compressible_opcode(opcode):
            self._plain_message = not self._option.compresses(len(data))
            if self._compressor is None and not self._plain_message:
                self._compressor = zlib.compressobj(
                    self._option.level, zlib.DEFLATED, -self.server_max_window_bits
                )
        if self._plain_message and self._compressible_opcode(opcode):
            return rsv, data
        return super().frame_outbound(proto, opcode, rsv, data, fin)


class _NoThread:
    """Stands in for simple-websocket's reader thread: the request's thread reads instead.

    One thread (or greenlet) less per connection, and no hand-off from that
    thread to the session's reader for every message.
    """

    name = 'simple_websocket reader (unused)'

    def __init__(self, target):
        pass

    def start(self) -> None:
        pass


class _Server(simple_websocket.Server):
    """simple-websocket's handshake, framing and events; ``SimpleWebSocketWSGI.wait`` reads.

    It accepts permessage-deflate (its own, with the server's settings) only
    when ``websocket_compression`` asks for it.
    """

    def __init__(self, environ, compression: WebSocketCompression, **kwargs):
        self._compression = compression
        super().__init__(environ, thread_class=_NoThread, **kwargs)

    def handshake(self):
        option = self._compression
        extensions = [_Deflate(option)] if option.enabled else []
        send = self.ws.send

        def send_with_our_extensions(event):
            # simple-websocket hard-codes wsproto's default extension here.
            if isinstance(event, AcceptConnection):
                event = dataclasses.replace(event, extensions=extensions)
            return send(event)

        self.ws.send = send_with_our_extensions
        try:
            return super().handshake()
        finally:
            del self.ws.send


def _end_connection(connection: socket.socket) -> None:
    """Shut a websocket's connection down and discard what the peer sent last.

    Else the WSGI server reads what follows as HTTP requests on it: bytes
    already received (a close frame) stay readable after the shutdown.
    """
    try:
        connection.shutdown(socket.SHUT_RDWR)
        connection.setblocking(False)
        while connection.recv(_RECEIVE_BYTES):
            pass
    except OSError:  # the peer is gone, or nothing is left to read
        pass
    connection.close()


class SimpleWebSocketWSGI:
    """Accepts a websocket from a WSGI request and runs the session handler on it.

    The handler gets this object as its ``ws``: ``send(message)``,
    ``wait()`` (a message, or None once closed) and ``close()``.
    """

    def __init__(self, handler, server, **kwargs):
        self.app = handler
        self.server = server
        self.server_args = kwargs
        self.ws = None
        #: Whether ``write_nowait`` works: a plain blocking socket (not gevent's).
        self.nonblocking_writes = False

    def __call__(self, environ, start_response):
        limit = self.server.max_http_buffer_size
        self.ws = _Server(
            environ,
            self.server.websocket_compression,
            max_message_size=limit,
            **self.server_args,
        )
        sock = self.ws.sock
        self.nonblocking_writes = (
            _DONTWAIT is not None and isinstance(sock, _socket.socket) and sock.gettimeout() is None
        )
        # permessage-deflate is accepted when offered and websocket_compression
        # asks for it; without it, frames are plain and can be built (and
        # shared) here.
        self._plain_frames = (
            'HTTP_SEC_WEBSOCKET_EXTENSIONS' not in environ
            or not self.server.websocket_compression.enabled
        )
        # simple-websocket closes its socket (a dup under gevent) when the
        # websocket ends; this dup keeps the connection to shut it down after.
        connection = sock.dup()
        try:
            result = self.app(self)
        finally:
            _end_connection(connection)
        if self.ws.mode == 'gunicorn':
            # gunicorn drops the connection when the app raises StopIteration;
            # raised here it would cross the session's coroutine flow (PEP 479).
            return DROP_CONNECTION
        if self.ws.mode == 'werkzeug':
            # werkzeug treats this as the client going away: no response.
            raise ConnectionError()
        return result

    def close(self, code: int | None = None) -> None:
        """Close the websocket if it is still open, with close ``code`` if given."""
        try:
            if self.ws.connected:
                self.ws.close(reason=code)
        except (simple_websocket.ConnectionClosed, OSError, LocalProtocolError):
            # LocalProtocolError: another thread's close (an upgrade timeout,
            # the writer) sent the close frame after our connected check.
            pass

    def abort(self) -> None:
        """Drop the connection at once: a send or receive blocked on it returns."""
        try:
            self.ws.sock.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed
            pass

    def send(self, message) -> None:
        """Send a text (str) or binary (bytes) message; OSError once closed."""
        try:
            self.ws.send(message)
        except simple_websocket.ConnectionClosed:
            raise OSError('websocket is closed') from None

    def write_nowait(self, message) -> bytes:
        """Frame a message and write what the socket takes now; the unsent rest."""
        ws = self.ws
        if not ws.connected:
            raise OSError('websocket is closed')
        if self._plain_frames:
            frame = plain_frame(message)
        elif isinstance(message, str):
            frame = ws.ws.send(TextMessage(data=message))
        else:
            frame = ws.ws.send(Message(data=message))
        return self.write_raw_nowait(frame)

    def write_raw_nowait(self, data: bytes) -> bytes:
        """Write what the socket takes of framed bytes now; the unsent rest."""
        try:
            written = self.ws.sock.send(data, _DONTWAIT)
        except BlockingIOError:
            return data
        return data[written:]

    def write_raw(self, data: bytes) -> None:
        """Write framed bytes, blocking until all are sent."""
        self.ws.sock.sendall(data)

    def wait(self):
        """The next message, or None once the websocket is closed.

        Reads the socket in the calling thread (the request's); pings and
        the close handshake are answered on the way.  Raises
        ``ContentTooLongError`` when the peer sent a message over the size
        limit (simple-websocket answered it with 1009).  A silent peer is
        left to the session's ping timeout, which closes the websocket and,
        if it stays silent, drops the connection (``abort``).
        """
        ws = self.ws
        messages = ws.input_buffer
        while not messages:
            if not ws.connected:
                return self._ended()
            try:
                data = ws.sock.recv(_RECEIVE_BYTES)
                if not data:
                    return self._ended()
                ws.ws.receive_data(data)
                if not ws._handle_events():
                    ws.connected = False
            except (OSError, LocalProtocolError):
                return self._ended()
        return messages.pop(0)

    def _ended(self) -> None:
        """The reader is done: release the socket; an oversized message or a failure is reported."""
        ws = self.ws
        ws.connected = False
        ws.sock.close()
        if ws.incoming_message_len > self.server.max_http_buffer_size:
            raise ContentTooLongError()
        check_close_code(ws.close_reason)
