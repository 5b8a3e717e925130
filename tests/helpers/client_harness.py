"""Helpers for the client tests: one blocking driver for both clients, servers to talk to.

- :class:`SyncDriver` / :class:`AsyncDriver` wrap ``Client`` / ``AsyncClient``
  behind the same blocking methods (the async one runs its own event loop in a
  thread), and record every event with the client state seen by the handler,
  so one test body covers both clients.
- :class:`NodeServerProcess` runs ``tests/node/eio_server.js`` (npm
  ``engine.io``) with the same interface as ``EchoServerProcess``.
- :class:`ScriptedServer` is a tiny raw HTTP server answering what a test
  scripts (garbage handshakes, wrong statuses, packet bursts) and recording
  every request.

Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest
from children import NODE_DIR, TIMEOUT, ChildProcess, node_executable
from server_process import SERVER_MODES, EchoServerProcess

import engineio_fast

EIO_SERVER = NODE_DIR / 'eio_server.js'
#: Servers the interop tests talk to: Python async modes (``tests/helpers/echo_server.py``),
#: and the Node.js reference (``tests/node/eio_server.js``).
SERVERS = [mode for mode in ('threading', 'asgi', 'aiohttp') if mode in SERVER_MODES] + ['node']
#: Client classes under test: ``Client`` and ``AsyncClient``.
CLIENT_KINDS = ['sync', 'async']


# -- servers -------------------------------------------------------------------------------------


class NodeServerProcess(EchoServerProcess):
    """``tests/node/eio_server.js`` in a child process, read like the Python echo server."""

    def __init__(self, **options: Any):
        node_options = {}
        if 'ping_interval' in options:
            node_options['pingInterval'] = round(options['ping_interval'] * 1000)
        if 'ping_timeout' in options:
            node_options['pingTimeout'] = round(options['ping_timeout'] * 1000)
        if 'max_http_buffer_size' in options:
            node_options['maxHttpBufferSize'] = options['max_http_buffer_size']
        self.mode = 'node'
        ChildProcess.__init__(
            self,
            [node_executable('engine.io'), str(EIO_SERVER), '0', json.dumps(node_options)],
            cwd=NODE_DIR,
            events_from_stderr=True,
        )
        self._listening()


def start_server(kind: str, **options: Any) -> EchoServerProcess:
    """Start an echo server: ``'node'`` or a Python async mode (``'threading'``...)."""
    try:
        if kind == 'node':
            return NodeServerProcess(**options)
        return EchoServerProcess(kind, **options)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


#: What each server reports when a client sends ``1`` (Node's close packet
#: handling ends the transport first, so it reports a transport close).
CLIENT_CLOSE_REASON = {'node': 'transport close'}


def client_close_reason(server: EchoServerProcess) -> str:
    """The reason the server logs for a client that disconnected properly."""
    return CLIENT_CLOSE_REASON.get(server.mode, 'client disconnect')


class Request:
    """One request as the scripted server saw it."""

    def __init__(self, method: str, path: str, headers: dict, body: bytes):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return 'Request(%s %s %r)' % (self.method, self.path, self.body[:60])


#: A script answer: (status, body) or (status, body, content_type); None holds the
#: request until the server stops (a long poll that never ends).
Answer = Any


class ScriptedServer:
    """A raw HTTP server on a free loopback port; ``script(request) -> answer``."""

    def __init__(self, script: Callable[[Request], Answer]):
        self.script = script
        self.requests: list[Request] = []
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                request = Request(self.command, self.path, dict(self.headers), body)
                with owner._changed:
                    owner.requests.append(request)
                    owner._changed.notify_all()
                answer = owner.script(request)
                if answer is None:
                    owner._stopping.wait(TIMEOUT * 3)
                    answer = (200, b'6')
                status, body, *rest = answer
                content_type = rest[0] if rest else 'text/plain; charset=UTF-8'
                self.send_response(status)
                self.send_header('Content-Type', content_type)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

            do_GET = do_POST = _answer

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def wait_for_requests(self, predicate: Callable[[list], bool], timeout: float = TIMEOUT):
        """Wait until ``predicate(requests)`` holds; the requests list."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                assert remaining > 0, 'requests never matched: %r' % self.requests
                self._changed.wait(remaining)
            return list(self.requests)

    def stop(self) -> None:
        """Release held requests and stop serving."""
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(TIMEOUT)


def open_payload(sid: str = 'scripted-sid', **overrides: Any) -> bytes:
    """A polling handshake body: OPEN with ``overrides`` applied."""
    data = {'sid': sid, 'upgrades': [], 'pingInterval': 25000, 'pingTimeout': 20000}
    data.update(overrides)
    return ('0' + json.dumps(data)).encode()


