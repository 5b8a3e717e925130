"""Golden comparisons with python-engineio 4.15.1, used only as a reference oracle (C-07, K-03, K-04).

For valid input where upstream is correct, our wire output equals upstream's
and decoding upstream's encodings gives upstream's ``(type, data, binary)``.
Documented upstream bugs are kept out of the comparison on purpose:

- B-01: upstream caches one encoded form per packet, so ``encode(b64=True)``
  after ``encode()`` returns bytes.  Every comparison uses a fresh packet.
- B-10: upstream refuses payloads of more than 16 packets; payloads here
  have at most 16.
- lenient base64: upstream's ``b64decode`` accepts malformed base64; only
  upstream's own (valid) encodings are decoded here.
- B-11: upstream's JSONP escapes only ``"``; JSONP is compared on printable
  ASCII without backslashes only.
- B-20: upstream raises KeyError on an empty ``d=``; never sent here.
- deep JSON: upstream lets RecursionError escape; values here are shallow.
- memoryview data: upstream treats it as text (``str(view)``); not compared.
- raw bytearray data: upstream returns the bytearray itself, we return
  ``bytes`` (K-02); values are compared, not types.
"""

from __future__ import annotations

import base64
import math
from typing import Any
from urllib.parse import quote_plus

import engineio.packet as up_packet
import engineio.payload as up_payload
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import ANY_CHAR, any_text, json_values

# compat_backend is function-scoped (monkeypatch) but holds no per-example
# state: the patched backend is the same for every example.
oracle_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

ANY_TEXT = any_text(30)
TEXT_NO_SEPARATOR = st.text(ANY_CHAR.filter(lambda c: c != '\x1e'), max_size=30)
JSON_VALUES = json_values(2**128, max_leaves=10, text=ANY_TEXT)
PTYPES = st.integers(min_value=0, max_value=6)
TEXT_DATA = st.one_of(ANY_TEXT, JSON_VALUES, st.tuples(st.integers(), ANY_TEXT))
BINARY = st.binary(max_size=64) | st.binary(max_size=64).map(bytearray)


def same(a: Any, b: Any) -> bool:
    """Equality with equal types, NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def fields(pkt: Any) -> tuple:
    return (pkt.packet_type, pkt.data, pkt.binary)


# -- golden vectors ------------------------------------------------------------------------------

GOLDEN_PACKETS = [
    (up_packet.MESSAGE, 'hello'),
    (up_packet.MESSAGE, '2["event",{"a":1}]'),
    (up_packet.MESSAGE, {'a': 1, 'b': [1, 2, None]}),
    (up_packet.MESSAGE, ['x', 1.5, True]),
    (up_packet.MESSAGE, True),
    (up_packet.MESSAGE, 1.5),
    (up_packet.MESSAGE, 123),
    (up_packet.MESSAGE, None),
    (up_packet.MESSAGE, ''),
    (up_packet.MESSAGE, 'é😀'),
    (up_packet.OPEN, {'sid': 'abc', 'upgrades': ['websocket'], 'pingTimeout': 20000}),
    (up_packet.CLOSE, None),
    (up_packet.PING, 'probe'),
    (up_packet.PONG, 'probe'),
    (up_packet.UPGRADE, None),
    (up_packet.NOOP, None),
    (up_packet.MESSAGE, b'\x01\x02\x03\x04'),
    (up_packet.MESSAGE, bytearray(b'\x00\xff')),
    (up_packet.MESSAGE, b''),
]


@pytest.mark.parametrize(('ptype', 'data'), GOLDEN_PACKETS)
@pytest.mark.parametrize('b64', [False, True])
def test_packet_encode_matches_upstream(compat_backend, ptype, data, b64):
    """C-07: ``Packet(...).encode(b64)`` is byte-identical to python-engineio (fresh packets, B-01)."""
    ours = compat_backend.packet.Packet(ptype, data).encode(b64=b64)
    theirs = up_packet.Packet(ptype, data).encode(b64=b64)
    assert ours == theirs
    # Text stays text; raw binary is always ``bytes`` here (K-02) where
    # upstream hands back a bytearray unchanged, an equal value.
    assert isinstance(ours, str) is isinstance(theirs, str)


@pytest.mark.parametrize(('ptype', 'data'), GOLDEN_PACKETS)
@pytest.mark.parametrize('b64', [False, True])
def test_packet_decode_of_upstream_encoding_matches_upstream(compat_backend, ptype, data, b64):
    """K-04: decoding upstream's wire form gives upstream's (type, data, binary)."""
    wire = up_packet.Packet(ptype, data).encode(b64=b64)
    ours = compat_backend.packet.Packet(encoded_packet=wire)
    theirs = up_packet.Packet(encoded_packet=wire)
    assert same(fields(ours), fields(theirs))


@pytest.mark.parametrize(
    'wire',
    [
        '4hello',
        '4{"a":1}',
        '4true',
        '4"hi"',
        '4null',
        '4',
        '40/chat,',
        '4123',
        '4-5',
        '4 [1]',
        '2probe',
        '6',
        'bAQIDBA==',
        b'\x01\x02',
        '4[' + '1' * 150 + ']',
    ],
)
def test_packet_decode_of_wire_examples_matches_upstream(compat_backend, wire):
    """K-04: the section 8 examples decode as upstream does."""
    ours = compat_backend.packet.Packet(encoded_packet=wire)
    theirs = up_packet.Packet(encoded_packet=wire)
    assert same(fields(ours), fields(theirs))


def test_binary_packet_for_non_message_is_refused_like_upstream(compat_backend):
    """K-02: same ValueError message as upstream."""
    with pytest.raises(ValueError) as ours:
        compat_backend.packet.Packet(up_packet.PING, b'x')
    with pytest.raises(ValueError) as theirs:
        up_packet.Packet(up_packet.PING, b'x')
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    'items',
    [
        [],
        [(4, 'hello')],
        [(4, 'hello'), (4, b'\x01\x02\x03\x04')],  # TS-09
        [(2, None), (4, {'a': 1}), (6, None)],
        [(4, 'é'), (4, b''), (4, [1, 2])],
        [(4, str(i)) for i in range(16)],
    ],
)
def test_payload_encode_matches_upstream(compat_backend, items):
    """P-12, C-07: ``Payload.encode()`` equals upstream's for up to 16 packets (B-10)."""
    packet, payload = compat_backend
    ours = payload.Payload(packets=[packet.Packet(t, d) for t, d in items]).encode()
    theirs = up_payload.Payload(packets=[up_packet.Packet(t, d) for t, d in items]).encode()
    assert ours == theirs


