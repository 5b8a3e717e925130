"""The demo's embedded web server: the stdlib ``wsgiref`` server, threaded, with websockets.

``wsgiref`` alone cannot serve websockets: simple-websocket (the ``threading``
driver's websocket library) needs the connection's raw socket, and wsgiref
does not put it in the environ.  werkzeug does, under ``werkzeug.socket``,
which simple-websocket knows.  This server does the same, so the demo runs
with nothing installed beyond engineio_fast's own dependencies:

- every connection runs in its own daemon thread (``ThreadingMixIn``), so a
  held long-poll GET or an open websocket does not block other requests;
- ``environ['werkzeug.socket']`` is the connection socket; on a websocket
  request simple-websocket writes the 101 answer itself and owns the socket
  until it closes it;
- the driver then raises ``ConnectionError`` (werkzeug's "client went away"),
  which ends the request without an HTTP response, as werkzeug does.

Like werkzeug's, it assumes the client waits for the 101 before sending
frames (browsers and websocket clients do): bytes already read into the
request's buffer would not reach simple-websocket, which reads the socket.

It is a development server (HTTP/1.0, one request per connection), like
werkzeug's ``run_simple``; serve real applications with gunicorn, eventlet or
an ASGI server.
"""

from __future__ import annotations

import logging
import socketserver
import sys
from typing import Callable
from wsgiref.handlers import SimpleHandler
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

logger = logging.getLogger('engineio_fast.demo')


class _Handler(ServerHandler):
    """wsgiref's request runner, quiet when the websocket took the connection over."""

    def handle_error(self) -> None:
        """Log and answer 500, except for a connection gone away or taken by a websocket."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            # The socket is closed (by the peer, or by simple-websocket after
            # the session): no one to answer, as werkzeug treats it.  The base
            # close() releases the request without an access line to log.
            SimpleHandler.close(self)
            return
        super().handle_error()


class RequestHandler(WSGIRequestHandler):
    """One HTTP request per connection, with the raw socket in ``environ['werkzeug.socket']``."""

    #: Set by ``make_server``: log each request (method, path, status).
    access_log = False
    server: WSGIServer

    def get_environ(self) -> dict:
        """The WSGI environ of this request, plus the raw connection socket."""
        environ = super().get_environ()
        environ['werkzeug.socket'] = self.connection
        return environ

    def handle(self) -> None:
        """Parse one request and run the WSGI app on it in this thread."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ''
            self.send_error(414)
            return
        if not self.parse_request():
            return
        # wfile is a writable binary stream; typeshed asks for IO[bytes].
        handler = _Handler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]  # as wsgiref's own handle()
        handler.run(self.server.get_app())  # type: ignore[arg-type]  # make_server set the app

    def log_message(self, format: str, *args) -> None:
        """Send access lines to the ``engineio_fast.demo`` logger when enabled."""
        if self.access_log:
            logger.info('%s %s', self.address_string(), format % args)


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server with a daemon thread per connection."""

    daemon_threads = True
    # Many browser tabs polling and reconnecting at once.
    request_queue_size = 64


def make_server(
    host: str, port: int, app: Callable, access_log: bool = False
) -> ThreadingWSGIServer:
    """Bind a threaded WSGI server with websocket support to ``host:port`` (0: any free port).

    :param host: the interface to listen on.
    :param port: the TCP port; 0 picks a free one (read it from ``server.server_port``).
    :param app: the WSGI application.
    :param access_log: log one line per request to the ``engineio_fast.demo`` logger.
    """
    handler = type('RequestHandler', (RequestHandler,), {'access_log': access_log})
    server = ThreadingWSGIServer((host, port), handler)
    server.set_app(app)
    return server
