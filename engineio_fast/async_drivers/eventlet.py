"""The ``eventlet`` async mode: green threads, eventlet's websocket server."""

from __future__ import annotations

import socket
import zlib

from eventlet import queue, sleep, spawn
from eventlet.green.threading import Event
from eventlet.websocket import RFC6455WebSocket
from eventlet.websocket import WebSocketWSGI as _EventletWebSocketWSGI

from .._ws_compression import FEATURES, WebSocketCompression
from ._close_codes import check_close_code
from ._websocket_wsgi import plain_frame


class EventletThread:
    """A green thread with the ``start()`` / ``join()`` interface of a Thread.

    (eventlet's own green Thread leaks ``_DummyThread`` objects.)
    """

    def __init__(self, target, args=None, kwargs=None):
        self.target = target
        self.args = args or ()
        self.kwargs = kwargs or {}
        self.greenlet = None

    def start(self) -> None:
        self.greenlet = spawn(self.target, *self.args, **self.kwargs)

    def join(self, timeout=None):
        if self.greenlet is not None:
            return self.greenlet.wait()
        return None


def unmask(data: bytes, mask: tuple, length: int | None = None, offset: int = 0) -> bytes:
    """XOR ``data`` with the 4-byte websocket ``mask`` starting at ``offset``.

    Replaces eventlet's byte-at-a-time version, which spends about a
    microsecond per byte without yielding: 15 MB of client messages kept the
    whole server busy for seconds.  One big-integer XOR does it in C.
    """
    if length is None:
        length = len(data)
    if not length:
        return b''
    shift = offset % 4
    key = bytes(mask[shift:] + mask[:shift]) * (length // 4 + 1)
    return (
        int.from_bytes(data[:length], 'little') ^ int.from_bytes(key[:length], 'little')
    ).to_bytes(length, 'little')


class _EventletWebSocket:
    """eventlet's websocket with the ``send``/``wait``/``close(code)`` interface.

    With ``websocket_compression`` set and permessage-deflate negotiated, it
    hands eventlet its own compressor (the option's level), or none for a
    message under the threshold.  Write-through: an RFC 6455 websocket
    also writes frames straight to the non-blocking socket under the green
    socket (``write_nowait``), as far as it takes them at once.
    """

    # F-02

    def __init__(self, websocket, compression: WebSocketCompression):
        self._ws = websocket
        #: Whether ``write_nowait`` works: RFC 6455 framing (not the old draft 76).
        self.nonblocking_writes = isinstance(websocket, RFC6455WebSocket)
        if hasattr(websocket, '_apply_mask'):
            websocket._apply_mask = unmask
        self._compression = compression
        self._plain = False
        self._deflate = None
        deflate = websocket.extensions.get('permessage-deflate')
        # Without an extension frames are plain and can be built (and shared) here.
        self._plain_frames = not websocket.extensions
        # P-44
        #: The close code eventlet answered an invalid frame with.
        self._failure: int | None = None
        #: Whether close() ran: eventlet closed the socket, under a reader blocked on it.
        self._closed_here = False
        if self.nonblocking_writes:
            # eventlet closes the websocket itself on an invalid frame; its own
            # close() is the only place that code shows.
            websocket.close = self._closed_by_eventlet
        if compression.enabled and deflate is not None:
            self._bits = deflate.get('server_max_window_bits', zlib.MAX_WBITS)
            self._no_takeover = deflate.get('server_no_context_takeover', False)
            # eventlet asks this hook for the compressor of each frame it packs.
            websocket._get_permessage_deflate_enc = self._compressor

    def _compressor(self):
        if self._plain:
            return None
        if self._deflate is None or self._no_takeover:
            self._deflate = zlib.compressobj(self._compression.level, zlib.DEFLATED, -self._bits)
        return self._deflate

    def send(self, message) -> None:
        self._plain = not self._compression.compresses(len(message))
        self._ws.send(message)

    def write_nowait(self, message) -> bytes:
        """Frame a message and write what the socket takes now; the unsent rest."""
        if self._ws.websocket_closed:
            raise OSError('websocket is closed')
        if self._plain_frames:
            frame = plain_frame(message)
        else:
            self._plain = not self._compression.compresses(len(message))
            frame = self._ws._pack_message(message)
        return self.write_raw_nowait(frame)

    def write_raw_nowait(self, data: bytes) -> bytes:
        """Write what the socket takes of framed bytes now; the unsent rest."""
        if self._ws._sendlock.locked():  # eventlet is writing (a pong, the close)
            return data
        try:
            written = self._ws.socket.fd.send(data)
        except BlockingIOError:
            return data
        return data[written:]

    def write_raw(self, data: bytes) -> None:
        """Write framed bytes, waiting (green) until all are sent."""
        self._ws._send(data)

    def wait(self):
        try:
            message = self._ws.wait()
        except EOFError:
            # eventlet's close() closes the socket under a reader still blocked
            # on it (gunicorn's eventlet worker): after our own close that is the end.
            if not self._closed_here:
                raise
            message = None
        if message is None:
            check_close_code(self._failure)
        return message

    def _closed_by_eventlet(self, close_data=None) -> None:
        if self._closed_here:
            # A read failing on the socket our close() closed: eventlet would
            # close it again with 1011 and log 'socket shutdown error'.
            return
        if close_data is not None:
            self._failure = close_data[0]
        type(self._ws).close(self._ws, close_data=close_data)

    def close(self, code=None) -> None:
        self._closed_here = True
        type(self._ws).close(self._ws, close_data=(code, '') if code else None)

    def abort(self) -> None:
        """Drop the connection at once: a send or receive blocked on it returns."""
        try:
            self._ws.socket.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed
            pass


class WebSocketWSGI(_EventletWebSocketWSGI):
    """eventlet's websocket server, with frames limited to ``max_http_buffer_size``."""

    def __init__(self, handler, server):
        self._compression = server.websocket_compression
        super().__init__(
            lambda websocket: handler(_EventletWebSocket(websocket, self._compression)),
            # Twice the limit: the session measures messages itself (UTF-8
            # bytes for text, H-40) and closes with 1009; this only bounds
            # memory, as eventlet's own refusal closes without a reason.
            max_frame_length=2 * int(server.max_http_buffer_size),
        )

    def _negotiate_permessage_deflate(self, extensions):
        option = self._compression
        if not option.enabled:
            return None
        config = super()._negotiate_permessage_deflate(extensions)
        bits = option.server_max_window_bits
        if config is not None and bits is not None:
            # RFC 7692 7.1.2.1: the server may ask for a smaller window unprompted.
            config['server_max_window_bits'] = min(bits, config.get('server_max_window_bits', 15))
        return config

    def __call__(self, environ, start_response):
        if 'eventlet.input' not in environ:
            raise RuntimeError(
                'The eventlet async mode needs the eventlet WSGI server '
                '(eventlet.wsgi.server); see the deployment documentation.'
            )
        return super().__call__(environ, start_response)


_async = {
    'thread': EventletThread,
    'queue': queue.Queue,
    'queue_empty': queue.Empty,
    'event': Event,
    'websocket': WebSocketWSGI,
    'websocket_compression': FEATURES,
    'sleep': sleep,
}
