"""The native server's test app in a child process, and raw HTTP over one socket (tests/native).

:class:`NativeApp` runs ``tests/native/native_app.py`` with a JSON config and
reads its ``PORT`` line; :class:`RawHttp` writes request bytes as given (one
write, a byte at a time, pipelined) on one connection and reads the responses
one by one, so a test sees their order, their framing and when the server
closes the connection.  Every wait is bounded.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from children import TESTS_DIR, ChildProcess, python_env

NATIVE_APP = TESTS_DIR / 'native' / 'native_app.py'
#: Upper bound of every single wait.
TIMEOUT = 10.0


class NativeApp(ChildProcess):
    """``native_app.py --config=...``: ``port``, its lines and event lines."""

    def __init__(self, **config: Any):
        super().__init__(
            [sys.executable, str(NATIVE_APP), '--config=' + json.dumps(config)],
            env=python_env(),
            name='native_app',
        )
        try:
            line = self.wait_for_line(lambda line: line.startswith('PORT '), timeout=30)
            self.wait_for_line('HOOK startup')
        except AssertionError:
            self.stop()
            raise
        self.port = int(line.split()[1])

    def events_of(self, **match: Any) -> list[dict]:
        return [e for e in list(self.events) if all(e.get(k) == v for k, v in match.items())]


def app_path() -> Path:
    return NATIVE_APP.parent


@dataclass
class RawResponse:
    """One response as read off the wire: status line, headers (lower-case names), body."""

    version: str
    status: int
    headers: dict = field(default_factory=dict)
    body: bytes = b''
    chunked: bool = False

    @property
    def text(self) -> str:
        return self.body.decode('utf-8')

    def json(self) -> Any:
        return json.loads(self.body)


class ConnectionClosed(Exception):
    """The server closed the connection before a whole response."""


class RawHttp:
    """One client connection: raw writes, responses parsed one at a time."""

    def __init__(
        self,
        port: int,
        timeout: float = TIMEOUT,
        context: ssl.SSLContext | None = None,
        source: str | None = None,
    ):
        self.sock = socket.create_connection(
            ('127.0.0.1', port), timeout=timeout, source_address=(source, 0) if source else None
        )
        if context is not None:
            self.sock = context.wrap_socket(self.sock, server_hostname='127.0.0.1')
        self.buffer = b''
        self.eof = False

    @classmethod
    def unix(cls, path: str, timeout: float = TIMEOUT) -> RawHttp:
        """A connection to a unix domain socket."""
        client = cls.__new__(cls)
        client.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.sock.settimeout(timeout)
        client.sock.connect(path)
        client.buffer = b''
        client.eof = False
        return client

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def trickle(self, data: bytes, interval: float) -> int:
        """Send ``data`` a byte at a time, ``interval`` s apart; bytes sent before a failure."""
        for i in range(len(data)):
            try:
                self.sock.sendall(data[i : i + 1])
            except OSError:
                return i
            time.sleep(interval)
        return len(data)

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError('no complete response in time; have %r' % self.buffer[:200])
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            chunk = b''
        if not chunk:
            self.eof = True
            raise ConnectionClosed(self.buffer)
        self.buffer += chunk

    def _line(self, deadline: float) -> bytes:
        while b'\r\n' not in self.buffer:
            self._fill(deadline)
        line, _, self.buffer = self.buffer.partition(b'\r\n')
        return line

    def _exactly(self, size: int, deadline: float) -> bytes:
        while len(self.buffer) < size:
            self._fill(deadline)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def response(self, timeout: float = TIMEOUT, head: bool = False) -> RawResponse:
        """The next response; ``ConnectionClosed`` if the server closes first."""
        deadline = time.monotonic() + timeout
        while b'\r\n\r\n' not in self.buffer:
            self._fill(deadline)
        version, status, *_ = self._line(deadline).decode('latin-1').split(' ', 2)
        response = RawResponse(version, int(status))
        while line := self._line(deadline):
            name, _, value = line.decode('latin-1').partition(':')
            response.headers[name.strip().lower()] = value.strip()
        if head or response.status in (101, 204, 304):
            return response
        if response.headers.get('transfer-encoding', '').lower() == 'chunked':
            response.chunked = True
            while size := int(self._line(deadline).split(b';')[0], 16):
                response.body += self._exactly(size, deadline)
                self._exactly(2, deadline)
            self._exactly(2, deadline)
        elif 'content-length' in response.headers:
            response.body = self._exactly(int(response.headers['content-length']), deadline)
        else:  # delimited by the end of the connection
            while True:
                try:
                    self._fill(deadline)
                except ConnectionClosed:
                    break
            response.body, self.buffer = self.buffer, b''
        return response

    def closed_within(self, timeout: float) -> float | None:
        """Seconds until the server closes the connection (unread bytes dropped), or None."""
        start = time.monotonic()
        deadline = start + timeout
        while not self.eof:
            try:
                self._fill(deadline)
            except ConnectionClosed:
                break
            except (TimeoutError, socket.timeout):
                return None
        return time.monotonic() - start

    def close(self) -> None:
        self.sock.close()


def request(method: str, target: str, body: bytes = b'', version: str = '1.1', **headers) -> bytes:
    """Request bytes: ``Host``, the headers given (``_`` in names → ``-``), ``Content-Length``."""
    lines = ['%s %s HTTP/%s' % (method, target, version), 'Host: 127.0.0.1']
    lines += ['%s: %s' % (name.replace('_', '-'), value) for name, value in headers.items()]
    if body or method == 'POST':
        lines.append('Content-Length: %d' % len(body))
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + body
