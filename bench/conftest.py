"""Benchmark fixtures: the same workloads on three implementations.

Each implementation is a small object whose methods *prepare* one workload:
they take the scenario's input and return ``(function, args)``; the benchmark
times ``function(*args)`` and nothing else.  Where our workload is a single
codec call, ``function`` is the codec function itself, so the measurement
holds no wrapper frame; upstream workloads are small functions doing what
python-engineio does for the same job.  Every workload returns the same
shape on every implementation (packets as ``(type, data, binary)`` triples,
bodies as ``bytes``) so the tests compare results with one expected value.

Two groups of fixtures:

* ``impl`` — primary group.  ``c`` and ``py`` call the codec functions our
  server calls (``engineio_fast._codec_c`` / ``_codec_py``); ``upstream``
  does what python-engineio 4.15.1's server does (``Packet``/``Payload``
  objects, ``BaseServer._gzip``/``_deflate``).
* ``compat_impl`` — secondary group.  Our compat ``Packet``/``Payload``
  classes (with ``engineio_fast._codec`` patched to the chosen twin) against
  upstream's same classes, i.e. the API python-socketio uses.

``ENGINEIO_FAST_BENCH_SKIP_C=1`` leaves the ``c`` parameter out (for working
before the extension is built).  Otherwise ``c`` must import: a missing or
unbuilt ``_codec_c`` makes every ``c`` benchmark *error*, never skip.
"""

from __future__ import annotations

import gzip
import importlib
import io
import os
import sys
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Benchmark the working tree, not some installed copy.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import engineio.packet as up_packet  # noqa: E402
import engineio.payload as up_payload  # noqa: E402
from wsproto.frame_protocol import FrameProtocol  # noqa: E402

import engineio_fast  # noqa: E402
import engineio_fast._codec as fast_codec  # noqa: E402
import engineio_fast.json as fast_json  # noqa: E402
import engineio_fast.packet as fast_packet  # noqa: E402
import engineio_fast.payload as fast_payload  # noqa: E402

SKIP_C = os.environ.get('ENGINEIO_FAST_BENCH_SKIP_C', '') not in ('', '0')
IMPLEMENTATIONS = ['py', 'upstream'] if SKIP_C else ['c', 'py', 'upstream']

MESSAGE = 4
#: What our server passes to split_payload (DEFAULT_MAX_DECODE_PACKETS,
#: DEFAULT_MAX_HTTP_BUFFER_SIZE); the 1 MB scenarios stay single packets.
MAX_PACKETS = 1000
MAX_BYTES = 1_000_000
#: Our server's default compression level (DEFAULT_COMPRESSION_LEVEL).
COMPRESSION_LEVEL = 1

Prepared = tuple[Callable[..., Any], tuple]

if not Path(engineio_fast.__file__).resolve().is_relative_to(REPO_ROOT):
    raise RuntimeError(f'engineio_fast imported from {engineio_fast.__file__}, not {REPO_ROOT}')


def _load_twin(name: str, stem: str = '_codec') -> ModuleType:
    """Import a twin (codec or ``_ws`` framing); the compiled one must really be compiled."""
    module = importlib.import_module(f'engineio_fast.{stem}_{name}')
    if name == 'c' and module.__file__.endswith('.py'):
        raise RuntimeError(f'engineio_fast.{stem}_c is not compiled: {module.__file__}')
    return module


# -- primary group -----------------------------------------------------------


