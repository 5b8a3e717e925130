"""Server logic shared by ``Server`` and ``AsyncServer``: options, checks, responses.

The request flows (handshake, long poll, POST) are coroutines written once
here; ``AsyncServer`` awaits them and ``Server`` runs them with blocking I/O
(see ``_coro``).  Subclasses create sessions and tasks in their own style.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import logging
import secrets
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Coroutine, Iterable, Iterator

from . import _codec, _constants, _ws_compression, packet, payload
from ._constants import (
    COMPRESSION_METHODS,
    DEFAULT_COMPRESSION_LEVEL,
    DEFAULT_MAX_HTTP_BUFFER_SIZE,
    MESSAGE,
    NOOP,
    OPEN,
)
from ._coro import must_await, settle
from ._events import EventHandlers
from ._logging import choose_logger
from ._protocol import http, worker_sid
from .exceptions import (
    ContentTooLongError,
    DecodeError,
    EncodeError,
    ProtocolError,
    SocketIsClosedError,
    UnknownPacketError,
)

if TYPE_CHECKING:  # annotations only
    from .base_socket import BaseSocket

default_logger = logging.getLogger('engineio.server')
#: Environ key of the extra headers for a websocket handshake's 101 response.
WEBSOCKET_HEADERS = 'engineio_fast.websocket_headers'
#: Environ key of a request's whole body, where the server had all of it before
#: the request was answered (the native transport); read from ``wsgi.input`` otherwise.
WHOLE_BODY = 'engineio_fast.body'
# P-27
#: Seconds a GET for a session its client closed still gets ``6``.
CLIENT_CLOSE_GRACE = 1.0
_NOOP_PACKET = packet.Packet(NOOP)


class RecentSids:
    """Sids remembered for ``lifetime`` seconds, each taken at most once.

    Bounded by the close rate, with no timer and no session kept alive;
    a lock because sync servers add and take from many threads.
    """

    # B-18

    def __init__(self, lifetime: float):
        self._lifetime = lifetime
        # sid -> monotonic time, oldest first.  An OrderedDict: forgetting from
        # the front of a plain dict leaves holes every later scan walks over.
        self._added: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, sid: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._forget_before(now - self._lifetime)
            self._added[sid] = now

    def take(self, sid: str) -> bool:
        """Whether ``sid`` was added less than ``lifetime`` ago; forgotten either way."""
        with self._lock:
            added = self._added.pop(sid, None)
        return added is not None and time.monotonic() - added < self._lifetime

    def _forget_before(self, oldest: float) -> None:
        added = self._added
        while added:
            _, when = next(iter(added.items()))
            if when >= oldest:
                return
            added.popitem(last=False)


class _BrokenBody(Exception):
    """A POST body that did not arrive whole: cut short, or its framing invalid."""


async def _read_some(stream: Any, size: int) -> bytes:
    """Up to ``size`` bytes of a request body; transport failures become :class:`_BrokenBody`.

    The servers report a client gone mid-body or bad chunked framing as
    ``OSError`` (``ConnectionError``, werkzeug, gevent) or ``ValueError`` (eventlet).
    """
    try:
        data: bytes = await settle(stream.read(size))
        return data
    except DecodeError:  # a body the server inflates itself and found corrupt (aiohttp)
        raise
    except (OSError, ValueError):
        raise _BrokenBody() from None


class BaseServer(EventHandlers):
    """Configuration and the transport-independent half of an Engine.IO server."""

    compression_methods = list(COMPRESSION_METHODS)
    event_names = [
        'connect',
        'disconnect',
        'message',
        'connection_error',
        'upgrade',
        'heartbeat',
        'packet',
        'packet_create',
        'drain',
    ]
    _disconnect_args = ('sid', 'reason')
    valid_transports = ['polling', 'websocket']
    _default_monitor_clients = True
    sequence_number = 0

    class reason:
        """Disconnection reasons passed to the ``disconnect`` handler."""

        #: Server-initiated disconnection.
        SERVER_DISCONNECT = _constants.SERVER_DISCONNECT
        #: Client-initiated disconnection.
        CLIENT_DISCONNECT = _constants.CLIENT_DISCONNECT
        #: The client did not answer a ping in time.
        PING_TIMEOUT = _constants.PING_TIMEOUT
        #: The client closed the transport.
        TRANSPORT_CLOSE = _constants.TRANSPORT_CLOSE
        #: The transport failed or the client broke the protocol.
        TRANSPORT_ERROR = _constants.TRANSPORT_ERROR

    def __init__(
        self,
        async_mode: str | None = None,
        ping_interval: float | tuple[float, float] = 25,
        ping_timeout: float = 20,
        max_http_buffer_size: int = DEFAULT_MAX_HTTP_BUFFER_SIZE,
        allow_upgrades: bool = True,
        http_compression: bool = True,
        compression_threshold: int = 1024,
        cookie: str | dict[str, Any] | None = None,
        cors_allowed_origins: str | list[str] | Callable[..., Any] | None = None,
        cors_credentials: bool = True,
        logger: bool | logging.Logger = False,
        json: Any = None,
        async_handlers: bool = True,
        monitor_clients: bool | None = None,
        transports: str | list[str] | None = None,
        http_compression_level: int = DEFAULT_COMPRESSION_LEVEL,
        allow_request: Callable[..., Any] | None = None,
        upgrade_timeout: float = 10,
        error_format: str = 'legacy',
        cookie_defaults: str = 'legacy',
        initial_packet: Any = None,
        cors_max_age: int | None = None,
        max_queue_size: int | None = None,
        queue_overflow: str = 'block',
        worker_id: str | None = None,
        websocket_compression: bool | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.ping_timeout = ping_timeout
        if isinstance(ping_interval, tuple):
            self.ping_interval, self.ping_interval_grace_period = ping_interval
        else:
            self.ping_interval = ping_interval
            self.ping_interval_grace_period = 0
        self.max_http_buffer_size = max_http_buffer_size
        self.allow_upgrades = allow_upgrades
        self.http_compression = http_compression
        self.compression_threshold = compression_threshold
        self.http_compression_level = http_compression_level
        self.cookie = cookie
        self.cookie_defaults = cookie_defaults
        self.cors_allowed_origins = cors_allowed_origins
        self.cors_credentials = cors_credentials
        self.cors_max_age = cors_max_age
        self.async_handlers = async_handlers
        self.allow_request = allow_request
        self.upgrade_timeout = upgrade_timeout
        if error_format not in ('legacy', 'json'):
            raise ValueError("error_format must be 'legacy' or 'json'")
        self.error_format = error_format
        if max_queue_size is not None and max_queue_size < 1:
            raise ValueError('max_queue_size must be a positive number or None')
        if queue_overflow not in ('block', 'drop_oldest', 'disconnect'):
            raise ValueError("queue_overflow must be 'block', 'drop_oldest' or 'disconnect'")
        self.max_queue_size = max_queue_size
        self.queue_overflow = queue_overflow
        self.initial_packet = initial_packet
        self.worker_id = worker_sid.check_worker_id(worker_id)
        self.websocket_compression = _ws_compression.parse(websocket_compression)
        self.sockets: dict[str, Any] = {}
        # P-28
        #: Closed polling sessions whose final packets still await a GET.
        self._lingering: dict[str, Any] = {}
        # P-27
        #: Sids of polling sessions their client closed moments ago.
        self._client_closed = RecentSids(CLIENT_CLOSE_GRACE)
        self.handlers: dict[str, Any] = {}
        self.log_message_keys: set[Any] = set()
        self.start_service_task = (
            monitor_clients if monitor_clients is not None else self._default_monitor_clients
        )
        self._monitor_clients = self.start_service_task
        self.service_task_handle = None
        self.service_task_event = None
        self._handler_takes_reason: dict[str, Any] = {}
        if json is not None:
            packet.Packet.json = json
        self.logger = self._make_logger(logger)
        self._async, self.async_mode = self._select_driver(async_mode)
        _ws_compression.warn_ignored(
            self.logger,
            self.websocket_compression,
            self.async_mode,
            self._async.get('websocket_compression', frozenset()),
        )
        if transports is not None:
            if isinstance(transports, str):
                transports = [transports]
            transports = [name for name in transports if name in self.valid_transports]
            if not transports:
                raise ValueError('No valid transports provided')
        self.transports = transports or list(self.valid_transports)
        self._timers = self._make_timers()
        self.logger.info('Server initialized for %s.', self.async_mode)

    # -- setup -------------------------------------------------------------------

    @staticmethod
    def _make_logger(logger: Any) -> logging.Logger:
        """The logger to use: a given one, or ``engineio.server`` at INFO/ERROR."""
        return choose_logger(logger, default_logger)

    def _select_driver(self, async_mode: str | None) -> tuple[dict[str, Any], str]:
        """Import the first usable driver, in upstream's order."""
        # S-01, A-01
        modes = self.async_modes()
        if async_mode is not None:
            modes = [async_mode] if async_mode in modes else []
        for mode in modes:
            try:
                driver = importlib.import_module('engineio_fast.async_drivers.' + mode)._async
            except ImportError:
                continue
            if driver.get('asyncio', False) == self.is_asyncio_based():
                return driver, mode
        raise ValueError('Invalid async_mode specified')

    def is_asyncio_based(self) -> bool:
        """Whether this server runs on asyncio: False for ``Server``."""
        return False

    def async_modes(self) -> list[str]:
        """The ``async_mode`` names this class accepts, in the order tried when none is given."""
        return ['eventlet', 'gevent_uwsgi', 'gevent', 'threading']

    # -- public API shared by both servers ----------------------------------------

    def transport(self, sid: str) -> str:
        """Return ``'websocket'`` or ``'polling'``: the transport of a client.

        :param sid: the session id of the client.
        """
        return 'websocket' if self._get_socket(sid).upgraded else 'polling'

    @property
    def clients_count(self) -> int:
        """Number of open sessions."""
        # F-14
        return len(self.sockets)

    def create_queue(self, *args: Any, **kwargs: Any) -> Any:
        """Create a queue object of the selected async mode."""
        return self._async['queue'](*args, **kwargs)

    def get_queue_empty_exception(self) -> type[BaseException]:
        """Return the queue-empty exception class of the selected async mode."""
        empty: type[BaseException] = self._async['queue_empty']
        return empty

    def create_event(self, *args: Any, **kwargs: Any) -> Any:
        """Create an event object of the selected async mode."""
        return self._async['event'](*args, **kwargs)

    def generate_id(self) -> str:
        """Generate a unique session id: 12 random bytes and a counter.

        With ``worker_id`` the id starts with ``<worker_id>.``.
        """
        # P-08
        raw = secrets.token_bytes(12) + self.sequence_number.to_bytes(3, 'big')
        self.sequence_number = (self.sequence_number + 1) & 0xFFFFFF
        sid = base64.b64encode(raw).decode('ascii').replace('/', '_').replace('+', '-')
        return worker_sid.issue(self.worker_id, sid)

    # -- sessions ----------------------------------------------------------------

    def _get_socket(self, sid: str) -> Any:
        """The open session with this id; KeyError if unknown or closed."""
        socket = self.sockets.get(sid)
        if socket is None:
            raise KeyError('Session not found')
        if socket.closed:
            self.sockets.pop(sid, None)
            raise KeyError('Session is disconnected')
        return socket

    def _session_for_send(self, sid: str, callback: Any) -> Any:
        """The open session ``send`` goes to, or None (warned, callback told)."""
        try:
            return self._get_socket(sid)
        except KeyError:
            self.logger.warning('Cannot send to sid %s', sid)
            if callback is not None:
                self._run_send_callback(callback, SocketIsClosedError())
            return None

    def _sessions_for_broadcast(self, sids: Iterable[str], pkt: packet.Packet) -> list[Any]:
        """The open sessions among ``sids``, with ``pkt`` encoded ahead for all."""
        # F-03
        sockets = self.sockets
        # The sessions' own state, not the compat properties: this runs per recipient.
        sessions = [s for s in map(sockets.get, sids) if s is not None and not s.state.closed]
        if sessions:
            try:
                pkt.encode()
                if pkt.binary and not all(s.state.upgraded for s in sessions):
                    pkt.encode(b64=True)
            except (EncodeError, UnicodeEncodeError):
                pass  # each transport drops it with its own log (K-14)
        return sessions

    def buffered_amount(self, sid: str) -> int:
        """How many packets wait to be written to a client (KeyError if unknown).

        :param sid: the session id of the client.
        """
        # F-04
        return len(self._get_socket(sid).outbox)

    def _upgrades(self, sid: str, transport: str) -> list[str]:
        """The upgrades offered in the OPEN packet."""
        # P-06
        if (
            not self.allow_upgrades
            or transport == 'websocket'
            or 'websocket' not in self.transports
        ):
            return []
        if self._async.get('websocket') is None:
            self._log_error_once(
                'The WebSocket transport is not available: install a WebSocket server '
                'compatible with the async mode to enable it.',
                'no-websocket',
            )
            return []
        return ['websocket']

    def _open_packet(self, sid: str, transport: str) -> packet.Packet:
        """The OPEN packet of a new session."""
        # P-06, P-07
        data = _codec.open_packet_json(
            sid,
            self._upgrades(sid, transport),
            round(self.ping_timeout * 1000),
            round((self.ping_interval + self.ping_interval_grace_period) * 1000),
            self.max_http_buffer_size,
        )
        return packet.Packet(OPEN, data)

    def _handshake_verdict(self, verdict: Any) -> None:
        """Turn an ``allow_request`` answer into a 403 when it refuses."""
        # F-01
        if verdict is None or verdict is True:
            return
        message = http.FORBIDDEN if verdict is False else verdict
        raise ProtocolError(403, message, http.CODE_FORBIDDEN)

    # -- responses ---------------------------------------------------------------

    def _ok(
        self,
        packets: list[packet.Packet] | None = None,
        headers: list[tuple[str, str]] | None = None,
        jsonp_index: int | None = None,
    ) -> dict[str, Any]:
        """A 200 response: the packets as a polling payload, or ``ok``."""
        if packets is None:
            return http.response(200, b'ok', http.TEXT_UTF8, headers)
        headers = (headers or []) + [('Cache-Control', 'no-store')]
        encoded = [pkt.encode(b64=True) for pkt in packets]
        try:
            body = _codec.encode_payload_bytes(encoded, jsonp_index)
        except EncodeError:
            body = _codec.encode_payload_bytes(self._drop_unencodable(encoded), jsonp_index)
        return http.response(200, body, http.TEXT_UTF8, headers)

    def _drop_unencodable(self, encoded: list[str]) -> list[str]:
        """Leave out packets that cannot be UTF-8 encoded (lone surrogates)."""
        # K-14
        kept = []
        for text in encoded:
            try:
                text.encode('utf-8')
            except UnicodeEncodeError:
                self._log_unencodable()
                continue
            kept.append(text)
        return kept

    def _log_unencodable(self) -> None:
        """One ERROR per server for a packet dropped as not UTF-8 encodable."""
        # K-14
        self._log_error_once('Dropped a packet that is not valid UTF-8', 'bad-utf8')

    def _bad_request(self, message: str | None = None) -> dict[str, Any]:
        """A 400 response with a JSON string body."""
        # P-55
        return self._error_response(ProtocolError(400, message or http.BAD_REQUEST))

    def _unauthorized(self, message: Any = None) -> dict[str, Any]:
        """A 401 response for a refused connection."""
        # S-31
        return http.unauthorized_response(message, packet.Packet.json.dumps)

    def _error_response(
        self, error: ProtocolError, environ: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Log a refused request once per kind and describe its answer."""
        self._log_error_once(error.message, 'http-%d-%d' % (error.status, error.code))
        if environ is not None and 'connection_error' in self.handlers:
            self._fire_observer('connection_error', environ, error.code, error.message)
        return http.error_response(error, self.error_format, packet.Packet.json.dumps)

    def _compress(self, environ: dict[str, Any], response: dict[str, Any]) -> None:
        """Compress a response body when large enough and accepted."""
        # H-30..H-32
        body = response['response']
        if not self.http_compression or len(body) < self.compression_threshold:
            return
        method = _codec.negotiate_encoding(
            environ.get('HTTP_ACCEPT_ENCODING'), self.compression_methods
        )
        if method is None:
            return
        response['response'] = getattr(self, '_' + method)(body)
        response['headers'].append(('Content-Encoding', method))

    def _gzip(self, response: bytes) -> bytes:
        """Compress a response body with gzip."""
        return _codec.compress(response, 'gzip', self.http_compression_level)

    def _deflate(self, response: bytes) -> bytes:
        """Compress a response body with deflate (zlib format)."""
        return _codec.compress(response, 'deflate', self.http_compression_level)

    def _response_headers(self, environ: dict[str, Any], response: dict[str, Any]) -> list[Any]:
        """Final header list: the response's plus CORS."""
        headers: list[Any] = response['headers']
        return headers + http.cors_headers(
            self.cors_allowed_origins, self.cors_credentials, environ, self.cors_max_age
        )

    def _check_origin(self, environ: dict[str, Any]) -> None:
        """Refuse a request whose Origin is not allowed."""
        # H-10
        if self.cors_allowed_origins == []:
            return
        origin = environ.get('HTTP_ORIGIN')
        if origin and not http.origin_allowed(self.cors_allowed_origins, origin, environ):
            self._log_error_once(origin + ' is not an accepted origin.', 'bad-origin')
            raise ProtocolError(400, self._bad_origin_message(origin), http.CODE_BAD_REQUEST)

    def _bad_origin_message(self, origin: str) -> str:
        """The body of a refused origin's 400."""
        # H-10
        return http.BAD_ORIGIN

    def _sid_cookie_headers(self, sid: str) -> list[Any]:
        """``Set-Cookie`` for a new session, when configured."""
        # H-20
        cookie = http.sid_cookie(self.cookie, sid, self.cookie_defaults)
        return [('Set-Cookie', cookie)] if cookie else []

    def _check_body_size(self, size: int) -> None:
        """Refuse a body over ``max_http_buffer_size``."""
        # H-40, H-41
        if size > self.max_http_buffer_size:
            self.logger.warning(
                'Refused a body of %d bytes (limit %d bytes)', size, self.max_http_buffer_size
            )
            raise ContentTooLongError()

    def _decode_payload(self, body: bytes) -> Iterator[tuple[Any, ...]]:
        """``(type, data)`` pairs of a POST body, decoded one at a time.

        Lazily, so the packets before a malformed one are handled before its
        DecodeError is raised; limits are checked before the first.
        """
        # P-25
        loads = packet._json_loads()  # Packet.json may lack loads: see _DeferredJson
        for item in _codec.split_payload(body, payload.Payload.max_decode_packets, None):
            ptype, data, _ = _codec.decode_packet(item, loads)
            yield ptype, data

    def _log_error_once(self, message: str, message_key: str) -> None:
        """Log at ERROR the first time a kind of error happens, then at INFO."""
        if message_key not in self.log_message_keys:
            self.log_message_keys.add(message_key)
            self.logger.error(
                message + ' (further occurrences of this error will be logged with level INFO)'
            )
        else:
            self.logger.info(message)

    # -- request flows -----------------------------------------------------------

    async def _handle_http(self, environ: dict[str, Any], start_response: Any = None) -> Any:
        """Answer one request: a response dict with final headers, or a websocket's result."""
        try:
            response = await self._route(environ, start_response)
        except ProtocolError as error:
            response = self._error_response(error, environ)
        if isinstance(response, dict):
            self._compress(environ, response)
            response['headers'] = self._response_headers(environ, response)
        return response

    def _route(self, environ: dict[str, Any], start_response: Any) -> Awaitable[Any]:
        """Check a request (origin, transport, version, JSONP, method); the flow to await."""
        # S-16
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
            return settle(self._ok())
        raise ProtocolError(400, http.BAD_REQUEST, http.CODE_BAD_HANDSHAKE_METHOD)

    async def _handle_connect(
        self, environ: dict[str, Any], start_response: Any, transport: str, jsonp_index: int | None
    ) -> Any:
        """Open a new session."""
        # P-06, P-09, P-43, S-30, S-31
        if transport == 'websocket' and not http.is_websocket_upgrade(environ):
            raise ProtocolError(400, http.BAD_UPGRADE)
        if self.allow_request is not None:
            self._handshake_verdict(await settle(self.allow_request(environ)))
        sid = self.generate_id()
        session = self._new_socket(sid)
        session.environ = environ
        self.sockets[sid] = session
        session._queue(self._open_packet(sid, transport))
        verdict = await self._call_handler('connect', (sid, environ))
        if verdict is not None and verdict is not True:
            self.sockets.pop(sid, None)
            session.closed = True
            self.logger.warning('Application rejected connection')
            return self._unauthorized(verdict or None)
        if self.initial_packet is not None:
            session._queue(packet.Packet(MESSAGE, self.initial_packet))
        session.schedule_ping()
        if transport == 'websocket':
            # Drivers that can add headers to the 101 response send the cookie (H-21).
            environ[WEBSOCKET_HEADERS] = self._sid_cookie_headers(sid)
            return await settle(session.handle_get_request(environ, start_response))
        session.connected = True
        response = self._ok(
            session._take_packets(), headers=self._sid_cookie_headers(sid), jsonp_index=jsonp_index
        )
        session._written()
        return response

    async def _handle_get(
        self,
        environ: dict[str, Any],
        start_response: Any,
        sid: str,
        transport: str,
        jsonp_index: int | None,
    ) -> Any:
        """A long poll, or the websocket of an upgrade."""
        # P-21..P-23, P-40..P-42
        lingering = self._lingering.pop(sid, None)
        if lingering is not None and transport == 'polling':
            response = self._ok(lingering._take_packets(), jsonp_index=jsonp_index)
            lingering._written()
            return response
        if transport == 'polling' and self._client_closed.take(sid):
            # A poll the client sent before its ``1``, handled after it on a
            # threaded server, ends as a pending one would (P-27).
            return self._ok([_NOOP_PACKET], jsonp_index=jsonp_index)
        session = self._usable_socket(sid) or await self._socket_for_request(sid)
        if transport == 'websocket':
            if not http.is_websocket_upgrade(environ):
                raise ProtocolError(400, http.BAD_UPGRADE)
            return await settle(session.handle_get_request(environ, start_response))
        if session.upgraded:
            await session._refuse_poll()
        packets = session.handle_get_request(environ, start_response)
        if must_await(packets):  # settle() inline: one coroutine less per poll
            packets = await packets
        response = self._ok(packets, jsonp_index=jsonp_index)
        session._written()
        return response

    async def _handle_post(self, environ: dict[str, Any], sid: str, jsonp_index: int | None) -> Any:
        """Deliver the packets of a POST."""
        # P-20, P-24, P-25, H-41, H-42
        session = self.sockets.get(sid)
        if sid in self._lingering or (session is not None and session.closing):
            # Closing, its final packet not fetched yet: a pong or message
            # crossing the close is dropped, and the next GET tells the
            # client (P-28), rather than failing its transport.
            return self._ok(jsonp_index=jsonp_index)
        session = self._usable_socket(sid) or await self._socket_for_request(sid)
        if session.upgraded:
            raise http.invalid_session(sid)
        try:
            handled = session.handle_post_request(environ)
            if must_await(handled):  # settle() inline: one coroutine less per POST
                await handled
        except ContentTooLongError:
            raise ProtocolError(413, 'Payload too large') from None
        except (DecodeError, UnknownPacketError):
            raise ProtocolError(400, http.BAD_REQUEST) from None
        return self._ok(jsonp_index=jsonp_index)

    def _body_now(self, environ: dict[str, Any]) -> bytes | None:
        """The POST body the server put whole in the environ, checked; else None."""
        body = environ.get(WHOLE_BODY)
        if body is None:
            return None
        self._check_body_size(len(body))
        return self._decoded_body(environ, body)

    async def _read_body(self, environ: dict[str, Any]) -> bytes:
        """Read a POST body that is not whole in the environ (``_body_now``); a body cut
        short or malformed in transit is a 400, never delivered."""
        try:
            return await self._read_body_checked(environ)
        except _BrokenBody:
            raise ProtocolError(400, http.BAD_REQUEST) from None

    async def _read_body_checked(self, environ: dict[str, Any]) -> bytes:
        """Read a POST body, refusing it past ``max_http_buffer_size``.

        ``wsgi.input.read`` is a plain method on WSGI servers and a coroutine
        on asyncio ones; either returns at most the bytes asked for.
        """
        # H-40, H-41
        limit = self.max_http_buffer_size
        stream = environ['wsgi.input']
        length = environ.get('CONTENT_LENGTH')
        if length:
            try:
                size = int(length)
            except ValueError:
                raise _BrokenBody() from None
            if size < 0:
                raise _BrokenBody()
            self._check_body_size(size)
            chunks = []
            received = 0
            while received < size:
                chunk = await _read_some(stream, size - received)
                if not chunk:
                    raise _BrokenBody()  # the client left before the whole body
                chunks.append(chunk)
                received += len(chunk)
            body = b''.join(chunks)
        else:
            chunks = []
            received = 0
            while received <= limit:
                chunk = await _read_some(stream, limit + 1 - received)
                if not chunk:
                    break
                chunks.append(chunk)
                received += len(chunk)
            self._check_body_size(received)
            body = b''.join(chunks)
        return self._decoded_body(environ, body)

    def _decoded_body(self, environ: dict[str, Any], body: bytes) -> bytes:
        """A body as sent, inflated when its Content-Encoding says so."""
        encoding = environ.get('HTTP_CONTENT_ENCODING')
        if encoding and encoding != 'identity':
            body = _codec.decompress(body, encoding.strip().lower(), self.max_http_buffer_size)
        return body

    def _usable_socket(self, sid: str) -> Any:
        """The session a request names when ``_socket_for_request`` would return it
        without waiting; None when that must decide."""
        socket = self.sockets.get(sid)
        if socket is None or socket.closed or not socket.connected or socket._ping_overdue():
            return None
        return socket

    async def _socket_for_request(self, sid: str) -> Any:
        """The session a request names, checked for its deadline first.

        A session still closing (its disconnect waits for earlier messages)
        is returned: a GET then gets its final packets.
        """
        # P-21, P-32
        socket = self.sockets.get(sid)
        if socket is None or socket.closed:
            misrouted = socket is None and worker_sid.misrouted(sid, self.worker_id)
            if misrouted:
                self._log_error_once(misrouted, 'misrouted-sid')
            raise http.invalid_session(sid)
        if socket._ping_overdue():
            await settle(self._close_socket_on_timeout(socket))
            raise http.invalid_session(sid)
        if not socket.connected:
            raise http.invalid_session(sid)
        return socket

    # -- session lifecycle -------------------------------------------------------

    def _forget_socket(self, session: BaseSocket, reason: str) -> None:
        """Drop a closed session.

        A polling session closed by the server with no GET pending keeps its
        final packets for the next GET; one closed by the client's
        ``1`` leaves its sid for ``_client_closed``; other closes
        answer the next GET 400.
        """
        # P-21, P-28, P-27
        if self.sockets.get(session.sid) is session:
            del self.sockets[session.sid]
        if session.upgraded or session.state.polling:
            return  # the websocket writer or the pending GET takes the rest
        if reason == self.reason.CLIENT_DISCONNECT:
            self._client_closed.add(session.sid)
        if reason == self.reason.SERVER_DISCONNECT and session.outbox:
            self._lingering[session.sid] = session
            self._timers.call_later(
                self.ping_interval + self.ping_timeout, lambda: self._end_lingering(session)
            )
        else:
            session._fail_unwritten()

    def _end_lingering(self, session: BaseSocket) -> None:
        """Timer callback: a closed session's final packets were never fetched."""
        if self._lingering.get(session.sid) is session:
            del self._lingering[session.sid]
            session._fail_unwritten()

    def _close_socket_on_timeout(self, session: BaseSocket) -> Any:
        """Close a session whose pong is overdue; awaitable on AsyncServer."""
        # P-31
        self.logger.info('%s: client is gone, closing socket', session.sid)
        return session.close(wait=False, reason=self.reason.PING_TIMEOUT)

    def _sessions_to_close(self, sid: str | None) -> list[Any]:
        """The sessions ``disconnect(sid)`` closes, marked as forced."""
        # S-14, F-09
        sessions = list(self.sockets.values()) if sid is None else [self.sockets.get(sid)]
        closing = []
        for session in sessions:
            if session is not None and not session.closing:
                session.close_detail = 'forced close'
                closing.append(session)
        return closing

    # -- events ------------------------------------------------------------------

    async def _call_handler(self, event: str, args: tuple[Any, ...]) -> Any:
        """Run an event handler, sync or async; its errors are logged."""
        # S-33, S-34
        handler = self.handlers.get(event)
        if handler is None:
            return None
        try:
            if event == 'disconnect' and not self._takes_reason(handler):
                result = handler(args[0])
            else:
                result = handler(*args)
            if must_await(result):
                result = await result
            return result
        except Exception:
            self.logger.exception('%s handler error', event)
            if event == 'connect':
                return False
            return None

    def _fire_observer(self, event: str, *args: Any) -> None:
        """Run an observability handler inline; a coroutine one as a task."""
        # F-09, F-10
        handler = self.handlers.get(event)
        if handler is not None:
            self._run_inline(event + ' handler', handler, args)

    def _run_send_callback(self, callback: Any, error: BaseException | None) -> None:
        """Run a send callback with None or the error that kept the packet."""
        # F-04
        self._run_inline('send callback', callback, (error,))

    def _run_inline(self, what: str, function: Any, args: tuple[Any, ...]) -> None:
        """Call ``function(*args)`` now, logging its error; an awaitable result runs
        as a task."""
        try:
            result = function(*args)
        except Exception:
            self.logger.exception('%s error', what)
            return
        if inspect.isawaitable(result):
            self._spawn_flow(self._call_handler_result(what, result))

    async def _call_handler_result(self, event: str, result: Any) -> None:
        """Await what a handler returned, logging its error."""
        try:
            await result
        except Exception:
            self.logger.exception('%s handler error', event)

    def _start_delivery(self, session: Any, flow: Coroutine[Any, Any, Any]) -> None:
        """Run a session's message delivery flow concurrently with its reader."""
        self._spawn_flow(flow)

    # -- scheduling, supplied by the subclasses ------------------------------------

    def _make_timers(self) -> Any:  # pragma: no cover
        """The timer service running heartbeats."""
        # P-30, B-18
        raise NotImplementedError

    def _new_socket(self, sid: str) -> Any:  # pragma: no cover
        """A new session object (looked up at call time)."""
        # C-06
        raise NotImplementedError

    def _spawn_flow(self, flow: Coroutine[Any, Any, Any]) -> Any:  # pragma: no cover
        """Run a flow coroutine on its own thread, greenlet or task; the task."""
        raise NotImplementedError

    async def _join_flow(self, task: Any) -> None:  # pragma: no cover
        """Wait for a task started by ``_spawn_flow``."""
        raise NotImplementedError