# -- client drivers --------------------------------------------------------------------------------


class Recorder:
    """Thread-safe event log: ``(name, value, state_seen_by_handler)`` tuples."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self._changed = threading.Condition()

    def add(self, *event: Any) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def named(self, name: str) -> list[tuple]:
        with self._changed:
            return [event for event in self.events if event[0] == name]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = TIMEOUT, what: str = ''):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                assert remaining > 0, 'timed out waiting for %s; events: %r' % (
                    what or 'condition',
                    self.events[-20:],
                )
                # Short waits: the predicate may watch state that does not notify us.
                self._changed.wait(min(remaining, 0.05))

    def messages(self) -> list:
        return [event[1] for event in self.named('message')]

    def wait_messages(self, count: int, timeout: float = TIMEOUT) -> list:
        self.wait_for(lambda: len(self.named('message')) >= count, timeout, '%d messages' % count)
        return self.messages()

    def wait_disconnect(self, timeout: float = TIMEOUT) -> tuple:
        self.wait_for(lambda: self.named('disconnect'), timeout, 'disconnect event')
        return self.named('disconnect')[0]


class SyncDriver:
    """``engineio_fast.Client`` with recording handlers."""

    kind = 'sync'

    def __init__(self, **options: Any):
        options.setdefault('handle_sigint', False)
        self.client = engineio_fast.Client(**options)
        self.recorder = Recorder()
        self._install_handlers()

    def _install_handlers(self) -> None:
        client, recorder = self.client, self.recorder
        client.on('connect', lambda: recorder.add('connect', None, client.state))
        client.on('message', lambda data: recorder.add('message', data, client.state))
        client.on('disconnect', lambda reason: recorder.add('disconnect', reason, client.state))

    def on(self, event: str, handler: Callable) -> None:
        self.client.on(event, handler)

    def connect(self, url: str, **kwargs: Any) -> Any:
        return self.client.connect(url, **kwargs)

    def send(self, data: Any) -> None:
        self.client.send(data)

    def disconnect(self, **kwargs: Any) -> None:
        self.client.disconnect(**kwargs)

    def wait(self, timeout: float = TIMEOUT) -> None:
        """``client.wait()`` in a helper thread, bounded."""
        waiter = threading.Thread(target=self.client.wait, daemon=True)
        waiter.start()
        waiter.join(timeout)
        assert not waiter.is_alive(), 'wait() did not return within %ss' % timeout

    def wait_messages(self, count: int, timeout: float = TIMEOUT) -> list:
        return self.recorder.wait_messages(count, timeout)

    @property
    def state(self) -> str:
        return self.client.state

    def transport(self) -> str:
        return self.client.transport()

    def close(self) -> None:
        if self.client.state != 'disconnected':
            self.client.disconnect()


class AsyncDriver(SyncDriver):
    """``engineio_fast.AsyncClient`` driven from the test thread through its own loop."""

    kind = 'async'

    def __init__(self, **options: Any):
        options.setdefault('handle_sigint', False)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.client = self.call(self._make(options))
        self.recorder = Recorder()
        self._install_handlers()

    @staticmethod
    async def _make(options: dict) -> engineio_fast.AsyncClient:
        return engineio_fast.AsyncClient(**options)

    def call(self, coro: Any, timeout: float = TIMEOUT) -> Any:
        """Run a coroutine on the driver's loop and return its result (bounded)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def connect(self, url: str, **kwargs: Any) -> Any:
        return self.call(self.client.connect(url, **kwargs))

    def send(self, data: Any) -> None:
        self.call(self.client.send(data))

    def disconnect(self, **kwargs: Any) -> None:
        self.call(self.client.disconnect(**kwargs))

    def wait(self, timeout: float = TIMEOUT) -> None:
        self.call(asyncio.wait_for(self.client.wait(), timeout), timeout + 1)

    def tasks(self) -> set:
        """The tasks alive on the driver's loop."""

        async def current() -> set:
            return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}

        return self.call(current())

    def close(self) -> None:
        try:
            if self.client.state != 'disconnected':
                self.client_disconnect_quietly()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(TIMEOUT)
            if not self._thread.is_alive():
                self.loop.close()

    def client_disconnect_quietly(self) -> None:
        try:
            self.call(self.client.disconnect())
        except Exception:  # teardown only: the test already failed or passed
            pass


DRIVERS = {'sync': SyncDriver, 'async': AsyncDriver}
