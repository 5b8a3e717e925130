"""The Engine.IO client for asyncio, on aiohttp (polling and WebSocket).

The connect, read, write and disconnect flows live in ``base_client``; this
module supplies their asyncio primitives and awaits them.  The read and write
loops are tasks.
"""

from __future__ import annotations

import asyncio
import inspect
import signal
import ssl
import threading
import weakref
from http.cookies import SimpleCookie
from typing import Any, Callable

from . import base_client, packet
from ._optional import lazy_imports, loaded
from ._protocol.client import HttpResult
from .base_client import _EMPTY

#: Event loops that already route SIGINT to ``async_signal_handler``.
_sigint_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

# Strong references to handler tasks, so none is garbage collected while it
# runs (the event loop keeps only weak ones).
task_reference_holder: set[asyncio.Future[Any]] = set()


# aiohttp: the ``asyncio-client`` extra.
__getattr__ = lazy_imports(globals(), {'aiohttp': 'aiohttp'})


def _aiohttp() -> Any:
    """The aiohttp module (or its patched stand-in), imported if needed."""
    return loaded(globals(), 'aiohttp')


def async_signal_handler() -> None:
    """SIGINT handler: disconnect every async client, then cancel tasks and stop the loop."""

    async def _handler() -> None:
        for client in base_client.connected_clients[:]:
            if client.is_asyncio_based():
                await client.disconnect()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.get_running_loop().stop()

    task = asyncio.ensure_future(_handler())
    task_reference_holder.add(task)
    task.add_done_callback(task_reference_holder.discard)


