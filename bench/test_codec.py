"""Codec micro-benchmarks: one function per scenario, run on every implementation.

Run with ``--benchmark-group-by=func`` so each group compares ``c``, ``py``
and ``upstream`` on one scenario (``python bench/report.py`` does that and
prints the ratios).  ``test_*`` functions are the primary group (our codec
functions vs. python-engineio's server work); ``test_compat_*`` functions are
the secondary group (our compat ``Packet``/``Payload`` vs. upstream's).

Every benchmark checks its result against a value computed here with the
standard library, so a broken implementation fails instead of looking fast.
All inputs are deterministic.
"""

from __future__ import annotations

import base64
import json
import random
import zlib
from typing import Any, Callable

MESSAGE = 4
SEP = '\x1e'

# -- inputs ------------------------------------------------------------------

TEXT = 'hello world, how are you?'
BINARY_1K = random.Random(1).randbytes(1024)
JSON_DATA = {'event': 'chat', 'user': 'alice', 'n': 42, 'tags': ['a', 'b']}
BINARY_10 = [random.Random(100 + i).randbytes(1024) for i in range(10)]
BINARY_1M = random.Random(2).randbytes(1 << 20)

_WORDS = (
    'the quick brown fox jumps over a lazy dog while we wait for the build to finish '
    'can you send me the report later today thanks see you at the meeting tomorrow '
    'lunch is ready ok sounds good not sure about that one let me check again'
).split()
_USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']
_ROOMS = ['lobby', 'general', 'random', 'dev', 'support']


def _socketio_text_packets(count: int, size: int) -> list[str]:
    """``count`` socket.io-style event texts, each exactly ``size - 1`` chars.

    Packet data starts with a digit (``2["chat",...``), as python-socketio's
    does, so both libraries keep it as text.
    """
    rng = random.Random(16)
    out = []
    for i in range(count):
        head = '2["chat",{"id":%d,"user":"%s","text":"' % (i, rng.choice(_USERS))
        words = ''
        while len(head) + len(words) + 3 < size - 1:
            words += rng.choice(_WORDS) + ' '
        text = head + words[: size - 1 - len(head) - 3] + '"}]'
        assert len(text) == size - 1
        out.append(text)
    return out


def _polling_body(size: int) -> bytes:
    """A polling GET response of about ``size`` bytes of socket.io chat events."""
    rng = random.Random(size)
    packets = []
    total = 0
    i = 0
    while total < size:
        event = [
            'chat message',
            {
                'id': 100000 + i,
                'room': rng.choice(_ROOMS),
                'user': rng.choice(_USERS),
                'text': ' '.join(rng.choice(_WORDS) for _ in range(rng.randint(3, 18))),
                'ts': 1700000000000 + 137 * i,
                'read': rng.random() < 0.5,
            },
        ]
        packet = '42' + json.dumps(event, separators=(',', ':'))
        packets.append(packet)
        total += len(packet) + 1
        i += 1
    return SEP.join(packets).encode('utf-8')


TEXT_16 = _socketio_text_packets(16, 100)
BODY_10K = _polling_body(10 * 1024)
BODY_100K = _polling_body(100 * 1024)


def _b64(data: bytes) -> str:
    return 'b' + base64.b64encode(data).decode('ascii')


WIRE_TEXT = '4' + TEXT
WIRE_B64_1K = _b64(BINARY_1K)
WIRE_JSON = '4' + json.dumps(JSON_DATA, separators=(',', ':'))
WIRE_B64_1M = _b64(BINARY_1M)
BODY_BINARY_10 = SEP.join(_b64(d) for d in BINARY_10).encode('ascii')
BODY_TEXT_16 = SEP.join('4' + t for t in TEXT_16).encode('ascii')
assert all(len(p) == 100 for p in BODY_TEXT_16.split(SEP.encode()))


# -- helpers -----------------------------------------------------------------


def _run(benchmark: Any, prepared: tuple[Callable[..., Any], tuple]) -> Any:
    function, args = prepared
    return benchmark(function, *args)


def _encode_packet(benchmark: Any, impl: Any, data: Any, b64: bool, expected: Any) -> None:
    result = _run(benchmark, impl.encode_packet(data, b64))
    assert type(result) is type(expected)
    assert result == expected


def _decode_packet(benchmark: Any, impl: Any, wire: Any, expected: tuple) -> None:
    result = _run(benchmark, impl.decode_packet(wire))
    assert tuple(result) == expected
    assert type(result[1]) is type(expected[1])


def _encode_payload(benchmark: Any, impl: Any, datas: list, expected: bytes) -> None:
    result = _run(benchmark, impl.encode_payload(datas))
    assert type(result) is bytes
    assert result == expected


def _decode_payload(benchmark: Any, impl: Any, body: bytes, expected: list) -> None:
    result = _run(benchmark, impl.decode_payload(body))
    assert [tuple(p) for p in result] == expected


def _compress(benchmark: Any, impl: Any, method: str, body: bytes) -> None:
    result = _run(benchmark, getattr(impl, method)(body))
    assert type(result) is bytes
    assert len(result) < len(body) // 2
    if method == 'gzip':
        assert result[:2] == b'\x1f\x8b'
        assert zlib.decompress(result, 31) == body
    else:
        assert result[0] == 0x78
        assert zlib.decompress(result, 15) == body


