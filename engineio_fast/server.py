"""The sync Engine.IO server: WSGI requests on threads or greenlets."""

from __future__ import annotations

import logging
from typing import Any, Callable, Coroutine, Iterable

from . import base_server, packet, socket
from ._constants import DROP_CONNECTION, MESSAGE
from ._coro import run_sync
from ._timers import TimerService
from ._workers import WorkerPool
from .exceptions import SocketIsClosedError

default_logger = logging.getLogger('engineio.server')


class _SessionContext:
    """``with server.session(sid) as session:`` — saved back on exit."""

    def __init__(self, server: Server, sid: str):
        self.server = server
        self.sid = sid
        self.session: dict[str, Any] | None = None

    def __enter__(self) -> dict[str, Any]:
        self.session = self.server.get_session(self.sid)
        return self.session

    def __exit__(self, *exc_info: object) -> None:
        # set by __enter__
        self.server.save_session(self.sid, self.session)  # type: ignore[arg-type]


class Server(base_server.BaseServer):
    """An Engine.IO server for WSGI applications.

    :param async_mode: ``'threading'``, ``'eventlet'``, ``'gevent'`` or
                       ``'gevent_uwsgi'``; by default the first of eventlet,
                       gevent_uwsgi, gevent and threading whose
                       dependencies are installed.
    :param ping_interval: seconds between pings, or ``(interval, grace)``
                          where the grace period is only advertised
                          (default 25).
    :param ping_timeout: seconds to wait for a pong before closing (20).
    :param max_http_buffer_size: largest POST body or websocket message, in
                                 bytes (1,000,000).
    :param allow_upgrades: offer the polling to websocket upgrade (True).
    :param http_compression: compress polling responses (True).
    :param compression_threshold: smallest response to compress, in bytes
                                  (1024).
    :param http_compression_level: zlib level for compressed responses (1).
    :param cookie: name of the session cookie, or a dict of its attributes.
    :param cors_allowed_origins: origins allowed to connect: None (same
                                 origin), ``'*'``, a string, a list or a
                                 callable; ``[]`` disables CORS handling.
    :param cors_credentials: send ``Access-Control-Allow-Credentials``.
    :param logger: True for INFO logs, False for errors only, or a Logger.
    :param json: a module or class with ``dumps`` and ``loads`` for packet data.
    :param async_handlers: True (the default): ``message`` handlers run off
                           the thread that received the message (on a pool
                           thread in threading mode, a greenlet otherwise),
                           one at a time per session, in arrival order, so a
                           slow handler holds back that session's later
                           messages but not its reading (pongs, upgrade) nor
                           other sessions; a close waits for the messages
                           received before it.  python-engineio instead runs
                           each message's handler in a thread of its own, so
                           they run concurrently.  False: the handler runs on
                           the request or websocket reader that received the
                           message, which reads nothing more from that client
                           until it returns.
    :param monitor_clients: close sessions whose pongs stop coming.
    :param transports: allowed transports, ``'polling'`` and/or
                       ``'websocket'``.
    :param allow_request: ``f(environ)`` run before a session exists; False
                          or an error value answers 403.
    :param upgrade_timeout: seconds allowed for a websocket upgrade (10).
    :param error_format: ``'legacy'`` (JSON string bodies) or ``'json'``
                         (``{"code", "message"}`` like the Node.js server).
    :param cookie_defaults: ``'legacy'`` or ``'js'`` cookie attributes.
    :param initial_packet: a message queued right after the OPEN packet.
    :param cors_max_age: ``Access-Control-Max-Age`` for preflight requests.
    :param max_queue_size: most packets waiting to be sent to one client;
                           None (the default) for no limit.  ``ValueError``
                           if below 1.
    :param queue_overflow: what a send to a full queue does: ``'block'``
                           (wait for room, the default), ``'drop_oldest'``
                           (drop the oldest queued message; its callback
                           gets ``QueueFullError``) or ``'disconnect'``
                           (close the session).
    :param worker_id: the name of this worker process behind a load balancer
                      (``A-Z a-z 0-9 _ -``); session ids then start with
                      ``<worker_id>.`` so the balancer can route on them, and a
                      request for another worker's session is logged as
                      misrouted (see docs/scaling.md).
    :param websocket_compression: permessage-deflate (RFC 7692) on
                                  websockets.  None (the default) or False:
                                  not offered, as on the Node.js server.
                                  True: accepted when the client offers it.
                                  A dict: as True, with ``threshold``
                                  (smallest message compressed, 1024),
                                  ``level`` (zlib, 1) and
                                  ``server_max_window_bits`` (9-15).  A
                                  driver logs once, and ignores, the parts
                                  of a setting other than None it cannot
                                  apply:

        ============  =========  =========  =====  ===========
        driver        negotiate  threshold  level  window bits
        ============  =========  =========  =====  ===========
        threading     yes        yes        yes    yes
        eventlet      yes        yes        yes    yes
        gevent        yes        yes        yes    yes
        gevent_uwsgi  no         no         no     no
        ============  =========  =========  =====  ===========

        gevent applies it through simple-websocket; under gevent-websocket's
        handler nothing applies.  Under gevent_uwsgi, uWSGI answers the
        websocket handshake itself, so the option has no effect there.
    :param kwargs: other keyword arguments are accepted and ignored, as by
                   python-engineio (reserved for future options).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Reused threads for message delivery and websocket writers (threading mode).
        self._workers = WorkerPool(self.logger) if self.async_mode == 'threading' else None

    # -- WSGI entry point --------------------------------------------------------

    def handle_request(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[Any]:
        """Handle an Engine.IO HTTP request; a WSGI application.

        :param environ: the WSGI environment.
        :param start_response: the WSGI ``start_response`` function.
        """
        response = run_sync(self._handle_http(environ, start_response))
        if not isinstance(response, dict):
            if response is DROP_CONNECTION:
                raise StopIteration()  # gunicorn drops the connection, no response
            body: list[Any] = response  # the driver's WSGI response
            return body
        headers = response['headers']
        if self.async_mode == 'gevent' and environ.get('HTTP_CONNECTION', '').lower() == 'close':
            if environ.get('SERVER_SOFTWARE', '').startswith('gevent/'):
                # gevent's pywsgi closes the connection after this response
                # without saying so, and a client that keeps connections alive
                # (Node.js 19+) sends its next request on it and gets a reset.
                headers = [*headers, ('Connection', 'close')]
        start_response(response['status'], headers)
        return [response['response']]

    # -- scheduling --------------------------------------------------------------

    def _make_timers(self) -> TimerService:
        return TimerService(self.start_background_task, self.create_event, self.logger)

    def _new_socket(self, sid: str) -> socket.Socket:
        return socket.Socket(self, sid)

    def _spawn_flow(self, flow: Coroutine[Any, Any, Any]) -> Any:
        if self._workers is not None:
            return self._workers.submit(run_sync, flow)
        return self.start_background_task(run_sync, flow)

    async def _join_flow(self, task: Any) -> None:
        task.join()

    # -- public API --------------------------------------------------------------

    def send(self, sid: str, data: Any, callback: Callable[..., Any] | None = None) -> None:
        """Send a message to a client.

        :param sid: the session id of the recipient.
        :param data: str, bytes, bytearray, list or dict (sent as JSON).
        :param callback: ``callback(error)``, run once the message was handed to
                         the transport (``error`` None) or could not be.

        A send to an unknown or closed session is logged as a warning and
        dropped; its callback gets :class:`~engineio_fast.exceptions.SocketIsClosedError`.
        With ``max_queue_size`` set, a full queue blocks the send, drops the
        oldest message (its callback gets
        :class:`~engineio_fast.exceptions.QueueFullError`) or closes the
        session, as ``queue_overflow`` says.
        """
        # F-04
        self.send_packet(sid, packet.Packet(MESSAGE, data), callback)

    def send_packet(
        self, sid: str, pkt: packet.Packet, callback: Callable[..., Any] | None = None
    ) -> None:
        """Send a raw packet to a client; the same packet may go to many clients.

        :param sid: the session id of the recipient.
        :param pkt: the :class:`~engineio_fast.packet.Packet` to send.
        :param callback: as for :meth:`send`.
        """
        session = self._session_for_send(sid, callback)
        if session is None:
            return
        try:
            session.send(pkt) if callback is None else session.send(pkt, callback)
        except SocketIsClosedError:
            self.logger.warning('Cannot send to sid %s', sid)

    def send_to_many(self, sids: Iterable[str], data: Any) -> None:
        """Send one message to many clients, encoded once.

        :param sids: the session ids of the recipients; unknown ones are skipped.
        :param data: str, bytes, bytearray, list or dict (sent as JSON).
        """
        # F-03
        self.send_packet_to_many(sids, packet.Packet(MESSAGE, data))

    def send_packet_to_many(self, sids: Iterable[str], pkt: packet.Packet) -> None:
        """Send one packet to many clients, encoded once per form.

        :param sids: the session ids of the recipients; unknown ones are skipped.
        :param pkt: the :class:`~engineio_fast.packet.Packet` to send.
        """
        # F-03
        for session in self._sessions_for_broadcast(sids, pkt):
            try:
                session.send(pkt)
            except SocketIsClosedError:
                pass

    def get_session(self, sid: str) -> dict[str, Any]:
        """Return the user session dict of a client (KeyError if unknown).

        :param sid: the session id of the client.
        """
        session: dict[str, Any] = self._get_socket(sid).session
        return session

    def save_session(self, sid: str, session: dict[str, Any]) -> None:
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
        """Close one client's session, or all of them; returns at once.

        :param sid: the session to close; all sessions when omitted.
        """
        # S-14
        for session in self._sessions_to_close(sid):
            session.close(wait=False, reason=self.reason.SERVER_DISCONNECT)

    def shutdown(self) -> None:
        """Stop the heartbeat service; sessions stay open."""
        # S-17
        self.logger.info('Engine.IO is shutting down')
        self._timers.stop()
        if self._workers is not None:
            self._workers.shutdown()

    def start_background_task(self, target: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Start ``target(*args, **kwargs)`` on a thread or greenlet of the async mode.

        :param target: the function to run; the remaining positional and
                       keyword arguments are passed to it.
        :return: the started thread or greenlet, an object with a ``join()`` method.
        """
        task = self._async['thread'](target=target, args=args, kwargs=kwargs)
        task.start()
        return task

    def sleep(self, seconds: float = 0) -> None:
        """Sleep in the way of the async mode.

        :param seconds: how long to sleep.
        """
        return self._async['sleep'](seconds)  # type: ignore[no-any-return]  # None

    # -- events ------------------------------------------------------------------

    def _trigger_event(self, event: str, *args: Any, run_async: bool = False) -> Any:
        """Run an event handler; its errors are logged."""
        # S-33, S-34
        flow = self._call_handler(event, args)
        if run_async:
            return self._spawn_flow(flow)
        return run_sync(flow)