@pytest.mark.parametrize('text', ['hello', 'say "hi"', '{"a":[1,2]}', ''])
def test_payload_jsonp_encode_matches_upstream_for_plain_ascii(compat_backend, text):
    """H-25: JSONP equals upstream's where upstream escapes correctly (printable ASCII, B-11)."""
    packet, payload = compat_backend
    ours = payload.Payload(packets=[packet.Packet(4, text)]).encode(jsonp_index=5)
    theirs = up_payload.Payload(packets=[up_packet.Packet(4, text)]).encode(jsonp_index=5)
    assert ours == theirs


# -- hypothesis ----------------------------------------------------------------------------------


@oracle_settings
@given(PTYPES, TEXT_DATA)
def test_text_packet_wire_form_matches_upstream(compat_backend, ptype, data):
    """K-03, C-07: text/JSON packets encode exactly as upstream and decode to upstream's values."""
    ours = compat_backend.packet.Packet(ptype, data)
    theirs = up_packet.Packet(ptype, data)
    wire = theirs.encode()
    assert ours.encode() == wire
    assert same(
        fields(compat_backend.packet.Packet(encoded_packet=wire)),
        fields(up_packet.Packet(encoded_packet=wire)),
    )


@oracle_settings
@given(BINARY, st.booleans())
def test_binary_packet_wire_form_matches_upstream(compat_backend, data, b64):
    """P-11, P-12: binary packets (fresh per form, B-01) encode and decode as upstream."""
    wire = up_packet.Packet(4, data).encode(b64=b64)
    assert compat_backend.packet.Packet(4, data).encode(b64=b64) == wire
    assert fields(compat_backend.packet.Packet(encoded_packet=wire)) == fields(
        up_packet.Packet(encoded_packet=wire)
    )


# A text packet whose wire form holds \x1e would split in two on both sides.
PAYLOAD_ITEMS = st.lists(
    st.tuples(PTYPES, st.one_of(TEXT_NO_SEPARATOR, JSON_VALUES)).filter(
        lambda item: '\x1e' not in up_packet.Packet(*item).encode()
    )
    | st.tuples(st.just(4), BINARY),
    max_size=16,
)


@oracle_settings
@given(PAYLOAD_ITEMS)
def test_payload_wire_form_matches_upstream(compat_backend, items):
    """K-06, P-12: payloads of up to 16 packets encode and decode as upstream (B-10)."""
    packet, payload = compat_backend
    wire = up_payload.Payload(packets=[up_packet.Packet(t, d) for t, d in items]).encode()
    assert payload.Payload(packets=[packet.Packet(t, d) for t, d in items]).encode() == wire
    ours = payload.Payload(encoded_payload=wire).packets
    theirs = up_payload.Payload(encoded_payload=wire).packets
    assert same([fields(p) for p in ours], [fields(p) for p in theirs])


@oracle_settings
@given(PAYLOAD_ITEMS.filter(bool))
def test_jsonp_post_body_decodes_as_upstream(compat_backend, items):
    """H-25: a non-empty ``d=`` body (B-20 excluded) decodes to upstream's packets."""
    wire = up_payload.Payload(packets=[up_packet.Packet(t, d) for t, d in items]).encode()
    # Upstream's parse_qs replaces invalid UTF-8; valid text only (no lone surrogates).
    try:
        raw = wire.encode('utf-8')
    except UnicodeEncodeError:
        return
    body = 'd=' + quote_plus(raw)
    ours = compat_backend.payload.Payload(encoded_payload=body).packets
    theirs = up_payload.Payload(encoded_payload=body).packets
    assert same([fields(p) for p in ours], [fields(p) for p in theirs])
    assert len(ours) == len(items)


@oracle_settings
@given(st.binary(max_size=200))
def test_base64_form_equals_upstream_base64(compat_backend, data):
    """P-12: the ``b`` form carries exactly ``base64.b64encode`` output, like upstream."""
    wire = compat_backend.packet.Packet(4, data).encode(b64=True)
    assert wire == 'b' + base64.b64encode(data).decode('ascii')
    assert wire == up_packet.Packet(4, data).encode(b64=True)
