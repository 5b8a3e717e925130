"""The ``gevent_uwsgi`` async mode: greenlets inside uWSGI, uWSGI's websockets.

uWSGI offers websockets only when built with them (``websocket_handshake``);
without, the mode still serves polling and offers no upgrade.  uWSGI 2.1+
lets any greenlet use the connection through a request context; older
versions allow websocket calls only from the request's own greenlet, so
there sends are queued and flushed by ``wait()``, which a watcher greenlet
wakes when the connection becomes readable.
"""

import socket

import gevent
import uwsgi
from gevent import queue, selectors
from gevent.event import Event

from .gevent import Thread

_websocket_available = hasattr(uwsgi, 'websocket_handshake')

# uWSGI reports every frame as bytes: engine.io text packets start with an
# ASCII digit or "b", anything below "0" is taken for a binary frame.
_FIRST_TEXT_BYTE = ord('0')
# How often wait() returns to uWSGI so it can answer websocket pings.
_IDLE_WAKEUP = 3.0


class UWSGIWebSocket:
    """uWSGI's websocket with the ``send``/``wait``/``close`` interface."""

    def __init__(self, handler, server):
        self.app = handler
        self._received: list = []
        self._outgoing: list = []
        self._context = None
        self._readable = None
        self._watcher = None
        self._closed = False
        self._fd = None  # the connection's, while the session may use it

    def __call__(self, environ, start_response):
        uwsgi.websocket_handshake()
        self._fd = uwsgi.connection_fd()
        if hasattr(uwsgi, 'request_context'):
            self._context = uwsgi.request_context()
        else:
            self._readable = Event()
            self._watcher = gevent.spawn(self._watch, self._fd)
        try:
            self.app(self)
        finally:
            self._fd = None  # uWSGI may give the number to another connection
        uwsgi.disconnect()
        return []

    def abort(self) -> None:
        """Shut the connection down: a send blocked on it fails, ``wait()`` returns None."""
        # P-31
        if self._fd is None:
            return
        # A duplicate descriptor: shutting it down stops the connection, closing it does not.
        with socket.fromfd(self._fd, socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed
                pass

    def _watch(self, fd) -> None:
        """Set the readable event whenever the connection has data."""
        selector = selectors.DefaultSelector()
        selector.register(fd, selectors.EVENT_READ)
        try:
            while True:
                selector.select()
                self._readable.set()
        except gevent.GreenletExit:
            selector.unregister(fd)

    def close(self, code=None) -> None:
        """End the session's use of the connection; uWSGI closes it when the request ends.

        uWSGI sends no close frame of ours, so ``code`` is not transmitted.
        """
        self._closed = True
        if self._watcher is not None:
            self._watcher.kill()
            self._readable.set()

    def _transmit(self, message) -> None:
        send = uwsgi.websocket_send_binary if isinstance(message, bytes) else uwsgi.websocket_send
        if self._context is not None:
            send(message, request_context=self._context)
        else:
            send(message)

    @staticmethod
    def _as_message(frame):
        """A frame as str (text packet) or bytes (binary packet)."""
        if isinstance(frame, bytes) and frame[:1] and frame[0] >= _FIRST_TEXT_BYTE:
            return frame.decode('utf-8')
        return frame

    def send(self, message) -> None:
        """Send now (uWSGI 2.1+) or queue for the request greenlet to send."""
        if self._context is not None:
            self._transmit(message)
        else:
            self._outgoing.append(message)
            self._readable.set()

    def wait(self):
        """The next message, or None once the connection is closed."""
        if self._context is not None:
            try:
                return self._as_message(uwsgi.websocket_recv(request_context=self._context))
            except OSError:
                self.close()
                return None
        while True:
            try:
                # Queued sends leave first, so a reply (3probe to 2probe) is on
                # the wire before the next message (5) is handled: else the
                # GET that the upgrade answers could overtake it (P-41).
                while self._outgoing:
                    self._transmit(self._outgoing.pop(0))
                if self._received:
                    return self._received.pop(0)
                if self._closed:
                    return None
                while True:
                    frame = uwsgi.websocket_recv_nb()
                    if not frame:
                        break
                    self._received.append(self._as_message(frame))
            except OSError:
                self.close()
                return None
            if not self._received and self._readable.wait(timeout=_IDLE_WAKEUP):
                self._readable.clear()


_async = {
    'thread': Thread,
    'queue': queue.JoinableQueue,
    'queue_empty': queue.Empty,
    'event': Event,
    'websocket': UWSGIWebSocket if _websocket_available else None,
    'sleep': gevent.sleep,
}