class AsyncClient(base_client.BaseClient):
    """An Engine.IO client for asyncio, with long-polling and WebSocket transports.

    :param logger: ``True`` to log at INFO level, ``False`` to log only errors,
                   or a logger object to use. Fatal errors are logged even
                   when ``logger`` is ``False``.
    :param json: An alternative JSON module with ``dumps`` and ``loads``,
                 used process-wide by all servers and clients.
    :param request_timeout: Timeout in seconds for HTTP requests and the
                            WebSocket handshake. The default is 5 seconds.
    :param http_session: An ``aiohttp.ClientSession`` to send requests with,
                         or a function that returns one (or an awaitable of
                         one). A session given here is never closed by the
                         client.
    :param ssl_verify: ``False`` to accept servers with self-signed
                       certificates. The default is ``True``.
    :param handle_sigint: ``True`` to disconnect when the process is
                          interrupted; only possible for a loop running in
                          the main thread.
    :param websocket_extra_options: Keyword arguments added to
                                    ``aiohttp.ClientSession.ws_connect()``.
    :param timestamp_requests: ``True`` to add a cache-busting timestamp to
                               the query string of each request.
    :param kwargs: Other keyword arguments are accepted and ignored.
                   ``socketio.AsyncClient`` passes the keyword arguments it does not
                   use itself on to this class; python-engineio would raise
                   ``TypeError`` for them.
    """

    def is_asyncio_based(self) -> bool:
        """Whether this client runs on asyncio."""
        return True

    async def connect(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        transports: str | list[str] | None = None,
        engineio_path: str = 'engine.io',
    ) -> bool | None:
        """Connect to an Engine.IO server.

        :param url: The URL of the Engine.IO server, optionally with custom
                    query string parameters.
        :param headers: A dictionary of custom headers for the connection
                        request.
        :param transports: The allowed transports, ``'polling'`` and/or
                           ``'websocket'``. The first one is used to connect;
                           by default polling connects, then upgrades to
                           WebSocket.
        :param engineio_path: The endpoint where the Engine.IO server is
                              installed.

        Note: this method is a coroutine.

        Example usage::

            eio = engineio_fast.AsyncClient()
            await eio.connect('http://localhost:5000')
        """
        if self.handle_sigint and threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            if loop not in _sigint_loops:
                _sigint_loops.add(loop)
                try:
                    loop.add_signal_handler(signal.SIGINT, async_signal_handler)
                except NotImplementedError:  # Windows event loops
                    self.logger.warning('Signal handler is unsupported')
        return await self._connect(url, headers, transports, engineio_path)

    async def wait(self) -> None:
        """Wait until the connection with the server ends.

        Note: this method is a coroutine.
        """
        task = self.read_loop_task
        if task is not None:
            await asyncio.shield(task)

    async def send(self, data: Any) -> None:
        """Send a message to the server.

        :param data: ``str``, ``bytes``, ``list`` or ``dict``; lists and dicts
                     are sent as JSON.

        Note: this method is a coroutine.
        """
        await self._send_packet(packet.Packet(packet.MESSAGE, data=data))

    async def disconnect(self, abort: bool = False, reason: str | None = None) -> None:
        """Disconnect from the server.

        :param abort: ``True`` to return without waiting for the background
                      tasks of the connection to end.
        :param reason: The reason given to the ``disconnect`` handler; the
                       default is ``AsyncClient.reason.CLIENT_DISCONNECT``.

        Note: this method is a coroutine.
        """
        await self._disconnect(abort, reason)

    def start_background_task(
        self, target: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> asyncio.Future[Any]:
        """Start a background task.

        :param target: the coroutine function to run.
        :param args: positional arguments for the function.
        :param kwargs: keyword arguments for the function.

        Returns the ``asyncio.Task``.
        """
        task: asyncio.Future[Any] = asyncio.ensure_future(target(*args, **kwargs))
        return task

    async def sleep(self, seconds: float = 0) -> None:
        """Sleep for the requested amount of time.

        :param seconds: the time to sleep, in seconds.

        Note: this method is a coroutine.
        """
        return await asyncio.sleep(seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> asyncio.Queue[Any]:
        """Create a queue object."""
        return asyncio.Queue(*args, **kwargs)

    def get_queue_empty_exception(self) -> type[asyncio.QueueEmpty]:
        """Return the exception raised by an empty queue from ``create_queue()``."""
        return asyncio.QueueEmpty

    def create_event(self) -> asyncio.Event:
        """Create an event object."""
        return asyncio.Event()

    # -- primitives for the shared flows ---------------------------------------------------------

    async def _session(self) -> Any:
        """The aiohttp session, created on first use (a factory may be a coroutine)."""
        http = self.http
        if http is None or http.closed:
            if self.http_factory:
                http = self.http_factory()
                if inspect.isawaitable(http):
                    http = await http
            else:
                http = _aiohttp().ClientSession()
            self.http = http
        return http

    async def _reset(self) -> None:
        """Back to ``disconnected``; a session the client created is closed."""
        await super()._reset()
        http = self.http
        if not self.external_http and http is not None:
            self.http = None
            if not http.closed:
                await http.close()

    async def _http(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: str | bytes | None = None,
        timeout: float | None = None,
    ) -> Any:
        """One request, body read in full: ``HttpResult``, or the error text."""
        aiohttp = _aiohttp()
        if aiohttp is None:
            self.logger.error('aiohttp not installed -- cannot make HTTP requests!')
            return 'aiohttp is not installed'
        options: dict[str, Any] = {'headers': headers, 'data': body}
        options['timeout'] = aiohttp.ClientTimeout(total=timeout)
        if not self.ssl_verify:
            options['ssl'] = False
        try:
            http = await self._session()
            async with http.request(method, url, **options) as response:
                return HttpResult(response.status, await response.read())
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, RuntimeError) as exc:
            # RuntimeError: the session was closed under us by a disconnect.
            self.logger.info('HTTP %s request to %s failed with error %s.', method, url, exc)
            return str(exc) or type(exc).__name__

    async def _ws_open(self, url: str, headers: dict[str, Any]) -> Any:
        """Open an aiohttp WebSocket with the session's cookies and options."""
        # CL-07
        aiohttp = _aiohttp()
        if aiohttp is None:
            self.logger.error('aiohttp package not installed')
            return 'aiohttp is not installed'
        http = await self._session()
        # Cookies given as a header go to the jar, which the WebSocket request sends.
        for name in list(headers):
            if name.lower() == 'cookie':
                cookies = SimpleCookie(headers.pop(name))
                http.cookie_jar.update_cookies({key: m.value for key, m in cookies.items()})
                break
        options: dict[str, Any] = {}
        ws_timeout = getattr(aiohttp, 'ClientWSTimeout', None)
        if ws_timeout is not None:
            options['timeout'] = ws_timeout(ws_close=self.request_timeout)
        if not self.ssl_verify:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            options['ssl'] = context
        # The caller's options win over ours; copied so a reconnect sees them again.
        extra = dict(self.websocket_extra_options)
        headers.update(extra.pop('headers', {}))
        options['headers'] = headers
        options.update(extra)
        try:
            # The session's default timeout is minutes; a handshake gets request_timeout.
            return await asyncio.wait_for(http.ws_connect(url, **options), self.request_timeout)
        except aiohttp.WSServerHandshakeError as exc:
            return HttpResult(exc.status, b'')
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            self.logger.info('WebSocket connection to %s failed with error %s.', url, exc)
            return str(exc) or type(exc).__name__

    async def _ws_recv(self, ws: Any, timeout: float) -> Any:
        """The next data frame, or None when the WebSocket closed, failed or stayed silent."""
        aiohttp = _aiohttp()
        try:
            message = await ws.receive(timeout=timeout)
        except asyncio.TimeoutError:
            self.logger.warning('Server has stopped communicating, aborting')
            return None
        except (aiohttp.ClientError, OSError) as exc:
            self.logger.info('WebSocket connection was closed (%s), aborting', exc)
            return None
        if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            return message.data
        self.logger.info('WebSocket connection ended with %s, aborting', message.type)
        return None

    async def _ws_send(self, ws: Any, data: str | bytes) -> bool:
        """Send one frame; a text that cannot be UTF-8 encoded is dropped."""
        # K-14
        aiohttp = _aiohttp()
        try:
            if isinstance(data, str):
                await ws.send_str(data)
            else:
                await ws.send_bytes(data)
        except UnicodeEncodeError:
            self.logger.error('Dropped a packet that is not valid UTF-8')
        except (aiohttp.ClientError, OSError, RuntimeError):
            return False
        return True

    async def _ws_close(self, ws: Any) -> None:
        """Close the WebSocket (aiohttp bounds the wait for the server's close frame)."""
        try:
            await ws.close()
        except Exception:  # already broken: nothing left to close cleanly
            pass

    async def _ws_send_close(self, ws: Any) -> None:
        """aiohttp runs the whole close handshake, even with a task in ``receive()``."""
        await self._ws_close(ws)

    async def _ws_abort(self, ws: Any) -> None:
        """aiohttp's close also wakes a task waiting in ``receive()``."""
        await self._ws_close(ws)

    async def _queue_get(self, queue: Any, timeout: float) -> Any:
        """Get with a timeout."""
        try:
            return await asyncio.wait_for(queue.get(), timeout)
        except asyncio.TimeoutError:
            return _EMPTY

    async def _queue_put(self, queue: Any, item: Any) -> None:
        """Put on the unbounded queue."""
        queue.put_nowait(item)

    async def _join(self, task: Any, timeout: float | None) -> bool:
        """Wait for a loop task (never the calling one) without cancelling it."""
        if task is None or task is asyncio.current_task() or task.done():
            return True
        done, _ = await asyncio.wait({task}, timeout=timeout)
        return bool(done)

    def _is_current(self, task: Any) -> bool:
        """Whether the caller runs in ``task``."""
        return task is not None and task is asyncio.current_task()

    def _spawn(self, flow: Callable[..., Any], *args: Any) -> Any:
        """Run a shared flow as a task."""
        return self.start_background_task(flow, *args)

    async def _invoke(self, handler: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Call a handler, awaiting it if it is a coroutine function."""
        result = handler(*args)
        if inspect.isawaitable(result):
            result = await result
        return result

    def _start_handler(self, handler: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Run a handler in its own task (a handler may wait for later messages)."""
        task = self.start_background_task(self._run_handler, handler, args)
        task_reference_holder.add(task)
        task.add_done_callback(task_reference_holder.discard)
        return task

    async def _run_handler(self, handler: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Body of a background handler task: errors are logged, not lost."""
        try:
            await self._invoke(handler, args)
        except Exception:
            self.logger.exception('message handler error')