class CodecImpl:
    """Our server's codec calls on one twin (``c`` or ``py``)."""

    def __init__(self, name: str, codec: ModuleType):
        self.name = name
        self.codec = codec
        encode_packet = codec.encode_packet
        decode_packet = codec.decode_packet
        encode_payload_bytes = codec.encode_payload_bytes
        split_payload = codec.split_payload
        dumps = fast_json.dumps
        loads = fast_json.loads

        # Multi-call workloads: one frame, like the server code calling them.
        def encode_payload(datas: list) -> bytes:
            return encode_payload_bytes([encode_packet(MESSAGE, d, True, dumps) for d in datas])

        def decode_payload(body: bytes) -> list:
            return [
                decode_packet(item, loads) for item in split_payload(body, MAX_PACKETS, MAX_BYTES)
            ]

        self._encode_payload = encode_payload
        self._decode_payload = decode_payload

    def encode_packet(self, data: Any, b64: bool) -> Prepared:
        return self.codec.encode_packet, (MESSAGE, data, b64, fast_json.dumps)

    def decode_packet(self, wire: str | bytes) -> Prepared:
        return self.codec.decode_packet, (wire, fast_json.loads)

    def encode_payload(self, datas: list) -> Prepared:
        return self._encode_payload, (datas,)

    def decode_payload(self, body: bytes) -> Prepared:
        return self._decode_payload, (body,)

    def gzip(self, body: bytes) -> Prepared:
        return self.codec.compress, (body, 'gzip', COMPRESSION_LEVEL)

    def deflate(self, body: bytes) -> Prepared:
        return self.codec.compress, (body, 'deflate', COMPRESSION_LEVEL)


def _up_encode_packet(data: Any, b64: bool) -> str | bytes:
    return up_packet.Packet(up_packet.MESSAGE, data).encode(b64=b64)


def _up_decode_packet(wire: str | bytes) -> tuple:
    pkt = up_packet.Packet(encoded_packet=wire)
    return pkt.packet_type, pkt.data, pkt.binary


def _up_encode_payload(datas: list) -> bytes:
    # BaseServer._ok: Payload(packets=...).encode(jsonp_index=...).encode('utf-8')
    packets = [up_packet.Packet(up_packet.MESSAGE, d) for d in datas]
    return up_payload.Payload(packets=packets).encode().encode('utf-8')


def _up_decode_payload(body: bytes) -> list:
    # Socket.handle_post_request: read().decode('utf-8'), Payload(encoded_payload=...)
    payload = up_payload.Payload(encoded_payload=body.decode('utf-8'))
    return [(pkt.packet_type, pkt.data, pkt.binary) for pkt in payload.packets]


def _up_gzip(body: bytes) -> bytes:
    # engineio.base_server.BaseServer._gzip, verbatim.
    bytesio = io.BytesIO()
    with gzip.GzipFile(fileobj=bytesio, mode='w') as gz:
        gz.write(body)
    return bytesio.getvalue()


def _up_deflate(body: bytes) -> bytes:
    # engineio.base_server.BaseServer._deflate, verbatim.
    return zlib.compress(body)


class UpstreamImpl:
    """What python-engineio 4.15.1's server does for each job."""

    name = 'upstream'

    def encode_packet(self, data: Any, b64: bool) -> Prepared:
        return _up_encode_packet, (data, b64)

    def decode_packet(self, wire: str | bytes) -> Prepared:
        return _up_decode_packet, (wire,)

    def encode_payload(self, datas: list) -> Prepared:
        return _up_encode_payload, (datas,)

    def decode_payload(self, body: bytes) -> Prepared:
        return _up_decode_payload, (body,)

    def gzip(self, body: bytes) -> Prepared:
        return _up_gzip, (body,)

    def deflate(self, body: bytes) -> Prepared:
        return _up_deflate, (body,)


# -- compat group ------------------------------------------------------------