# -- primary group: our codec functions vs. python-engineio's server work ----


def test_packet_text_encode(benchmark, impl):
    _encode_packet(benchmark, impl, TEXT, False, WIRE_TEXT)


def test_packet_text_decode(benchmark, impl):
    _decode_packet(benchmark, impl, WIRE_TEXT, (MESSAGE, TEXT, False))


def test_packet_binary_encode(benchmark, impl):
    _encode_packet(benchmark, impl, BINARY_1K, False, BINARY_1K)


def test_packet_binary_decode(benchmark, impl):
    _decode_packet(benchmark, impl, BINARY_1K, (MESSAGE, BINARY_1K, True))


def test_packet_base64_encode(benchmark, impl):
    _encode_packet(benchmark, impl, BINARY_1K, True, WIRE_B64_1K)


def test_packet_base64_decode(benchmark, impl):
    _decode_packet(benchmark, impl, WIRE_B64_1K, (MESSAGE, BINARY_1K, True))


def test_packet_json_encode(benchmark, impl):
    _encode_packet(benchmark, impl, JSON_DATA, False, WIRE_JSON)


def test_packet_json_decode(benchmark, impl):
    _decode_packet(benchmark, impl, WIRE_JSON, (MESSAGE, JSON_DATA, False))


def test_payload_binary10_encode(benchmark, impl):
    _encode_payload(benchmark, impl, BINARY_10, BODY_BINARY_10)


def test_payload_binary10_decode(benchmark, impl):
    _decode_payload(benchmark, impl, BODY_BINARY_10, [(MESSAGE, d, True) for d in BINARY_10])


def test_payload_text16_encode(benchmark, impl):
    _encode_payload(benchmark, impl, TEXT_16, BODY_TEXT_16)


def test_payload_text16_decode(benchmark, impl):
    _decode_payload(benchmark, impl, BODY_TEXT_16, [(MESSAGE, t, False) for t in TEXT_16])


def test_base64_1mb_encode(benchmark, impl):
    _encode_packet(benchmark, impl, BINARY_1M, True, WIRE_B64_1M)


def test_base64_1mb_decode(benchmark, impl):
    _decode_packet(benchmark, impl, WIRE_B64_1M, (MESSAGE, BINARY_1M, True))


def test_gzip_10kb(benchmark, impl):
    _compress(benchmark, impl, 'gzip', BODY_10K)


def test_gzip_100kb(benchmark, impl):
    _compress(benchmark, impl, 'gzip', BODY_100K)


def test_deflate_10kb(benchmark, impl):
    _compress(benchmark, impl, 'deflate', BODY_10K)


def test_deflate_100kb(benchmark, impl):
    _compress(benchmark, impl, 'deflate', BODY_100K)


# -- compat group: Packet/Payload objects, ours vs. upstream's --------------


def test_compat_packet_text_encode(benchmark, compat_impl):
    _encode_packet(benchmark, compat_impl, TEXT, False, WIRE_TEXT)


def test_compat_packet_text_decode(benchmark, compat_impl):
    _decode_packet(benchmark, compat_impl, WIRE_TEXT, (MESSAGE, TEXT, False))


def test_compat_packet_binary_encode(benchmark, compat_impl):
    _encode_packet(benchmark, compat_impl, BINARY_1K, False, BINARY_1K)


def test_compat_packet_binary_decode(benchmark, compat_impl):
    _decode_packet(benchmark, compat_impl, BINARY_1K, (MESSAGE, BINARY_1K, True))


def test_compat_packet_base64_encode(benchmark, compat_impl):
    _encode_packet(benchmark, compat_impl, BINARY_1K, True, WIRE_B64_1K)


def test_compat_packet_base64_decode(benchmark, compat_impl):
    _decode_packet(benchmark, compat_impl, WIRE_B64_1K, (MESSAGE, BINARY_1K, True))


def test_compat_packet_json_encode(benchmark, compat_impl):
    _encode_packet(benchmark, compat_impl, JSON_DATA, False, WIRE_JSON)


def test_compat_packet_json_decode(benchmark, compat_impl):
    _decode_packet(benchmark, compat_impl, WIRE_JSON, (MESSAGE, JSON_DATA, False))


def test_compat_payload_binary10_encode(benchmark, compat_impl):
    _encode_payload(benchmark, compat_impl, BINARY_10, BODY_BINARY_10)


def test_compat_payload_binary10_decode(benchmark, compat_impl):
    _decode_payload(benchmark, compat_impl, BODY_BINARY_10, [(MESSAGE, d, True) for d in BINARY_10])


def test_compat_payload_text16_encode(benchmark, compat_impl):
    _encode_payload(benchmark, compat_impl, TEXT_16, BODY_TEXT_16)


def test_compat_payload_text16_decode(benchmark, compat_impl):
    _decode_payload(benchmark, compat_impl, BODY_TEXT_16, [(MESSAGE, t, False) for t in TEXT_16])


def test_compat_base64_1mb_encode(benchmark, compat_impl):
    _encode_packet(benchmark, compat_impl, BINARY_1M, True, WIRE_B64_1M)


def test_compat_base64_1mb_decode(benchmark, compat_impl):
    _decode_packet(benchmark, compat_impl, WIRE_B64_1M, (MESSAGE, BINARY_1M, True))
