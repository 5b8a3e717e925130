"""Byte-level clients for hostile input: hand-built HTTP requests and WebSocket frames.

``send_and_read(port, data)`` writes raw request bytes and parses whatever
the server answers (:class:`RawAnswer`: the responses in order, and whether
the connection was closed).  :class:`FrameSocket` does a WebSocket opening
handshake on a plain socket and then sends frames exactly as given
(reserved bits, unknown opcodes, unmasked, fragmented...), which no
WebSocket library will produce.  Every wait is bounded.
"""

from __future__ import annotations

import base64
import http.client
import io
import os
import socket
import struct
import time
from dataclasses import dataclass, field

from raw_clients import TIMEOUT

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


@dataclass
class RawAnswer:
    """What a server answered on one connection: ``(status, headers, body)`` per response."""

    responses: list[tuple[int, http.client.HTTPMessage, bytes]] = field(default_factory=list)
    closed: bool = False

    @property
    def statuses(self) -> list[int]:
        return [status for status, _, _ in self.responses]


class _Recorded(io.BytesIO):
    """A recorded answer that ``http.client.HTTPResponse`` may not close between responses."""

    def makefile(self, mode: str) -> _Recorded:
        return self

    def close(self) -> None:
        pass


def parse_responses(data: bytes) -> list[tuple[int, http.client.HTTPMessage, bytes]]:
    """Split the bytes a server sent on one connection into complete responses."""
    responses = []
    stream = _Recorded(data)
    while stream.tell() < len(data):
        response = http.client.HTTPResponse(stream)
        try:
            response.begin()
            body = response.read()
        except (http.client.HTTPException, ValueError):
            break
        responses.append((response.status, response.msg, body))
    return responses


def read_answer(
    sock: socket.socket, expect: int | None = None, timeout: float = TIMEOUT
) -> RawAnswer:
    """Read from ``sock`` until the server closes it, or until ``expect`` complete responses came."""
    received = b''
    closed = False
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, 'no complete answer within %.1fs: %r' % (timeout, received)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b''
        if not chunk:
            closed = True
            break
        received += chunk
        if expect is not None and len(parse_responses(received)) >= expect:
            break
    return RawAnswer(parse_responses(received), closed)


def send_and_read(
    port: int,
    data: bytes,
    *,
    half_close: bool = True,
    expect: int = 1,
    timeout: float = TIMEOUT,
) -> RawAnswer:
    """Send ``data`` on a new connection and collect the answer.

    Reads until the server closes, or (without ``half_close``) until
    ``expect`` complete responses arrived, so a request whose body was
    never sent can still be answered.
    """
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server refused and closed while we were still sending
            pass
        return read_answer(sock, None if half_close else expect, timeout)


def http_head(method: str, path: str, port: int, headers: dict[str, str] | None = None) -> bytes:
    """The head of an HTTP/1.1 request, headers in the order given."""
    lines = ['%s %s HTTP/1.1' % (method, path), 'Host: 127.0.0.1:%d' % port]
    lines += ['%s: %s' % item for item in (headers or {}).items()]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')


def frame(
    opcode: int,
    payload: bytes = b'',
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
) -> bytes:
    """One WebSocket frame (RFC 6455 section 5.2), as given: nothing is checked."""
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if masked else 0
    size = len(payload)
    if size < 126:
        head += bytes([mask_bit | size])
    elif size < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack('!H', size)
    else:
        head += bytes([mask_bit | 127]) + struct.pack('!Q', size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))


class FrameSocket:
    """A WebSocket on a plain socket: frames are sent exactly as built by :func:`frame`."""

    def __init__(self, port: int, path: str):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            http_head(
                'GET',
                path,
                port,
                {
                    'Connection': 'Upgrade',
                    'Upgrade': 'websocket',
                    'Sec-WebSocket-Key': key,
                    'Sec-WebSocket-Version': '13',
                },
            )
        )
        self._buffer = b''
        while b'\r\n\r\n' not in self._buffer:
            chunk = self.sock.recv(65536)
            assert chunk, 'connection closed during the handshake: %r' % self._buffer
            self._buffer += chunk
        head, _, self._buffer = self._buffer.partition(b'\r\n\r\n')
        assert head.startswith(b'HTTP/1.1 101'), head

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read(self, size: int, deadline: float) -> bytes | None:
        while len(self._buffer) < size:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b''
            if not chunk:
                return None
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def recv(self, timeout: float = TIMEOUT) -> tuple[int, bytes] | None:
        """The next ``(opcode, payload)`` from the server; None once the connection ended."""
        deadline = time.monotonic() + timeout
        head = self._read(2, deadline)
        if head is None:
            return None
        size = head[1] & 0x7F
        if size == 126:
            size = struct.unpack('!H', self._read(2, deadline) or b'\0\0')[0]
        elif size == 127:
            size = struct.unpack('!Q', self._read(8, deadline) or b'\0' * 8)[0]
        payload = self._read(size, deadline) if size else b''
        return None if payload is None else (head[0] & 0x0F, payload)

    def recv_text(self, timeout: float = TIMEOUT) -> str:
        """The next text frame that is not a heartbeat (pings are answered)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.recv(max(deadline - time.monotonic(), 0.01))
            assert got is not None, 'connection ended while waiting for a text frame'
            opcode, payload = got
            if opcode == OP_TEXT and payload == b'2':
                self.send(frame(OP_TEXT, b'3'))
            elif opcode == OP_TEXT:
                return payload.decode('utf-8')

    def wait_end(self, timeout: float = TIMEOUT) -> int | None:
        """Read until the server closes; its close code (None: no close frame, just EOF)."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            assert remaining > 0, 'websocket still open after %.1fs' % timeout
            try:
                got = self.recv(remaining)
            except socket.timeout:
                continue
            if got is None:
                return None
            opcode, payload = got
            if opcode == OP_CLOSE:
                return struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else None

    def close(self) -> None:
        self.sock.close()
