"""The Engine.IO client for threads: requests for polling, websocket-client for WebSocket.

The connect, read, write and disconnect flows live in ``base_client``; this
module supplies their blocking primitives and runs each flow with
``run_sync``.  The read and write loops are daemon threads.
"""

from __future__ import annotations

import queue
import ssl
import threading
import time
from base64 import b64encode
from http.cookies import SimpleCookie
from typing import Any, Callable
from urllib.parse import urlparse

from . import base_client, packet
from ._coro import run_sync
from ._optional import lazy_imports, loaded
from ._protocol.client import HttpResult
from .base_client import _EMPTY

# requests and websocket-client: the ``client`` extra.
__getattr__ = lazy_imports(globals(), {'requests': 'requests', 'websocket': 'websocket'})


def _lib(name: str) -> Any:
    """The optional module ``name`` (or its patched stand-in), imported if needed."""
    return loaded(globals(), name)


class Client(base_client.BaseClient):
    """An Engine.IO client, with long-polling and WebSocket transports.

    :param logger: ``True`` to log at INFO level, ``False`` to log only errors,
                   or a logger object to use. Fatal errors are logged even
                   when ``logger`` is ``False``.
    :param json: An alternative JSON module with ``dumps`` and ``loads``,
                 used process-wide by all servers and clients.
    :param request_timeout: Timeout in seconds for HTTP requests and the
                            WebSocket handshake. The default is 5 seconds.
    :param http_session: A ``requests.Session`` to send requests with (for
                         proxies, certificates, custom CA bundles...), or a
                         function that returns one. A session given here is
                         never closed by the client.
    :param ssl_verify: ``False`` to accept servers with self-signed
                       certificates. The default is ``True``.
    :param handle_sigint: ``True`` to disconnect when the process is
                          interrupted; only possible when the client is
                          created in the main thread.
    :param websocket_extra_options: Keyword arguments added to
                                    ``websocket.create_connection()``.
    :param timestamp_requests: ``True`` to add a cache-busting timestamp to
                               the query string of each request.
    :param kwargs: Other keyword arguments are accepted and ignored.
                   ``socketio.Client`` passes the keyword arguments it does not
                   use itself on to this class; python-engineio would raise
                   ``TypeError`` for them.
    """

    def connect(
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

        Example usage::

            eio = engineio_fast.Client()
            eio.connect('http://localhost:5000')
        """
        return run_sync(self._connect(url, headers, transports, engineio_path))

    def wait(self) -> None:
        """Wait until the connection with the server ends."""
        task = self.read_loop_task
        if task is not None:
            task.join()

    def send(self, data: Any) -> None:
        """Send a message to the server.

        :param data: ``str``, ``bytes``, ``list`` or ``dict``; lists and dicts
                     are sent as JSON.
        """
        run_sync(self._send_packet(packet.Packet(packet.MESSAGE, data=data)))

    def disconnect(self, abort: bool = False, reason: str | None = None) -> None:
        """Disconnect from the server.

        :param abort: ``True`` to return without waiting for the background
                      tasks of the connection to end.
        :param reason: The reason given to the ``disconnect`` handler; the
                       default is ``Client.reason.CLIENT_DISCONNECT``.
        """
        run_sync(self._disconnect(abort, reason))

    def start_background_task(
        self, target: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> threading.Thread:
        """Start a background task in a daemon thread.

        :param target: the function to execute.
        :param args: positional arguments for the function.
        :param kwargs: keyword arguments for the function.

        Returns the started ``threading.Thread``; ``join()`` waits for it.
        """
        thread = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True)
        thread.start()
        return thread

    def sleep(self, seconds: float = 0) -> None:
        """Sleep for the requested amount of time.

        :param seconds: the time to sleep, in seconds.
        """
        return time.sleep(seconds)

    def create_queue(self, *args: Any, **kwargs: Any) -> queue.Queue[Any]:
        """Create a queue object."""
        return queue.Queue(*args, **kwargs)

    def get_queue_empty_exception(self) -> type[queue.Empty]:
        """Return the exception raised by an empty queue from ``create_queue()``."""
        return queue.Empty

    def create_event(self, *args: Any, **kwargs: Any) -> threading.Event:
        """Create an event object."""
        return threading.Event(*args, **kwargs)

    # -- primitives for the shared flows ---------------------------------------------------------

    def _session(self) -> Any:
        """The HTTP session, created on first use."""
        http = self.http
        if http is None:
            http = self.http_factory() if self.http_factory else _lib('requests').Session()
            self.http = http
        if not self.ssl_verify:
            http.verify = False
        return http

    async def _reset(self) -> None:
        """Back to ``disconnected``; a session the client created is closed."""
        await super()._reset()
        http = self.http
        if not self.external_http and http is not None:
            self.http = None
            http.close()

    async def _http(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: str | bytes | None = None,
        timeout: float | None = None,
    ) -> Any:
        """One blocking request: ``HttpResult``, or the error text."""
        requests = _lib('requests')
        if requests is None:
            self.logger.error('requests package is not installed -- cannot send HTTP requests!')
            return 'requests is not installed'
        try:
            response = self._session().request(
                method, url, headers=headers, data=body, timeout=timeout
            )
        except requests.exceptions.RequestException as exc:
            self.logger.info('HTTP %s request to %s failed with error %s.', method, url, exc)
            return str(exc) or type(exc).__name__
        return HttpResult(response.status_code, response.content)

    async def _ws_open(self, url: str, headers: dict[str, Any]) -> Any:
        """Open a websocket-client connection with the HTTP session's settings."""
        # CL-07
        websocket = _lib('websocket')
        if websocket is None:
            self.logger.error('websocket-client package not installed')
            return 'websocket-client is not installed'
        options = self._websocket_options(url, headers)
        try:
            return websocket.create_connection(url, **options)
        except websocket.WebSocketBadStatusException as exc:
            body = exc.resp_body if isinstance(exc.resp_body, bytes) else b''
            return HttpResult(exc.status_code, body)
        except (OSError, websocket.WebSocketException) as exc:
            self.logger.info('WebSocket connection to %s failed with error %s.', url, exc)
            return str(exc) or type(exc).__name__

    def _websocket_options(self, url: str, headers: dict[str, Any]) -> dict[str, Any]:
        """``create_connection()`` arguments: cookies, auth, cert, proxies, verify, extras."""
        options: dict[str, Any] = {}
        cookies = None
        if self.http is None and self.http_factory:
            self.http = self.http_factory()
        http = self.http
        if http is not None:
            jar = SimpleCookie()
            for cookie in http.cookies:
                jar[cookie.name] = cookie.value
            cookies = jar.output(header='', sep=';').strip()
            for name in list(headers):
                if name.lower() == 'cookie':
                    cookies = '; '.join(filter(None, [cookies, headers.pop(name)]))
                    break
            if 'Authorization' not in headers and http.auth is not None:
                if not isinstance(http.auth, tuple):
                    raise ValueError('Only basic authentication is supported')
                credentials = ('%s:%s' % http.auth).encode('utf-8')
                headers['Authorization'] = 'Basic ' + b64encode(credentials).decode('ascii')
            if isinstance(http.cert, tuple):
                options['sslopt'] = {'certfile': http.cert[0], 'keyfile': http.cert[1]}
            elif http.cert:
                options['sslopt'] = {'certfile': http.cert}
            if http.proxies:
                options.update(self._proxy_options(url, http.proxies))
            if isinstance(http.verify, str):
                options.setdefault('sslopt', {})['ca_certs'] = http.verify
            elif not http.verify:
                self.ssl_verify = False
        if not self.ssl_verify:
            options.setdefault('sslopt', {})['cert_reqs'] = ssl.CERT_NONE
        # The caller's options win over ours; copied so a reconnect sees them again.
        extra = dict(self.websocket_extra_options)
        headers.update(extra.pop('header', {}))
        options['header'] = headers
        options['cookie'] = cookies
        options['enable_multithread'] = True
        options['timeout'] = self.request_timeout
        options.update(extra)
        return options

    @staticmethod
    def _proxy_options(url: str, proxies: dict[str, Any]) -> dict[str, Any]:
        """websocket-client proxy arguments from a requests ``proxies`` mapping."""
        if url.startswith('ws://'):
            proxy = proxies.get('ws', proxies.get('http'))
        else:
            proxy = proxies.get('wss', proxies.get('https'))
        if not proxy:
            return {}
        parsed = urlparse(proxy if '://' in proxy else 'scheme://' + proxy)
        auth = (parsed.username, parsed.password) if parsed.username or parsed.password else None
        return {
            'http_proxy_host': parsed.hostname,
            'http_proxy_port': parsed.port,
            'http_proxy_auth': auth,
        }

    async def _ws_recv(self, ws: Any, timeout: float) -> Any:
        """The next frame, or None when the WebSocket closed, failed or stayed silent."""
        websocket = _lib('websocket')
        try:
            ws.settimeout(timeout)
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            self.logger.warning('Server has stopped communicating, aborting')
            return None
        except (OSError, websocket.WebSocketException) as exc:
            self.logger.info('WebSocket connection was closed (%s), aborting', exc)
            return None
        # recv() answers a close frame with '' (an empty text frame is no packet either).
        if frame == '':
            self.logger.info('WebSocket connection was closed, aborting')
            return None
        return frame

    async def _ws_send(self, ws: Any, data: str | bytes) -> bool:
        """Send one frame; a text that cannot be UTF-8 encoded is dropped."""
        # K-14
        websocket = _lib('websocket')
        try:
            if isinstance(data, str):
                ws.send(data)
            else:
                ws.send_binary(data)
        except UnicodeEncodeError:
            self.logger.error('Dropped a packet that is not valid UTF-8')
        except (OSError, websocket.WebSocketException):
            return False
        return True

    async def _ws_close(self, ws: Any) -> None:
        """Close the WebSocket, waiting briefly for the server's close frame."""
        try:
            ws.close(timeout=min(1, self.request_timeout))
        except Exception:  # already broken: nothing left to close cleanly
            pass
        # close() skips the socket once a close frame went out (send_close()
        # marks the WebSocket disconnected), so release it explicitly.
        ws.shutdown()

    async def _ws_send_close(self, ws: Any) -> None:
        """Send a close frame; the reader thread receives the server's answer."""
        try:
            ws.send_close()
        except Exception:  # already broken: the reader is ending anyway
            pass

    async def _ws_abort(self, ws: Any) -> None:
        """Shut the socket down so the thread blocked in ``recv()`` wakes up."""
        ws.abort()

    async def _queue_get(self, queue_: Any, timeout: float) -> Any:
        """Blocking get with a timeout."""
        try:
            return queue_.get(timeout=timeout)
        except queue.Empty:
            return _EMPTY

    async def _queue_put(self, queue_: Any, item: Any) -> None:
        """Put on the unbounded queue."""
        queue_.put(item)

    async def _join(self, task: Any, timeout: float | None) -> bool:
        """Join a loop thread (never the calling one)."""
        if task is None or task is threading.current_thread():
            return True
        task.join(timeout)
        return not task.is_alive()

    def _is_current(self, task: Any) -> bool:
        """Whether the calling thread is ``task``."""
        return task is not None and task is threading.current_thread()

    def _spawn(self, flow: Callable[..., Any], *args: Any) -> Any:
        """Run a shared flow to the end in a daemon thread."""
        return self.start_background_task(run_sync, flow(*args))

    async def _invoke(self, handler: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Call a handler in the calling thread."""
        return handler(*args)

    def _start_handler(self, handler: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Run a handler in its own thread (a handler may block waiting for later messages)."""
        return self.start_background_task(self._run_handler, handler, args)

    def _run_handler(self, handler: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Body of a background handler thread: errors are logged, not lost."""
        try:
            handler(*args)
        except Exception:
            self.logger.exception('message handler error')
