"""OPEN packet JSON, JSONP wrapping and UTF-8 sizes (K-02, P-06, P-07, H-25, H-26, H-40)."""

from __future__ import annotations

import json as stdlib_json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import any_text

# Text including lone surrogates (hypothesis excludes them by default).
ANY_TEXT = any_text(50)

# -- open_packet_json ---------------------------------------------------------


def test_open_packet_json_exact_text(codec):
    """P-06: compact JSON with exactly five keys in protocol order."""
    assert codec.open_packet_json('AbC-_123', ['websocket'], 20000, 25000, 1000000) == (
        '{"sid":"AbC-_123","upgrades":["websocket"],"pingTimeout":20000,'
        '"pingInterval":25000,"maxPayload":1000000}'
    )


def test_open_packet_json_without_upgrades(codec):
    """P-06, P-43: ``upgrades`` is ``[]`` on WebSocket or when upgrades are off."""
    assert codec.open_packet_json('s', [], 200, 300, 1000000) == (
        '{"sid":"s","upgrades":[],"pingTimeout":200,"pingInterval":300,"maxPayload":1000000}'
    )


def test_open_packet_json_key_order_and_values(codec):
    """P-06, P-07: keys in order; sub-second values survive as milliseconds."""
    text = codec.open_packet_json('x', ('websocket', 'other'), 200, 300, 5)
    parsed = stdlib_json.loads(text)
    assert list(parsed) == ['sid', 'upgrades', 'pingTimeout', 'pingInterval', 'maxPayload']
    assert parsed == {
        'sid': 'x',
        'upgrades': ['websocket', 'other'],
        'pingTimeout': 200,
        'pingInterval': 300,
        'maxPayload': 5,
    }


def test_open_packet_json_escapes_strings(codec):
    """P-06: an overridden ``generate_id`` may return any text; the JSON stays valid ASCII."""
    sid = 'a"b\\c\n\u2028é\ud800'
    text = codec.open_packet_json(sid, ['web"socket'], 1, 2, 3)
    assert text.isascii()
    assert text.startswith('{"sid":"a\\"b\\\\c\\n\\u2028\\u00e9\\ud800",')
    assert stdlib_json.loads(text)['sid'] == sid
    assert stdlib_json.loads(text)['upgrades'] == ['web"socket']


@given(ANY_TEXT, st.lists(ANY_TEXT, max_size=3), *[st.integers(0, 2**53)] * 3)
def test_open_packet_json_parses_back(codec, sid, upgrades, timeout_ms, interval_ms, max_payload):
    """P-06: for any sid and upgrades the text is JSON giving back the values."""
    text = codec.open_packet_json(sid, upgrades, timeout_ms, interval_ms, max_payload)
    assert text.isascii()
    assert stdlib_json.loads(text) == {
        'sid': sid,
        'upgrades': upgrades,
        'pingTimeout': timeout_ms,
        'pingInterval': interval_ms,
        'maxPayload': max_payload,
    }


# -- jsonp_wrap -------------------------------------------------------------------


@pytest.mark.parametrize(
    ('text', 'index', 'expected'),
    [
        ('4hello', 0, '___eio[0]("4hello");'),
        ('', 7, '___eio[7]("");'),
        ('4a\x1e4b', 12, '___eio[12]("4a\\u001e4b");'),
        ('4say "hi"', 1, '___eio[1]("4say \\"hi\\"");'),
        ('4back\\slash', 1, '___eio[1]("4back\\\\slash");'),
        ('4line\nbreak\r\t', 1, '___eio[1]("4line\\nbreak\\r\\t");'),
        ('4\u2028\u2029', 1, '___eio[1]("4\\u2028\\u2029");'),
        ('4é😀', 1, '___eio[1]("4\\u00e9\\ud83d\\ude00");'),
        ('4\ud800', 1, '___eio[1]("4\\ud800");'),
        ('4</script>', 1, '___eio[1]("4</script>");'),
    ],
)
def test_jsonp_wrap(codec, text, index, expected):
    """H-25, H-26, B-11: ASCII JS string literal escaping ``\\``, ``"``, controls, U+2028/9."""
    assert codec.jsonp_wrap(text, index) == expected


def test_jsonp_wrap_large_index(codec):
    """H-25: the index is whatever integer the client sent."""
    assert codec.jsonp_wrap('4', 10**30) == '___eio[%d]("4");' % 10**30
    assert codec.jsonp_wrap('4', 2**63) == '___eio[9223372036854775808]("4");'


@given(ANY_TEXT, st.integers(min_value=0, max_value=2**64))
def test_jsonp_wrap_literal_round_trips(codec, text, index):
    """H-26: the literal is ASCII, free of raw line terminators, and parses back to the text."""
    wrapped = codec.jsonp_wrap(text, index)
    prefix = '___eio[%d](' % index
    assert wrapped.isascii()
    assert wrapped.startswith(prefix) and wrapped.endswith(');')
    literal = wrapped[len(prefix) : -2]
    assert not any(ch in literal for ch in '\n\r\u2028\u2029')
    assert stdlib_json.loads(literal) == text


# -- utf8_len -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ('text', 'size'),
    [
        ('', 0),
        ('abc', 3),
        ('\x00\x7f', 2),
        ('\x80', 2),
        ('é', 2),
        ('\u07ff', 2),
        ('\u0800', 3),
        ('€', 3),
        ('\uffff', 3),
        ('😀', 4),
        ('\U0010ffff', 4),
        ('\ud800', 3),
        ('\udfff', 3),
        ('a\ud800😀é', 10),
        ('é' * 1000, 2000),
    ],
)
def test_utf8_len(codec, text, size):
    """H-40, K-02: length in UTF-8 bytes; a lone surrogate counts 3."""
    assert codec.utf8_len(text) == size


@given(ANY_TEXT)
def test_utf8_len_matches_encoded_length(codec, text):
    """H-40: equals ``len(text.encode('utf-8', 'surrogatepass'))``."""
    assert codec.utf8_len(text) == len(text.encode('utf-8', 'surrogatepass'))


@pytest.mark.parametrize('value', [b'abc', None, 3])
def test_utf8_len_rejects_non_str(codec, value):
    """K-02: ``utf8_len`` measures text only."""
    with pytest.raises(TypeError, match=r'^utf8_len\(\) argument must be str, not '):
        codec.utf8_len(value)
