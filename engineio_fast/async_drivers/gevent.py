"""The ``gevent`` async mode: greenlets; gevent-websocket or simple-websocket.

A request served by gevent-websocket's handler carries ``wsgi.websocket``
and uses it; any other gevent server gets simple-websocket, read in the
request's greenlet through gevent's own socket, so the standard library
need not be monkey-patched.
"""

import socket
import weakref

import gevent
from gevent import queue
from gevent.event import Event

from .._constants import NORMAL_CLOSURE
from .._ws_compression import warn_ignored
from ._websocket_wsgi import COMPRESSION_FEATURES, SimpleWebSocketWSGI

# Servers already warned that gevent-websocket ignores websocket_compression.
_warned: weakref.WeakSet = weakref.WeakSet()


class Thread(gevent.Greenlet):
    """A greenlet with the ``Thread(target=, args=, kwargs=)`` constructor."""

    def __init__(self, target, args=(), kwargs=None):
        super().__init__(target, *args, **(kwargs or {}))

    def _run(self):
        return self.run()


class _GeventWebSocket:
    """gevent-websocket's socket with the ``send``/``wait``/``close`` interface."""

    def __init__(self, websocket):
        self._ws = websocket

    def send(self, message) -> None:
        self._ws.send(message, binary=isinstance(message, bytes))

    def wait(self):
        message = self._ws.receive()
        # gevent-websocket returns binary messages as bytearray; the session takes bytes.
        return bytes(message) if isinstance(message, bytearray) else message

    def close(self, code: int | None = None) -> None:
        self._ws.close(code or NORMAL_CLOSURE)

    def abort(self) -> None:
        """Shut the connection down: a send or receive blocked on it returns."""
        # P-31
        try:
            self._ws.handler.socket.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed
            pass


class WebSocketWSGI(SimpleWebSocketWSGI):
    """Serves a websocket with whichever library the gevent server provides."""

    def __call__(self, environ, start_response):
        websocket = environ.get('wsgi.websocket')
        if websocket is not None:
            if self.server not in _warned:
                _warned.add(self.server)
                warn_ignored(
                    self.server.logger,
                    self.server.websocket_compression,
                    'gevent (gevent-websocket handler)',
                    frozenset(),
                )
            return self.app(_GeventWebSocket(websocket))
        return super().__call__(environ, start_response)


_async = {
    'thread': Thread,
    'queue': queue.JoinableQueue,
    'queue_empty': queue.Empty,
    'event': Event,
    'websocket': WebSocketWSGI,
    'websocket_compression': COMPRESSION_FEATURES,
    'sleep': gevent.sleep,
}
