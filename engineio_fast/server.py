"""The sync Engine.IO server: WSGI requests on threads or greenlets."""

from __future__ import annotations

import logging
from typing import Any, Callable

from . import _codec, base_server, packet, socket
from ._constants import MESSAGE
from ._protocol import http
from .exceptions import (
    ContentTooLongError,
    DecodeError,
    ProtocolError,
    SocketIsClosedError,
    UnknownPacketError,
)

default_logger = logging.getLogger('engineio.server')


class _SessionContext:
    """``with server.session(sid) as session:`` — saved back on exit."""

    def __init__(self, server: Server, sid: str):
        self.server = server
        self.sid = sid
        self.session: dict | None = None

    def __enter__(self) -> dict:
        self.session = self.server.get_session(self.sid)
        return self.session

    def __exit__(self, *exc_info) -> None:
        self.server.save_session(self.sid, self.session)


class Server(base_server.BaseServer):
    """An Engine.IO server for WSGI applications.

    :param async_mode: ``'threading'``, ``'eventlet'``, ``'gevent'`` or
                       ``'gevent_uwsgi'``; by default the first one whose
                       dependencies are installed, in that order but
                       eventlet, gevent_uwsgi, gevent, threading.
    :param ping_interval: seconds between pings, or ``(interval, grace)``
                          where the grace period is only advertised.
    :param ping_timeout: seconds to wait for a pong before closing.
    :param max_http_buffer_size: largest POST body or websocket message, in
                                 bytes.
    :param allow_upgrades: offer the polling to websocket upgrade.
    :param http_compression: compress polling responses.
    :param compression_threshold: smallest response to compress, in bytes.
    :param http_compression_level: zlib level for compressed responses (1).
    :param cookie: name of the session cookie, or a dict of its attributes.
    :param cors_allowed_origins: origins allowed to connect: None (same
                                 origin), ``'*'``, a string, a list or a
                                 callable; ``[]`` disables CORS handling.
    :param cors_credentials: send ``Access-Control-Allow-Credentials``.
    :param logger: True for INFO logs, False for errors only, or a Logger.
    :param json: a module or class with ``dumps`` and ``loads`` for packet data.
    :param async_handlers: run ``message`` handlers off the request thread.
    :param monitor_clients: close sessions whose pongs stop coming.
    :param transports: allowed transports, ``'polling'`` and/or
                       ``'websocket'``.
    :param allow_request: ``f(environ)`` run before a session exists; False
                          or an error value answers 403.
    :param upgrade_timeout: seconds allowed for a websocket upgrade.
    :param error_format: ``'legacy'`` (JSON string bodies) or ``'json'``
                         (``{"code", "message"}`` like the Node.js server).
    :param cookie_defaults: ``'legacy'`` or ``'js'`` cookie attributes.
    :param initial_packet: a message queued right after the OPEN packet.
    :param cors_max_age: ``Access-Control-Max-Age`` for preflight requests.
    """

    # -- WSGI entry point --------------------------------------------------------

    def handle_request(self, environ: dict, start_response: Callable) -> list:
        """Handle an Engine.IO HTTP request; a WSGI application.

        :param environ: the WSGI environment.
        :param start_response: the WSGI ``start_response`` function.
        """
        try:
            response = self._route(environ, start_response)
        except ProtocolError as error:
            response = self._error_response(error, environ)
        if not isinstance(response, dict):
            return response
        self._compress(environ, response)
        start_response(response['status'], self._response_headers(environ, response))
        return [response['response']]

    def _route(self, environ: dict, start_response: Callable):
        """Check a request and run it; a response dict, or the websocket's result."""
        self._check_origin(environ)
        query = http.parse_query(environ.get('QUERY_STRING', ''))
        transport, sid, jsonp_index = http.check_query(query, self.transports)
        method = environ['REQUEST_METHOD']
        if method == 'GET':
            if sid is None:
                return self._handle_connect(environ, start_response, transport, jsonp_index)
            return self._handle_get(environ, start_response, sid, transport, jsonp_index)
        if method == 'POST':
            if sid is None:
                raise ProtocolError(400, http.BAD_REQUEST, http.CODE_BAD_HANDSHAKE_METHOD)
            return self._handle_post(environ, sid, jsonp_index)
        if method == 'OPTIONS':
            return self._ok()
        raise ProtocolError(400, http.BAD_REQUEST, http.CODE_BAD_HANDSHAKE_METHOD)

    def _handle_connect(self, environ, start_response, transport, jsonp_index):
        """Open a new session (P-06, P-09, P-43, S-30, S-31)."""
        if transport == 'websocket' and not http.is_websocket_upgrade(environ):
            raise ProtocolError(400, http.BAD_UPGRADE)
        if self.allow_request is not None:
            self._handshake_verdict(self.allow_request(environ))
        sid = self.generate_id()
        session = socket.Socket(self, sid)
        session.environ = environ
        self.sockets[sid] = session
        session._queue(self._open_packet(sid, transport))
        verdict = self._trigger_event('connect', sid, environ)
        if verdict is not None and verdict is not True:
            self.sockets.pop(sid, None)
            session.closed = True
            self.logger.warning('Application rejected connection')
            return self._unauthorized(verdict or None)
        if self.initial_packet is not None:
            session._queue(packet.Packet(MESSAGE, self.initial_packet))
        session.schedule_ping()
        if transport == 'websocket':
            return session.handle_get_request(environ, start_response)
        session.connected = True
        return self._ok(
            session.poll(), headers=self._sid_cookie_headers(sid), jsonp_index=jsonp_index
        )

    def _handle_get(self, environ, start_response, sid, transport, jsonp_index):
        """A long poll, or the websocket of an upgrade (P-21..P-23, P-40..P-42)."""
        lingering = self._lingering.pop(sid, None)
        if lingering is not None and transport == 'polling':
            return self._ok(lingering._take_packets(), jsonp_index=jsonp_index)
        session = self._socket_for_request(sid)
        if transport == 'websocket':
            if not http.is_websocket_upgrade(environ):
                raise ProtocolError(400, http.BAD_UPGRADE)
            return session.handle_get_request(environ, start_response)
        if session.upgraded:
            raise http.invalid_session(sid)
        packets = session.handle_get_request(environ, start_response)
        return self._ok(packets, jsonp_index=jsonp_index)

    def _handle_post(self, environ, sid, jsonp_index):
        """Deliver the packets of a POST (P-20, P-24, P-25, H-41, H-42)."""
        session = self.sockets.get(sid)
        if sid in self._lingering or (session is not None and session.closing):
            # Closing, its final packet not fetched yet: a pong or message
            # crossing the close is dropped, and the next GET tells the
            # client (P-28), rather than failing its transport.
            return self._ok(jsonp_index=jsonp_index)
        session = self._socket_for_request(sid)
        if session.upgraded:
            raise http.invalid_session(sid)
        try:
            session.handle_post_request(environ)
        except ContentTooLongError:
            raise ProtocolError(413, 'Payload too large') from None
        except (DecodeError, UnknownPacketError):
            raise ProtocolError(400, http.BAD_REQUEST) from None
        return self._ok(jsonp_index=jsonp_index)

    def _read_body(self, environ: dict) -> bytes:
        """Read a POST body, refusing it past ``max_http_buffer_size`` (H-40, H-41)."""
        limit = self.max_http_buffer_size
        stream = environ['wsgi.input']
        length = environ.get('CONTENT_LENGTH')
        if length:
            try:
                size = int(length)
            except ValueError:
                raise ProtocolError(400, http.BAD_REQUEST) from None
            self._check_body_size(size)
            body = stream.read(size) if size else b''
        else:
            chunks = []
            received = 0
            while received <= limit:
                chunk = stream.read(limit + 1 - received)
                if not chunk:
                    break
                chunks.append(chunk)
                received += len(chunk)
            self._check_body_size(received)
            body = b''.join(chunks)
        encoding = environ.get('HTTP_CONTENT_ENCODING')
        if encoding and encoding != 'identity':
            body = _codec.decompress(body, encoding.strip().lower(), limit)
        return body

    # -- sessions ----------------------------------------------------------------

    def _forget_socket(self, session, reason: str) -> None:
        """Drop a closed session (P-21).

        A polling session closed by the server with no GET pending keeps its
        final packets for the next GET (P-28); other closes answer it 400.
        """
        if self.sockets.get(session.sid) is session:
            del self.sockets[session.sid]
        if (
            reason == self.reason.SERVER_DISCONNECT
            and session.outbox
            and not session.upgraded
            and not session._polling
        ):
            self._lingering[session.sid] = session
            self._timers.call_later(
                self.ping_interval + self.ping_timeout,
                lambda: self._lingering.pop(session.sid, None),
            )

    def _close_socket_on_timeout(self, session) -> None:
        """Close a session whose pong is overdue (P-31)."""
        self.logger.info('%s: client is gone, closing socket', session.sid)
        session.close(wait=False, reason=self.reason.PING_TIMEOUT)

    # -- public API --------------------------------------------------------------

    def send(self, sid: str, data: Any) -> None:
        """Send a message to a client.

        :param sid: the session id of the recipient.
        :param data: str, bytes, bytearray, list or dict (sent as JSON).
        """
        self.send_packet(sid, packet.Packet(MESSAGE, data))

    def send_packet(self, sid: str, pkt: packet.Packet) -> None:
        """Send a raw packet to a client; the same packet may go to many clients.

        :param sid: the session id of the recipient.
        :param pkt: the :class:`~engineio_fast.packet.Packet` to send.
        """
        try:
            session = self._get_socket(sid)
            session.send(pkt)
        except (KeyError, SocketIsClosedError):
            self.logger.warning('Cannot send to sid %s', sid)

    def get_session(self, sid: str) -> dict:
        """Return the user session dict of a client (KeyError if unknown).

        :param sid: the session id of the client.
        """
        return self._get_socket(sid).session

    def save_session(self, sid: str, session: dict) -> None:
        """Store the user session dict of a client.

        :param sid: the session id of the client.
        :param session: the session dictionary.
        """
        self._get_socket(sid).session = session

    def session(self, sid: str) -> _SessionContext:
        """The user session of a client as a context manager that saves on exit.

        :param sid: the session id of the client.
        """
        return _SessionContext(self, sid)

    def disconnect(self, sid: str | None = None) -> None:
        """Close one client's session, or all of them; returns at once (S-14).

        :param sid: the session to close; all sessions when omitted.
        """
        sessions = list(self.sockets.values()) if sid is None else [self.sockets.get(sid)]
        for session in sessions:
            if session is not None and not session.closing:
                session.close_detail = 'forced close'
                session.close(wait=False, reason=self.reason.SERVER_DISCONNECT)

    def shutdown(self) -> None:
        """Stop the heartbeat service; sessions stay open (S-17)."""
        self.logger.info('Engine.IO is shutting down')
        self._timers.stop()

    def start_background_task(self, target: Callable, *args, **kwargs):
        """Start ``target(*args, **kwargs)`` on a thread or greenlet of the async mode.

        Returns an object with a ``join()`` method.
        """
        task = self._async['thread'](target=target, args=args, kwargs=kwargs)
        task.start()
        return task

    def sleep(self, seconds: float = 0) -> None:
        """Sleep in the way of the async mode.

        :param seconds: how long to sleep.
        """
        return self._async['sleep'](seconds)

    # -- events ------------------------------------------------------------------

    def _trigger_event(self, event: str, *args, run_async: bool = False):
        """Run an event handler; its errors are logged (S-33, S-34)."""
        handler = self.handlers.get(event)
        if handler is None:
            return None
        if run_async:
            return self.start_background_task(self._run_handler, event, handler, args)
        return self._run_handler(event, handler, args)

    def _run_handler(self, event: str, handler: Callable, args: tuple):
        try:
            if event == 'disconnect' and not self._takes_reason(handler):
                return handler(args[0])
            return handler(*args)
        except Exception:
            self.logger.exception('%s handler error', event)
            if event == 'connect':
                return False
            return None

    def _fire_observer(self, event: str, *args) -> None:
        """Run an observability handler inline (F-09, F-10)."""
        self._trigger_event(event, *args)

    def _dispatch_message(self, session, data) -> None:
        """Run the message handler inline, or on the session's delivery task."""
        if not self.async_handlers:
            self._trigger_event('message', session.sid, data)
        elif session._enqueue_message(data):
            self.start_background_task(session._deliver_messages)
