"""Client logic shared by ``Client`` and ``AsyncClient``: options, events, and the flows.

How it works: connecting, the read and write loops and disconnecting are
written once here, as coroutines over a few I/O primitives (``_http``,
``_ws_open``, ``_ws_recv``, ``_ws_send``, ``_ws_close``, ``_queue_get``,
``_join``...).  ``AsyncClient`` implements the primitives with aiohttp and
awaits the flows; ``Client`` implements them with blocking calls (requests,
websocket-client, threads), so a flow never suspends and ``_coro.run_sync``
runs it to the end in one step (as ``Server`` does with the server flows).

Each ``connect()`` creates a ``_Connection``: its queue, WebSocket and loop
tasks.  Loops only act while their connection is the current one, so the
tail of an old connection cannot disturb the next.  States::

    disconnected --connect()--> connected --disconnect() / server 1--> disconnecting
         ^                          |                                       |
         |                          +--transport lost: handler runs here----+
         +------------------------------------------------------------------+
"""
# CL-10, CL-04

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any, Callable, TypeGuard

from . import packet
from ._constants import CLOSE, MESSAGE, NOOP, PACKET_NAMES, PING
from ._events import EventHandlers
from ._logging import choose_logger
from ._protocol import client as protocol
from .exceptions import ConnectionError
from .payload import Payload

default_logger = logging.getLogger('engineio.client')
# CL-09
#: Clients currently connected, for the SIGINT handlers.
connected_clients: list[Any] = []
#: The SIGINT handler that was installed before ``signal_handler``.
original_signal_handler: Any = None

#: Returned by ``_queue_get`` when nothing arrived in time.
_EMPTY = object()


def signal_handler(sig: int, frame: Any) -> Any:
    """SIGINT handler: disconnect every sync client, then run the previous handler."""
    for client in connected_clients[:]:
        if not client.is_asyncio_based():
            client.disconnect()
    if callable(original_signal_handler):
        return original_signal_handler(sig, frame)
    return signal.default_int_handler(sig, frame)


class _Connection:
    """The per-connection parts: packet queue, WebSocket and loop tasks."""

    __slots__ = ('queue', 'ws', 'reader', 'writer', 'writer_failed', 'closing')

    def __init__(self, queue: Any):
        self.queue = queue
        self.ws: Any = None
        self.reader: Any = None
        self.writer: Any = None
        # The write loop gave up (failed POST/send, idle timeout): the read
        # loop must stop too, even if its transport still answers.
        self.writer_failed = False
        # Set by whichever path (client disconnect, server close, transport
        # loss) first takes charge of ending this connection.
        self.closing = False


