"""Raw clients and waits for the server tests (no pytest fixtures here).

``http_request`` (``http.client``), ``PollingClient`` (a polling session:
handshake, GET, POST) and ``RawWebSocket`` (websocket-client, text/binary
frames and the close code); every wait is bounded by ``TIMEOUT``.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

import websocket
from server_process import EchoServerProcess

#: Protocol-suite settings (pingInterval 300 ms, pingTimeout 200 ms).  Message
#: handlers run inline (as python-socketio forces), so an echo is queued
#: before the POST that carried the message is answered.
SUITE_OPTIONS = {'ping_interval': 0.3, 'ping_timeout': 0.2, 'async_handlers': False}

#: Upper bound, in seconds, of every single wait on a server.
TIMEOUT = 10.0

EIO_PATH = '/engine.io/'
SEP = '\x1e'

#: Client ``transports`` settings by name, and the transport each one ends on.
TRANSPORTS = {
    'polling': ['polling'],
    'websocket': ['websocket'],
    'upgrade': ['polling', 'websocket'],
}
EXPECTED_TRANSPORT = {'polling': 'polling', 'websocket': 'websocket', 'upgrade': 'websocket'}


def wait_for_stderr(process: EchoServerProcess, text: str, timeout: float = TIMEOUT) -> str:
    """Wait until ``text`` appears in the child's stderr (its log); AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    while text not in process.stderr:
        if time.monotonic() > deadline:
            raise AssertionError(
                'no %r in the server log within %.1fs; log:\n%s' % (text, timeout, process.stderr)
            )
        time.sleep(0.02)
    return process.stderr


def next_event(process: EchoServerProcess, after: int, timeout: float = TIMEOUT, **match) -> dict:
    """The first event at index ``after`` or later whose fields equal ``match`` (bounded wait)."""
    deadline = time.monotonic() + timeout
    while True:
        for event in list(process.events)[after:]:
            if all(event.get(key) == value for key, value in match.items()):
                return event
        if time.monotonic() > deadline:
            raise AssertionError(
                'no event %r after #%d within %.1fs; got %r'
                % (match, after, timeout, process.events)
            )
        time.sleep(0.02)


def events_for(process: EchoServerProcess, sid: str) -> list[dict]:
    """The event lines received so far about one session."""
    return [event for event in list(process.events) if event.get('sid') == sid]


# -- HTTP ------------------------------------------------------------------------


@dataclass
class Response:
    """A complete HTTP response: status, reason, headers (case-insensitive ``get``), body."""

    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode('utf-8')

    def json(self) -> Any:
        return json.loads(self.body)


def assert_error(response: Response, status: int, message) -> None:
    """A legacy-format refusal (P-55): status, ``text/plain``, JSON body."""
    assert (response.status, response.json()) == (status, message), (
        response.status,
        response.body,
    )
    assert response.headers['Content-Type'] == 'text/plain'
    if status == 400:
        # ASGI servers choose their own reason phrase: "Bad Request", or none (h11).
        assert response.reason.upper() in ('BAD REQUEST', '')


def eio_path(**query: Any) -> str:
    """``/engine.io/?<query>``; keys with a None value are left out."""
    items = [(key, value) for key, value in query.items() if value is not None]
    return EIO_PATH + ('?' + urlencode(items) if items else '')


def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes | str | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = TIMEOUT,
    source_address: tuple[str, int] | None = None,
) -> Response:
    """Send one request on a new connection and read the whole response.

    A str body is sent as UTF-8; an iterable of bytes is sent chunked
    (``Transfer-Encoding: chunked``, no ``Content-Length``).  ``source_address``
    binds the client end (any 127.x.y.z address works on loopback).
    """
    if isinstance(body, str):
        body = body.encode('utf-8')
    conn = http.client.HTTPConnection(
        '127.0.0.1', port, timeout=timeout, source_address=source_address
    )
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Response(response.status, response.reason, response.msg, response.read())
    finally:
        conn.close()


