"""The ``websocket_compression`` option on every driver (F-02).

A raw client offers permessage-deflate in its opening handshake, reads the
``Sec-WebSocket-Extensions`` answer and every frame's RSV1 bit (set on a
compressed message), inflates what it receives, and checks echoes.  On the
drivers that apply a part of the option the test asserts it works; on the
others, that the server logs once that the part is ignored.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import zlib

import pytest
from raw_clients import TIMEOUT, wait_for_stderr
from server_process import EchoServerProcess

# The parts of the option each mode applies (Server docstring's table).
SUPPORT = {
    'threading': {'negotiate', 'threshold', 'level', 'window_bits'},
    'gevent': {'negotiate', 'threshold', 'level', 'window_bits'},
    'eventlet': {'negotiate', 'threshold', 'level', 'window_bits'},
    'aiohttp': {'negotiate'},
    'tornado': {'negotiate', 'level'},
    'asgi': set(),
    'hypercorn': set(),
    'native': {'negotiate', 'threshold', 'level', 'window_bits'},
    'sanic': set(),
    'gevent_uwsgi': set(),
}
# Whether the default (option None) negotiates when the client offers: off where the
# driver decides, as on the JS server; for asgi the ASGI server decides (uvicorn and
# hypercorn negotiate).
DEFAULT_NEGOTIATES = {'asgi', 'hypercorn'}
OFFER = 'permessage-deflate; client_max_window_bits'
SMALL = 'x' * 40
BIG = 'compress me ' * 400  # 4800 bytes


class DeflateWebSocket:
    """A websocket client that offers permessage-deflate and shows RSV1 per message."""

    def __init__(self, port: int, offer: str | None = OFFER):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            'GET /engine.io/?EIO=4&transport=websocket HTTP/1.1',
            'Host: 127.0.0.1:%d' % port,
            'Connection: Upgrade',
            'Upgrade: websocket',
            'Sec-WebSocket-Key: ' + key,
            'Sec-WebSocket-Version: 13',
        ]
        if offer:
            lines.append('Sec-WebSocket-Extensions: ' + offer)
        self.sock.sendall(('\r\n'.join(lines) + '\r\n\r\n').encode())
        self.buffer = b''
        head = self._read_until(b'\r\n\r\n').decode('latin-1')
        status, *header_lines = head.split('\r\n')
        assert ' 101 ' in status + ' ', head
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(':')
            headers[name.strip().lower()] = value.strip()
        #: The server's Sec-WebSocket-Extensions answer ('' when none).
        self.extensions = headers.get('sec-websocket-extensions', '')
        bits = 15
        for param in self.extensions.split(';'):
            name, _, value = param.strip().partition('=')
            if name == 'server_max_window_bits':
                bits = int(value)
        self.server_window_bits = bits
        self._inflate = zlib.decompressobj(-bits)
        #: Set to a zlib level to check each compressed message against a
        #: compressor of that level and the negotiated window, in step.
        self.mirror = None

    def _read_exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError('closed')
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError('closed in the handshake')
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def send(self, text: str) -> None:
        """One masked, uncompressed text frame."""
        payload = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 65536:
            header += bytes([0x80 | 126]) + struct.pack('!H', len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack('!Q', len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def recv(self) -> tuple[bool, str]:
        """The next data message: (was it compressed, its text)."""
        while True:
            first, second = self._read_exactly(2)
            opcode, rsv1, fin = first & 0x0F, bool(first & 0x40), bool(first & 0x80)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack('!H', self._read_exactly(2))[0]
            elif length == 127:
                length = struct.unpack('!Q', self._read_exactly(8))[0]
            payload = self._read_exactly(length)
            if opcode >= 8:
                if opcode == 8:
                    raise ConnectionError('server closed')
                continue  # ping/pong frames
            assert fin, 'the servers send each message as one frame'
            if rsv1:
                wire, payload = payload, self._inflate.decompress(payload + b'\x00\x00\xff\xff')
                if self.mirror is not None:
                    expected = self.mirror.compress(payload) + self.mirror.flush(zlib.Z_SYNC_FLUSH)
                    assert wire == expected[:-4], 'not the configured level and window'
            return rsv1, payload.decode()

    def recv_message(self) -> tuple[bool, str]:
        """The next Engine.IO message packet (pings answered)."""
        while True:
            compressed, text = self.recv()
            if text == '2':
                self.send('3')
                continue
            return compressed, text

    def close(self) -> None:
        self.sock.close()


def open_session(server, offer: str | None = OFFER, level: int | None = None) -> DeflateWebSocket:
    """A websocket session past its OPEN packet; ``level`` checks the compressed bytes."""
    ws = DeflateWebSocket(server.port, offer)
    if level is not None:
        ws.mirror = zlib.compressobj(level, zlib.DEFLATED, -ws.server_window_bits)
    _, open_packet = ws.recv()
    assert open_packet.startswith('0{'), open_packet
    return ws


def echo(ws: DeflateWebSocket, text: str) -> bool:
    """Send a message; return whether its echo came compressed (and check the echo)."""
    ws.send('4' + text)
    compressed, reply = ws.recv_message()
    assert reply == '4' + text
    return compressed


def test_default_is_off_where_the_driver_decides(start_server, server_mode):
    """F-02, P-41: None negotiates nothing where the driver can refuse; messages echo either way."""
    server = start_server()
    ws = open_session(server)
    try:
        negotiated = ws.extensions.startswith('permessage-deflate')
        assert negotiated == (server_mode in DEFAULT_NEGOTIATES), ws.extensions
        assert echo(ws, BIG) == negotiated
    finally:
        ws.close()


def test_false_turns_compression_off(start_server, server_mode):
    """F-02: False: no permessage-deflate, or a warning where the driver cannot refuse it."""
    server = start_server(websocket_compression=False, logger=True)
    ws = open_session(server)
    try:
        if 'negotiate' in SUPPORT[server_mode]:
            assert ws.extensions == ''
        else:
            wait_for_stderr(server, 'websocket_compression: negotiate not supported')
        assert echo(ws, BIG) == ws.extensions.startswith('permessage-deflate')
    finally:
        ws.close()


OPTION = {'threshold': 100, 'level': 9, 'server_max_window_bits': 10}


def test_settings_applied_where_supported(start_server, server_mode):
    """F-02: threshold, level, window bits applied, or each ignored part logged once."""
    server = start_server(websocket_compression=OPTION, logger=True)
    support = SUPPORT[server_mode]
    ignored = sorted({'threshold', 'level', 'window_bits', 'negotiate'} - support)
    if ignored:
        wait_for_stderr(
            server, 'websocket_compression: %s not supported by the' % ', '.join(ignored)
        )
    ws = open_session(server, OFFER, level=OPTION['level'] if 'level' in support else None)
    try:
        if 'negotiate' in support:
            assert ws.extensions.startswith('permessage-deflate'), ws.extensions
        if 'window_bits' in support:
            assert 'server_max_window_bits=10' in ws.extensions
        negotiated = ws.extensions.startswith('permessage-deflate')
        assert echo(ws, BIG) == negotiated
        small_compressed = echo(ws, SMALL)
        if 'threshold' in support:
            assert not small_compressed
        assert echo(ws, BIG + 'again') == negotiated  # the context still inflates
    finally:
        ws.close()
    assert server.stderr.count('websocket_compression:') <= 1


def test_client_without_offer_gets_no_compression(start_server):
    """F-02: with True, a client that offers nothing gets plain frames."""
    server = start_server(websocket_compression=True)
    ws = open_session(server, offer=None)
    try:
        assert ws.extensions == ''
        assert echo(ws, BIG) is False
    finally:
        ws.close()


@pytest.mark.parametrize(
    'value',
    ['yes', {'threshold': -1}, {'level': 10}, {'server_max_window_bits': 8}, {'bogus': 1}],
)
def test_invalid_values_are_refused(value):
    """F-02: the option is checked when the server is made."""
    import engineio_fast

    with pytest.raises(ValueError, match='websocket_compression'):
        engineio_fast.Server(async_mode='threading', websocket_compression=value)


def test_gevent_websocket_handler_warns_once():
    """F-02: under gevent-websocket's handler the option is logged once as ignored."""
    server = EchoServerProcess(
        'gevent', gevent_websocket=True, websocket_compression=True, logger=True
    )
    try:
        for _ in range(2):
            ws = open_session(server)
            try:
                assert ws.extensions == ''
                assert echo(ws, BIG) is False
            finally:
                ws.close()
        warning = 'websocket_compression: negotiate not supported by the gevent (gevent-websocket'
        wait_for_stderr(server, warning)
        assert server.stderr.count('websocket_compression:') == 1
    finally:
        server.stop()


def test_websockets_library_client_negotiates_per_setting(start_server, server_mode):
    """F-02: the websockets library (deflate offered by default) sees the setting and echoes."""
    from websockets.sync.client import connect  # deferred: only this test uses websockets

    server = start_server(websocket_compression=OPTION, logger=True)
    url = 'ws://127.0.0.1:%d/engine.io/?EIO=4&transport=websocket' % server.port
    with connect(url, open_timeout=TIMEOUT, proxy=None) as ws:
        assert ws.recv(timeout=TIMEOUT).startswith('0{')
        ws.send('4' + BIG)
        while (reply := ws.recv(timeout=TIMEOUT)) == '2':
            ws.send('3')
        assert reply == '4' + BIG
        deflate = [ext for ext in ws.protocol.extensions if ext.name == 'permessage-deflate']
    support = SUPPORT[server_mode]
    if 'negotiate' in support:
        assert len(deflate) == 1
    if 'window_bits' in support:
        assert deflate[0].remote_max_window_bits == 10