class CompatImpl:
    """The ``Packet``/``Payload`` API of one library (ours on a twin, or upstream)."""

    def __init__(self, name: str, packet_mod: ModuleType, payload_mod: ModuleType):
        self.name = name
        packet_cls = packet_mod.Packet
        payload_cls = payload_mod.Payload

        def encode_packet(data: Any, b64: bool) -> str | bytes:
            return packet_cls(MESSAGE, data).encode(b64=b64)

        def decode_packet(wire: str | bytes) -> tuple:
            pkt = packet_cls(encoded_packet=wire)
            return pkt.packet_type, pkt.data, pkt.binary

        def encode_payload(datas: list) -> bytes:
            packets = [packet_cls(MESSAGE, d) for d in datas]
            return payload_cls(packets=packets).encode().encode('utf-8')

        def decode_payload(body: bytes) -> list:
            payload = payload_cls(encoded_payload=body.decode('utf-8'))
            return [(pkt.packet_type, pkt.data, pkt.binary) for pkt in payload.packets]

        self._encode_packet = encode_packet
        self._decode_packet = decode_packet
        self._encode_payload = encode_payload
        self._decode_payload = decode_payload

    def encode_packet(self, data: Any, b64: bool) -> Prepared:
        return self._encode_packet, (data, b64)

    def decode_packet(self, wire: str | bytes) -> Prepared:
        return self._decode_packet, (wire,)

    def encode_payload(self, datas: list) -> Prepared:
        return self._encode_payload, (datas,)

    def decode_payload(self, body: bytes) -> Prepared:
        return self._decode_payload, (body,)


@pytest.fixture(scope='session')
def _upstream_limits() -> Iterator[None]:
    """Let upstream's Payload decode our payloads (its default cap is 16)."""
    saved = up_payload.Payload.max_decode_packets
    up_payload.Payload.max_decode_packets = MAX_PACKETS
    yield
    up_payload.Payload.max_decode_packets = saved


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request: pytest.FixtureRequest, _upstream_limits: None) -> Any:
    """Primary group: our codec functions (``c``, ``py``) or upstream's server work."""
    if request.param == 'upstream':
        return UpstreamImpl()
    return CodecImpl(request.param, _load_twin(request.param))


@pytest.fixture(params=IMPLEMENTATIONS)
def compat_impl(request: pytest.FixtureRequest, _upstream_limits: None) -> Iterator[Any]:
    """Secondary group: compat ``Packet``/``Payload`` on a twin, or upstream's."""
    if request.param == 'upstream':
        yield CompatImpl('upstream', up_packet, up_payload)
        return
    twin = _load_twin(request.param)
    names = [name for name in fast_codec.__all__ if name != 'USE_EXTENSIONS']
    saved = {name: getattr(fast_codec, name) for name in names}
    for name in names:
        setattr(fast_codec, name, getattr(twin, name))
    try:
        yield CompatImpl(request.param, fast_packet, fast_payload)
    finally:
        for name, value in saved.items():
            setattr(fast_codec, name, value)


# -- WebSocket framing group (bench/test_ws.py) --------------------------------


class WsImpl:
    """Our framing twin (``_ws_c`` or ``_ws_py``): one reader's ``feed``, ``encode_frame``."""

    def __init__(self, name: str, ws: ModuleType):
        self.name = name
        self.ws = ws

    def feed(self, frame: bytes) -> Prepared:
        return self.ws.FrameReader(MAX_BYTES).feed, (frame,)

    def encode_frame(self, payload: str | bytes) -> Prepared:
        return self.ws.encode_frame, (payload,)


class UpstreamWsImpl:
    """python-engineio's websocket framing: simple-websocket runs wsproto's FrameProtocol."""

    name = 'upstream'

    def feed(self, frame: bytes) -> Prepared:
        protocol = FrameProtocol(client=False, extensions=[])

        def feed(data: bytes) -> list:
            protocol.receive_bytes(data)
            return [f.payload for f in protocol.received_frames()]

        return feed, (frame,)

    def encode_frame(self, payload: str | bytes) -> Prepared:
        return FrameProtocol(client=False, extensions=[]).send_data, (payload,)


@pytest.fixture(params=IMPLEMENTATIONS)
def ws_impl(request: pytest.FixtureRequest) -> Any:
    """Framing group: our ``_ws`` twins (``c``, ``py``) or wsproto, upstream's framing."""
    if request.param == 'upstream':
        return UpstreamWsImpl()
    return WsImpl(request.param, _load_twin(request.param, '_ws'))