def raw_http_exchange(port: int, request: bytes, timeout: float = TIMEOUT) -> bytes:
    """Send raw request bytes, half-close, and return everything the server answered."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b''.join(chunks)


WEBSOCKET_HEADERS = {
    'Connection': 'Upgrade',
    'Upgrade': 'websocket',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
}


def websocket_handshake(port: int, path: str, headers: dict[str, str] | None = None) -> Response:
    """A WebSocket opening handshake over http.client; the response (101 or a refusal).

    Used to see the status and body of a refused handshake; an accepted one
    is closed right away.
    """
    return http_request(port, 'GET', path, headers={**WEBSOCKET_HEADERS, **(headers or {})})


class PollingClient:
    """A polling session opened with a real handshake.

    :param query: extra handshake query arguments.
    """

    def __init__(self, server: EchoServerProcess, headers: dict | None = None, **query: Any):
        self.server = server
        self.port = server.port
        self.handshake = http_request(
            self.port, 'GET', eio_path(EIO=4, transport='polling', **query), headers=headers
        )
        assert self.handshake.status == 200, (self.handshake.status, self.handshake.body)
        first = self.handshake.text.split(SEP)[0]
        assert first.startswith('0'), self.handshake.text
        self.open = json.loads(first[1:])
        self.sid: str = self.open['sid']

    def path(self, **query: Any) -> str:
        return eio_path(EIO=4, transport='polling', sid=self.sid, **query)

    def get(self, headers: dict | None = None, timeout: float = TIMEOUT, **query) -> Response:
        return http_request(self.port, 'GET', self.path(**query), headers=headers, timeout=timeout)

    def post(self, body, headers: dict | None = None, timeout: float = TIMEOUT, **query):
        return http_request(
            self.port, 'POST', self.path(**query), body=body, headers=headers, timeout=timeout
        )

    def get_in_background(self, **kwargs) -> ResultThread:
        """Start a GET on a thread; ``.result()`` waits (bounded) for its response."""
        return ResultThread(self.get, **kwargs)

    def get_until(self, expected: list[str], timeout: float = TIMEOUT) -> list[str]:
        """GET until the packets received (pings answered and left out) end with ``expected``."""
        packets: list[str] = []
        deadline = time.monotonic() + timeout
        while packets[-len(expected) :] != expected:
            remaining = deadline - time.monotonic()
            assert remaining > 0, 'got %r, expected %r at the end' % (packets, expected)
            response = self.get(timeout=remaining)
            assert response.status == 200, (response.status, response.body, packets)
            for pkt in response.text.split(SEP):
                if pkt == '2':
                    assert self.post('3').status == 200
                else:
                    packets.append(pkt)
        return packets


class ResultThread(threading.Thread):
    """Runs ``target(*args, **kwargs)`` on a daemon thread and keeps its result or error."""

    def __init__(self, target: Callable, *args, **kwargs):
        super().__init__(daemon=True)
        self._call = (target, args, kwargs)
        self._result: Any = None
        self._error: BaseException | None = None
        self.start()

    def run(self) -> None:
        target, args, kwargs = self._call
        try:
            self._result = target(*args, **kwargs)
        except BaseException as exc:  # reported by result()
            self._error = exc

    def result(self, timeout: float = TIMEOUT) -> Any:
        self.join(timeout)
        assert not self.is_alive(), 'background call still running after %.1fs' % timeout
        if self._error is not None:
            raise self._error
        return self._result


# -- WebSocket -------------------------------------------------------------------


class WebSocketClosed(Exception):
    """The server closed the WebSocket; ``code`` is its close code (None without one)."""

    def __init__(self, code: int | None):
        super().__init__(code)
        self.code = code


class RawWebSocket:
    """A raw Engine.IO WebSocket (websocket-client) with bounded receives.

    ``recv()`` returns str for a text frame and bytes for a binary frame, and
    raises :class:`WebSocketClosed` once the server closes.
    """

    def __init__(self, port: int, headers: dict | None = None, **query: Any):
        query.setdefault('EIO', 4)
        query.setdefault('transport', 'websocket')
        url = 'ws://127.0.0.1:%d%s' % (port, eio_path(**query))
        headers = dict(headers or {})
        # websocket-client sends its own Origin (this server's); replace it, never add a second.
        origin = headers.pop('Origin', None)
        self.ws = websocket.create_connection(
            url, timeout=TIMEOUT, header=headers, origin=origin, enable_multithread=True
        )

    @classmethod
    def connect(cls, port: int, **kwargs) -> tuple[RawWebSocket, dict]:
        """A WebSocket-only session and its OPEN packet data (P-43)."""
        ws = cls(port, **kwargs)
        first = ws.recv()
        assert isinstance(first, str) and first.startswith('0'), first
        return ws, json.loads(first[1:])

    def send(self, text: str) -> None:
        self.ws.send(text)

    def send_binary(self, data: bytes) -> None:
        self.ws.send_binary(data)

    def recv(self, timeout: float = TIMEOUT) -> str | bytes:
        self.ws.settimeout(timeout)
        try:
            opcode, data = self.ws.recv_data()
        except websocket.WebSocketConnectionClosedException:
            raise WebSocketClosed(None) from None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise WebSocketClosed(int.from_bytes(data[:2], 'big') if len(data) >= 2 else None)
        if opcode == websocket.ABNF.OPCODE_TEXT:
            return data.decode('utf-8')
        return data

    def recv_message(self, timeout: float = TIMEOUT) -> str | bytes:
        """The next frame that is not a ping; pings are answered.

        A noop is returned like any frame: the server never sends one on a
        WebSocket (P-40).
        """
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(max(deadline - time.monotonic(), 0.01))
            if frame != '2':
                return frame
            self.send('3')

    def wait_closed(self, timeout: float = TIMEOUT) -> tuple[int | None, list]:
        """Read until the server closes; ``(close code, frames received before)``."""
        frames: list = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, 'websocket still open after %.1fs; got %r' % (timeout, frames)
            try:
                frames.append(self.recv(remaining))
            except WebSocketClosed as closed:
                return closed.code, frames
            except (websocket.WebSocketTimeoutException, TimeoutError):
                continue
            except OSError:
                return None, frames

    def close(self) -> None:
        try:
            self.ws.close(timeout=1)
        except (OSError, websocket.WebSocketException):
            pass


def check_handler_timeouts(app, transport: str, question: str, rounds: int) -> None:
    """Send the app's timeout probe ``question`` ``rounds`` times over ``transport``
    (``websocket`` or ``polling``): each is answered ``timed out`` by a handler that
    caught its ``asyncio.timeout()``, and the session still echoes afterwards."""
    if transport == 'websocket':
        ws, _ = RawWebSocket.connect(app.port)
        try:
            for _ in range(rounds):
                ws.send('4' + question)
                assert ws.recv() == '4timed out'
            ws.send('4still there')
            assert ws.recv() == '4still there'
        finally:
            ws.close()
        return
    client = PollingClient(app)
    for _ in range(rounds):
        assert client.post('4' + question).status == 200
        assert client.get_until(['4timed out']) == ['4timed out']
    assert client.post('4still there').status == 200
    assert client.get_until(['4still there']) == ['4still there']
