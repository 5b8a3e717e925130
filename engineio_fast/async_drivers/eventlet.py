"""The ``eventlet`` async mode: green threads, eventlet's websocket server."""

from __future__ import annotations

import socket

from eventlet import queue, sleep, spawn
from eventlet.green.threading import Event
from eventlet.websocket import WebSocketWSGI as _EventletWebSocketWSGI


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
    """eventlet's websocket with the ``send``/``wait``/``close(code)`` interface."""

    def __init__(self, websocket):
        self._ws = websocket
        if hasattr(websocket, '_apply_mask'):
            websocket._apply_mask = unmask

    def send(self, message) -> None:
        self._ws.send(message)

    def wait(self):
        return self._ws.wait()

    def close(self, code=None) -> None:
        self._ws.close(close_data=(code, '') if code else None)

    def abort(self) -> None:
        """Drop the connection at once: a send or receive blocked on it returns."""
        try:
            self._ws.socket.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed
            pass


class WebSocketWSGI(_EventletWebSocketWSGI):
    """eventlet's websocket server, with frames limited to ``max_http_buffer_size``."""

    def __init__(self, handler, server):
        super().__init__(
            lambda websocket: handler(_EventletWebSocket(websocket)),
            # Twice the limit: the session measures messages itself (UTF-8
            # bytes for text, H-40) and closes with 1009; this only bounds
            # memory, as eventlet's own refusal closes without a reason.
            max_frame_length=2 * int(server.max_http_buffer_size),
        )

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
    'sleep': sleep,
}