class BaseClient(EventHandlers):
    """Options, event handlers and the transport-independent half of a client."""

    event_names = ['connect', 'disconnect', 'message']
    _disconnect_args = ('reason',)

    class reason:
        """Disconnection reasons passed to the ``disconnect`` handler."""

        #: Client-initiated disconnection.
        CLIENT_DISCONNECT = 'client disconnect'
        #: Server-initiated disconnection.
        SERVER_DISCONNECT = 'server disconnect'
        #: Transport error.
        TRANSPORT_ERROR = 'transport error'

    def __init__(
        self,
        logger: bool | logging.Logger = False,
        json: Any = None,
        request_timeout: float = 5,
        http_session: Any = None,
        ssl_verify: bool = True,
        handle_sigint: bool = True,
        websocket_extra_options: dict[str, Any] | None = None,
        timestamp_requests: bool = True,
        **kwargs: Any,
    ) -> None:
        global original_signal_handler
        if (
            handle_sigint
            and original_signal_handler is None
            and threading.current_thread() is threading.main_thread()
        ):
            original_signal_handler = signal.signal(signal.SIGINT, signal_handler)
        self.handlers: dict[str, Callable[..., Any]] = {}
        self.base_url: str | None = None
        self.transports: list[str] | None = None
        self.current_transport: str | None = None
        self.sid: str | None = None
        self.upgrades: list[Any] | None = None
        self.ping_interval: float | None = None
        self.ping_timeout: float | None = None
        self.max_payload: int | None = None
        self.http: Any = None
        self.http_factory: Callable[..., Any] | None = None
        if http_session is not None:
            if callable(http_session):
                self.http_factory = http_session
            else:
                self.http = http_session
        self.external_http = self.http is not None
        self.handle_sigint = handle_sigint
        self.ws: Any = None
        self.read_loop_task: Any = None
        self.write_loop_task: Any = None
        self.queue = self.create_queue()
        self.queue_empty = self.get_queue_empty_exception()
        self.state = 'disconnected'
        self.ssl_verify = ssl_verify
        self.websocket_extra_options = dict(websocket_extra_options or {})
        self.timestamp_requests = timestamp_requests
        self.request_timeout = request_timeout
        if json is not None:
            packet.Packet.json = json
        self.logger = self._make_logger(logger)
        self._conn: _Connection | None = None
        # Re-entrant: the SIGINT handler may disconnect while the main thread holds it.
        self._close_lock = threading.RLock()
        self._handler_takes_reason: dict[Any, bool] = {}

    @staticmethod
    def _make_logger(logger: Any) -> logging.Logger:
        """The logger to use: a given one, or ``engineio.client`` at INFO/ERROR."""
        return choose_logger(logger, default_logger)

    def is_asyncio_based(self) -> bool:
        """Whether this client runs on asyncio."""
        return False

    def transport(self) -> str | None:
        """Return the name of the transport in use: ``'polling'`` or ``'websocket'``."""
        return self.current_transport

    def create_queue(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - abstract
        """Create a queue object."""
        raise NotImplementedError('must be implemented in a subclass')

    def get_queue_empty_exception(self) -> type[Exception]:  # pragma: no cover - abstract
        """Return the exception raised by an empty queue from ``create_queue()``."""
        raise NotImplementedError('must be implemented in a subclass')

    # -- URLs ------------------------------------------------------------------------------------

    def _get_engineio_url(self, url: str, engineio_path: str, transport: str) -> str:
        """The Engine.IO endpoint URL for ``transport``."""
        return protocol.engineio_url(url, engineio_path, transport)

    def _get_url_timestamp(self) -> str:
        """The cache-busting ``t`` query parameter, if enabled."""
        if not self.timestamp_requests:
            return ''
        return '&t=' + str(time.time())

    # -- I/O primitives (implemented by Client and AsyncClient) ----------------------------------

    async def _http(  # pragma: no cover
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: str | bytes | None = None,
        timeout: float | None = None,
    ) -> Any:
        """One HTTP request: ``HttpResult``, or the error text when it failed."""
        raise NotImplementedError

    async def _ws_open(self, url: str, headers: dict[str, Any]) -> Any:  # pragma: no cover
        """Open a WebSocket: the socket, an ``HttpResult`` if refused, or the error text."""
        raise NotImplementedError

    async def _ws_recv(self, ws: Any, timeout: float) -> str | bytes | None:  # pragma: no cover
        """The next frame (str or bytes), or None once the WebSocket is closed or silent."""
        raise NotImplementedError

    async def _ws_send(self, ws: Any, data: str | bytes) -> bool:  # pragma: no cover
        """Send one frame; False when the WebSocket failed."""
        raise NotImplementedError

    async def _ws_close(self, ws: Any) -> None:  # pragma: no cover
        """Close the WebSocket from the side that reads it."""
        raise NotImplementedError

    async def _ws_send_close(self, ws: Any) -> None:  # pragma: no cover
        """Start the WebSocket close handshake while another task may be reading."""
        raise NotImplementedError

    async def _ws_abort(self, ws: Any) -> None:  # pragma: no cover
        """Make a pending ``_ws_recv`` on ``ws`` return now."""
        raise NotImplementedError

    async def _queue_get(self, queue: Any, timeout: float) -> Any:  # pragma: no cover
        """The next queued item, or ``_EMPTY`` after ``timeout`` seconds."""
        raise NotImplementedError

    async def _queue_put(self, queue: Any, item: Any) -> None:  # pragma: no cover
        """Queue an item for the write loop."""
        raise NotImplementedError

    async def _join(self, task: Any, timeout: float | None) -> bool:  # pragma: no cover
        """Wait for a loop task to end; False if it is still running after ``timeout``."""
        raise NotImplementedError

    def _is_current(self, task: Any) -> bool:  # pragma: no cover
        """Whether the caller runs inside ``task``."""
        raise NotImplementedError

    def _spawn(self, flow: Callable[..., Any], *args: Any) -> Any:  # pragma: no cover
        """Run a flow of this class as a background task."""
        raise NotImplementedError

    async def _invoke(
        self, handler: Callable[..., Any], args: tuple[Any, ...]
    ) -> Any:  # pragma: no cover
        """Call an event handler and return its result."""
        raise NotImplementedError

    def _start_handler(
        self, handler: Callable[..., Any], args: tuple[Any, ...]
    ) -> Any:  # pragma: no cover
        """Run an event handler in the background."""
        raise NotImplementedError

    async def _reset(self) -> None:
        """Back to ``disconnected``: forget the session, drop a client-owned HTTP session."""
        self.state = 'disconnected'
        self.sid = None

    # -- events ----------------------------------------------------------------------------------

    async def _trigger_event(self, event: str, *args: Any, run_async: bool = False) -> Any:
        """Invoke an event handler; a failing ``connect`` handler re-raises."""
        # CL-03
        handler = self.handlers.get(event)
        if handler is None:
            return None
        if event == 'disconnect' and not self._takes_reason(handler):
            args = ()
        if run_async:
            return self._start_handler(handler, args)
        try:
            return await self._invoke(handler, args)
        except Exception:
            self.logger.exception('%s handler error', event)
            if event == 'connect':
                raise
            return None

    def _log_packet(self, action: str, pkt: packet.Packet) -> None:
        """Log one packet at INFO, without binary contents."""
        ptype = pkt.packet_type
        name = PACKET_NAMES[ptype] if 0 <= ptype < len(PACKET_NAMES) else 'UNKNOWN'
        data = '<binary>' if pkt.binary else pkt.data
        self.logger.info('%s packet %s data %s', action, name, data)

    # -- connecting ------------------------------------------------------------------------------

    async def _connect(
        self,
        url: str,
        headers: dict[str, str] | None,
        transports: str | list[str] | None,
        engineio_path: str,
    ) -> bool | None:
        """The ``connect()`` flow: handshake on the first transport, maybe upgrade."""
        if self.state != 'disconnected':
            raise ValueError(protocol.NOT_DISCONNECTED)
        self.transports = protocol.select_transports(transports)
        self._conn = conn = _Connection(self.create_queue())
        self.queue = conn.queue
        self.ws = None
        self.read_loop_task = self.write_loop_task = None
        # Our own copy: the WebSocket step moves cookies out of it.
        headers = dict(headers or {})
        if self.transports[0] == 'polling':
            await self._connect_polling(conn, url, headers, engineio_path)
            return None
        return await self._connect_websocket(conn, url, headers, engineio_path)

    async def _connect_polling(
        self, conn: _Connection, url: str, headers: dict[str, str], engineio_path: str
    ) -> None:
        """Polling handshake, connect event, then the upgrade if both sides allow it."""
        self.base_url = self._get_engineio_url(url, engineio_path, 'polling')
        self.logger.info('Attempting polling connection to %s', self.base_url)
        result = await self._http(
            'GET',
            self.base_url + self._get_url_timestamp(),
            headers=headers,
            timeout=self.request_timeout,
        )
        try:
            if isinstance(result, str):
                raise ConnectionError(protocol.CONNECTION_REFUSED)
            handshake, queued = protocol.parse_polling_handshake(result)
        except ConnectionError:
            await self._reset()
            raise
        self.logger.info('Polling connection accepted with %s', handshake)
        self._accept(handshake, 'polling')
        self.base_url += '&sid=' + handshake.sid
        await self._start_session(conn)
        for pkt in queued:
            await self._receive_packet(conn, pkt)
        if self._conn is not conn or self.state != 'connected':
            return None  # the server closed the session in its first answer
        # _accept set the upgrades; connect() the transports.
        upgrades, transports = self.upgrades, self.transports
        if 'websocket' in upgrades and 'websocket' in transports:  # type: ignore[operator]
            if await self._upgrade(conn, url, headers, engineio_path):
                return None
        self._start_loops(conn)
        return None

    async def _connect_websocket(
        self, conn: _Connection, url: str, headers: dict[str, str], engineio_path: str
    ) -> bool:
        """WebSocket-only handshake: the first frame must be OPEN."""
        self.base_url = self._get_engineio_url(url, engineio_path, 'websocket')
        self.logger.info('Attempting WebSocket connection to %s', self.base_url)
        opened = await self._ws_open(self.base_url + self._get_url_timestamp(), headers)
        if isinstance(opened, str):
            await self._reset()
            raise ConnectionError(protocol.CONNECTION_REFUSED)
        if isinstance(opened, protocol.HttpResult):
            await self._reset()
            raise protocol.status_error(opened.status, opened.body)
        ws = opened
        try:
            handshake = protocol.parse_open_frame(await self._ws_recv(ws, self.request_timeout))
        except ConnectionError:
            await self._ws_close(ws)
            await self._reset()
            raise
        self.logger.info('WebSocket connection accepted with %s', handshake)
        self._accept(handshake, 'websocket')
        conn.ws = self.ws = ws
        await self._start_session(conn)
        self._start_loops(conn)
        return True

    async def _upgrade(
        self, conn: _Connection, url: str, headers: dict[str, str], engineio_path: str
    ) -> bool:
        """Probe and switch a polling session to a WebSocket; False keeps polling."""
        # CL-02
        ws_url = self._get_engineio_url(url, engineio_path, 'websocket')
        ws_url += '&sid=' + self.sid  # type: ignore[operator]  # set by _accept
        self.logger.info('Attempting WebSocket upgrade to %s', ws_url)
        opened = await self._ws_open(ws_url + self._get_url_timestamp(), headers)
        if isinstance(opened, (str, protocol.HttpResult)):
            self.logger.warning('WebSocket upgrade failed: connection error')
            return False
        ws = opened
        upgraded = (
            await self._ws_send(ws, protocol.PROBE)
            and protocol.is_probe_reply(await self._ws_recv(ws, self.request_timeout))
            and await self._ws_send(ws, protocol.UPGRADE_PACKET)
        )
        if not upgraded:
            self.logger.warning('WebSocket upgrade failed: no PONG packet')
            await self._ws_close(ws)
            return False
        self.logger.info('WebSocket upgrade was successful')
        self.current_transport = 'websocket'
        conn.ws = self.ws = ws
        self._start_loops(conn)
        return True

    def _accept(self, handshake: protocol.Handshake, transport: str) -> None:
        """Record the session parameters of an accepted handshake."""
        # CL-04
        self.sid = handshake.sid
        self.upgrades = handshake.upgrades
        self.ping_interval = handshake.ping_interval
        self.ping_timeout = handshake.ping_timeout
        self.max_payload = handshake.max_payload
        self.current_transport = transport

    async def _start_session(self, conn: _Connection) -> None:
        """Become ``connected`` and run the connect handler; its failure undoes the connect."""
        self.state = 'connected'
        connected_clients.append(self)
        try:
            await self._trigger_event('connect')
        except Exception as exc:
            self._forget()
            # Tell the server at once rather than leave it a session to time out.
            if conn.ws is not None:
                await self._ws_send(conn.ws, protocol.CLOSE_PACKET)
                await self._ws_close(conn.ws)
            else:
                await self._http(
                    'POST',
                    self.base_url,  # type: ignore[arg-type]  # set by connect
                    headers=protocol.POST_HEADERS,
                    body=protocol.CLOSE_PACKET.encode(),
                    timeout=self.request_timeout,
                )
            self._conn = None
            await self._reset()
            raise ConnectionError(protocol.CONNECT_HANDLER_FAILED + str(exc)) from exc

    def _start_loops(self, conn: _Connection) -> None:
        """Start the write loop, then the read loop that outlives it."""
        conn.writer = self.write_loop_task = self._spawn(self._write_loop, conn)
        conn.reader = self.read_loop_task = self._spawn(self._read_loop, conn)

    def _forget(self) -> None:
        """Leave ``connected_clients`` (SIGINT no longer concerns this client)."""
        try:
            connected_clients.remove(self)
        except ValueError:
            pass

    # -- reading ---------------------------------------------------------------------------------

    def _is_live(self, conn: _Connection) -> bool:
        """Whether the loops of ``conn`` should keep going."""
        return self._conn is conn and self.state == 'connected' and not conn.writer_failed

    async def _read_loop(self, conn: _Connection) -> None:
        """Read until the connection ends; an unexpected end is a transport error."""
        # CL-05
        lost = False
        while self._is_live(conn):
            packets = await (self._read_polling() if conn.ws is None else self._read_ws(conn.ws))
            if packets is None:
                lost = True
                break
            for pkt in packets:
                if not self._is_live(conn):
                    break
                await self._receive_packet(conn, pkt)
        await self._queue_put(conn.queue, None)
        if lost and conn.ws is not None:
            # Nobody will answer a close handshake on a dead socket: don't wait for one.
            await self._ws_abort(conn.ws)
        await self._join(conn.writer, None)
        if conn.ws is not None:
            await self._ws_close(conn.ws)
        if self._claim_close(conn):
            # python-socketio reconnects when it sees 'connected' in this handler.
            await self._trigger_event('disconnect', self.reason.TRANSPORT_ERROR)
            self._forget()
            self._conn = None
            await self._reset()
        self.logger.info('Exiting read loop task')

    async def _read_polling(self) -> list[Any] | None:
        """One long-poll GET: its packets, or None when the server is gone."""
        result = await self._http(
            'GET',
            # The handshake set these before any loop started (_accept).
            self.base_url + self._get_url_timestamp(),  # type: ignore[operator]
            timeout=protocol.poll_timeout(self.ping_interval, self.ping_timeout),  # type: ignore[arg-type]
        )
        if not self._request_succeeded(result, 'Polling request failed (%s), aborting'):
            return None
        try:
            return protocol.decode_poll(result.body)
        except (ValueError, TypeError, RecursionError):
            self.logger.warning('Unexpected packet from server, aborting')
            return None

    async def _read_ws(self, ws: Any) -> list[Any] | None:
        """One WebSocket frame as a packet list, or None when the WebSocket ended."""
        frame = await self._ws_recv(
            ws,
            # set by _accept
            protocol.websocket_read_timeout(self.ping_interval, self.ping_timeout),  # type: ignore[arg-type]
        )
        if frame is None:
            return None
        try:
            return [packet.Packet(encoded_packet=frame)]
        except (ValueError, TypeError, RecursionError):
            self.logger.warning('Unexpected packet from server, aborting')
            return None

    def _request_succeeded(self, result: protocol.HttpResult | str, failure: str) -> bool:
        """Whether a poll or POST got a 2xx answer; if not, log why (``failure`` for no answer)."""
        if isinstance(result, str):
            self.logger.warning(failure, result)
            return False
        if not protocol.is_success(result.status):
            self.logger.warning(
                'Unexpected status code %s in server response, aborting', result.status
            )
            return False
        return True

    async def _receive_packet(self, conn: _Connection, pkt: packet.Packet) -> None:
        """Act on one packet from the server."""
        self._log_packet('Received', pkt)
        ptype = pkt.packet_type
        if ptype == MESSAGE:
            await self._trigger_event('message', pkt.data, run_async=True)
        elif ptype == PING:
            # Answered at once, ahead of nothing: the queue is FIFO (CL-08).
            await self._send_packet(protocol.pong_for(pkt))
        elif ptype == CLOSE:
            if self._claim_close(conn):
                await self._close(conn, self.reason.SERVER_DISCONNECT, send_close=False, abort=True)
        elif ptype != NOOP:
            self.logger.error('Received unexpected packet of type %s', ptype)

    # -- writing ---------------------------------------------------------------------------------

    async def _send_packet(self, pkt: packet.Packet) -> None:
        """Queue a packet for the write loop; dropped unless connected."""
        conn = self._conn
        if self.state != 'connected' or conn is None:
            return
        # Encoding now puts a bad value's error in the caller's hands rather
        # than the write loop's, and caches the text for the send.
        pkt.encode()
        await self._queue_put(conn.queue, pkt)
        self._log_packet('Sending', pkt)

    async def _write_loop(self, conn: _Connection) -> None:
        """Send queued packets in batches until the ``None`` marker or a failure."""
        # set by _accept
        idle = protocol.poll_timeout(self.ping_interval, self.ping_timeout)  # type: ignore[arg-type]
        stop = False
        while not stop:
            item = await self._queue_get(conn.queue, idle)
            if item is _EMPTY:
                # The server pings every interval and each ping queues a pong,
                # so this much silence means the server is gone.
                self.logger.error('packet queue is empty, aborting')
                conn.writer_failed = True
                break
            batch = []
            while item is not None:
                batch.append(item)
                try:
                    item = conn.queue.get_nowait()
                except self.queue_empty:
                    item = _EMPTY
                    break
            stop = item is None
            if batch and not await self._write_batch(conn, batch):
                conn.writer_failed = True
                break
        if conn.writer_failed and conn.ws is not None:
            await self._ws_abort(conn.ws)
        self.logger.info('Exiting write loop task')

    async def _write_batch(self, conn: _Connection, batch: list[Any]) -> bool:
        """Send packets over the current transport; False when it failed."""
        if conn.ws is None:
            bodies, dropped = protocol.polling_bodies(
                [pkt.encode(b64=True) for pkt in batch],
                self.max_payload,
                Payload.max_decode_packets,
            )
            if dropped:
                self.logger.error('Dropped %d packet(s) that are not valid UTF-8', len(dropped))
            for body in bodies:
                result = await self._http(
                    'POST',
                    self.base_url,  # type: ignore[arg-type]  # set by connect
                    headers=protocol.POST_HEADERS,
                    body=body,
                    timeout=self.request_timeout,
                )
                if not self._request_succeeded(result, 'POST request failed (%s), aborting'):
                    return False
            return True
        for pkt in batch:
            if not await self._ws_send(conn.ws, pkt.encode()):
                self.logger.warning('WebSocket connection was closed, aborting')
                return False
        return True

    # -- disconnecting ---------------------------------------------------------------------------

    def _claim_close(self, conn: _Connection | None) -> TypeGuard[_Connection]:
        """Take charge of ending ``conn``; only the first caller gets True."""
        with self._close_lock:
            if conn is None or self._conn is not conn or self.state != 'connected':
                return False
            if conn.closing:
                return False
            conn.closing = True
            return True

    async def _disconnect(self, abort: bool, reason: str | None) -> None:
        """The public ``disconnect()`` flow."""
        conn = self._conn
        if self._claim_close(conn):
            await self._close(
                conn, reason or self.reason.CLIENT_DISCONNECT, send_close=True, abort=abort
            )
            return
        if conn is not None and self._conn is conn and self.state != 'disconnected':
            # Another path is ending this connection: wait for it to finish.
            if not abort and not self._is_current(conn.reader):
                await self._join(conn.reader, None)
            return
        if conn is None or self.state == 'disconnected':
            # Not connected: back to a clean 'disconnected' state, as python-engineio's.
            await self._reset()

    async def _close(self, conn: _Connection, reason: str, send_close: bool, abort: bool) -> None:
        """End a claimed connection: queue the CLOSE, run the handler while ``disconnecting``,
        then stop the loops and reset."""
        # CL-05: the order of these steps
        if send_close:
            await self._queue_put(conn.queue, packet.Packet(CLOSE))
        await self._queue_put(conn.queue, None)
        self.state = 'disconnecting'
        await self._trigger_event('disconnect', reason)
        in_reader = self._is_current(conn.reader)
        # Let the write loop put our 1 on the wire before the socket goes
        # (python-engineio closed the WebSocket first and lost it).
        await self._join(conn.writer, self.request_timeout)
        if conn.ws is not None and not in_reader:
            # Servers need not close on our 1 (Node.js ignores it on a WebSocket):
            # start the close handshake; the read loop sees it end.
            await self._ws_send_close(conn.ws)
            if abort or not await self._join(conn.reader, self.request_timeout):
                await self._ws_abort(conn.ws)
        if not abort and not in_reader:
            await self._join(conn.reader, None)
        self.state = 'disconnected'
        self._forget()
        if self._conn is conn:
            self._conn = None
        await self._reset()
