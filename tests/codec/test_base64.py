"""Strict standard base64 (K-02, K-10, P-12)."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from engineio_fast.exceptions import DecodeError

# Independent oracle for strict base64: groups of four alphabet characters,
# the last one optionally padded with exactly '=' or '=='.
_STRICT_B64 = re.compile(r'(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?')


@pytest.mark.parametrize(
    ('data', 'text'),
    [
        (b'', ''),
        (b'\x00', 'AA=='),
        (b'\x01\x02', 'AQI='),
        (b'\x01\x02\x03', 'AQID'),
        (b'\x01\x02\x03\x04', 'AQIDBA=='),
        (b'\xff\xef\xbe', '/+++'),
        (b'hello world', 'aGVsbG8gd29ybGQ='),
    ],
)
def test_b64_encode_known_vectors(codec, data, text):
    """P-12: standard alphabet with padding."""
    encoded = codec.b64_encode(data)
    assert encoded == text
    assert type(encoded) is str
    assert codec.b64_decode(text) == data


@pytest.mark.parametrize('kind', [bytes, bytearray, memoryview])
def test_b64_encode_accepts_bytes_likes(codec, kind):
    """K-02: bytes-like input through the buffer protocol."""
    assert codec.b64_encode(kind(b'\x01\x02\x03\x04')) == 'AQIDBA=='


def test_b64_encode_every_length_matches_stdlib(codec):
    """P-12: identical to ``base64.b64encode`` for lengths 0..64 and all byte values."""
    data = bytes(range(256))
    for size in range(65):
        chunk = data[size : size * 2 + size % 7]
        assert codec.b64_encode(chunk) == base64.b64encode(chunk).decode('ascii')


def test_b64_round_trip_of_one_megabyte(codec):
    """K-15 scenario: 1 MB of binary survives encode and decode."""
    data = bytes(range(256)) * 4096
    text = codec.b64_encode(data)
    assert text == base64.b64encode(data).decode('ascii')
    assert codec.b64_decode(text) == data


def test_b64_decode_returns_bytes(codec):
    """K-02: decode result is ``bytes``."""
    assert type(codec.b64_decode('AQID')) is bytes
    assert type(codec.b64_decode('')) is bytes


@pytest.mark.parametrize(
    'text',
    [
        # Padding required.
        'A',
        'AQ',
        'AQI',
        'AQIDBA',
        'AQIDBA=',
        'AQIDB',
        # Excess, leading and discontinuous padding.
        'AAAA====',
        'AAA====',
        'A===',
        '====',
        '=AAA',
        '==AA',
        'AA=A',
        'A=A=',
        'AA==AA==',
        'AQ==AQID',
        'AQI=AQID',
        'AQIDBA===',
        # Characters outside the standard alphabet.
        '-_==',
        'AQID BA==',
        ' AQIDBA==',
        'AQIDBA== ',
        'AQID\nBA==',
        'AQIDBA==\n',
        'AQ\x00D',
        'AQ.D',
        'AQ*D',
        'ÀQID',
        'AQI\u0663',
        'AQI\ud800',
    ],
)
def test_b64_decode_is_strict(codec, text):
    """K-02, K-10: padding required, no other characters -> DecodeError('Invalid base64 data')."""
    with pytest.raises(DecodeError, match='^Invalid base64 data$') as info:
        codec.b64_decode(text)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize('value', [b'AQID', bytearray(b'AQID'), None, 123])
def test_b64_decode_rejects_non_str_with_type_error(codec, value):
    """K-02: the text form is str."""
    with pytest.raises(TypeError, match='^Base64 data must be str, not '):
        codec.b64_decode(value)


@given(st.binary(max_size=300))
def test_b64_round_trip(codec, data):
    """P-12: ``b64_decode(b64_encode(b)) == b`` and equals the stdlib encoding."""
    text = codec.b64_encode(data)
    assert text == base64.b64encode(data).decode('ascii')
    assert codec.b64_decode(text) == data


_B64_CHARS = st.sampled_from(
    'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/' + '=' * 16 + '-_ \n.\x00é'
)


@given(st.text(_B64_CHARS, max_size=24) | st.text(max_size=12))
@example('AB==')  # non-zero pad bits: valid per the alphabet rule, decodes to b'\x00'
@example('AAAA====')
@example('A===')
def test_b64_decode_accepts_exactly_the_strict_grammar(codec, text):
    """K-02: accepted iff the text matches strict padded base64; then equals the stdlib."""
    if _STRICT_B64.fullmatch(text):
        assert codec.b64_decode(text) == base64.b64decode(text, validate=True)
    else:
        with pytest.raises(DecodeError, match='^Invalid base64 data$'):
            codec.b64_decode(text)
