"""Accept-Encoding negotiation and gzip/deflate (H-30, H-31, H-32, B-12, K-02, K-10)."""

from __future__ import annotations

import gzip
import zlib

import pytest

from engineio_fast import _http_compression
from engineio_fast._constants import COMPRESSION_METHODS, DEFAULT_COMPRESSION_LEVEL
from engineio_fast.exceptions import ContentTooLongError, DecodeError, EncodeError

BODY = b''.join(b'4{"message":"hello %d","list":[1,2,3]}\x1e' % i for i in range(400))


def test_compression_constants():
    """C-09, H-31: methods in upstream order; default level 1."""
    assert COMPRESSION_METHODS == ['gzip', 'deflate']
    assert DEFAULT_COMPRESSION_LEVEL == 1


@pytest.mark.parametrize('name', ['compress', 'decompress'])
def test_both_twins_export_the_one_shared_definition(codec, name):
    """K-02: gzip/deflate are zlib-bound, so each twin re-exports ``_http_compression``'s."""
    assert getattr(codec, name) is getattr(_http_compression, name)


# -- negotiate_encoding --------------------------------------------------------------


@pytest.mark.parametrize(
    ('header', 'expected'),
    [
        # No header.
        (None, None),
        ('', None),
        # Plain names; ties go to the methods order.
        ('gzip', 'gzip'),
        ('deflate', 'deflate'),
        ('gzip, deflate', 'gzip'),
        ('deflate, gzip', 'gzip'),
        ('gzip, deflate, br', 'gzip'),
        ('br, deflate', 'deflate'),
        ('GZip', 'gzip'),
        ('  deflate  ', 'deflate'),
        # q=0 refuses (B-12).
        ('gzip;q=0, deflate', 'deflate'),
        ('gzip;q=0.000, deflate', 'deflate'),
        ('gzip;q=0, deflate;q=0', None),
        ('gzip; q=0', None),
        # Highest q wins.
        ('gzip;q=0.5, deflate;q=0.8', 'deflate'),
        ('gzip;q=0.8, deflate;q=0.5', 'gzip'),
        ('deflate;q=1.0, gzip;q=0.999', 'deflate'),
        ('gzip;q=0.001', 'gzip'),
        ('gzip ; q = 0.3 , deflate ; q = 0.2', 'gzip'),
        ('gzip;Q=0.1, deflate;q=0.2', 'deflate'),
        # Equal q: methods order.
        ('deflate;q=0.5, gzip;q=0.5', 'gzip'),
        # '*' covers methods not named.
        ('*', 'gzip'),
        ('*;q=0', None),
        ('*;q=0.5, gzip;q=0', 'deflate'),
        ('gzip;q=0.2, *;q=0.5', 'deflate'),
        ('deflate;q=0.1, *', 'gzip'),
        # Identity and unknown codings are ignored.
        ('identity', None),
        ('identity, br, zstd', None),
        ('identity;q=1, deflate;q=0.1', 'deflate'),
        # Malformed tokens are skipped.
        ('gzip;q=abc, deflate', 'deflate'),
        ('gzip;q=1.5, deflate', 'deflate'),
        ('gzip;q=-1, deflate;q=0.1', 'deflate'),
        ('gzip;q=, deflate', 'deflate'),
        ('gzip;q=.5, deflate;q=0.1', 'deflate'),
        ('gzip;q=0.1234, deflate;q=0.1', 'deflate'),
        ('gzip;q=1.0001, deflate;q=0.1', 'deflate'),
        ('gzip;q=1.001, deflate;q=0.1', 'deflate'),
        ('gzip;q=\u0661, deflate;q=0.1', 'deflate'),
        (',,, ;q=1, gzip', 'gzip'),
        (';;;', None),
        # Other parameters are ignored; the first q counts.
        ('gzip;level=9;q=0, deflate', 'deflate'),
        ('gzip;foo, deflate;q=0.5', 'gzip'),
        ('gzip;q=0.1;q=1, deflate;q=0.5', 'deflate'),
        # The first listing of a name counts.
        ('gzip;q=0, gzip, deflate;q=0.1', 'deflate'),
    ],
)
def test_negotiate_encoding(codec, header, expected):
    """H-32: q-values honoured, q=0 refuses, ties by methods order, ``*`` = gzip."""
    assert codec.negotiate_encoding(header, COMPRESSION_METHODS) == expected


def test_negotiate_encoding_ties_follow_the_given_methods_order(codec):
    """H-32: the tie-break is the server's ``compression_methods`` order."""
    assert codec.negotiate_encoding('gzip, deflate', ['deflate', 'gzip']) == 'deflate'
    assert codec.negotiate_encoding('*', ['deflate', 'gzip']) == 'deflate'
    assert codec.negotiate_encoding('gzip, deflate', ['deflate']) == 'deflate'
    assert codec.negotiate_encoding('gzip, deflate', []) is None


# -- compress ----------------------------------------------------------------------


@pytest.mark.parametrize('level', [-1, 0, 1, 5, 6, 9])
def test_compress_gzip_round_trips(codec, level):
    """H-30, H-31: gzip output is RFC 1952 and decompresses to the body."""
    out = codec.compress(BODY, 'gzip', level)
    assert type(out) is bytes
    assert out[:2] == b'\x1f\x8b'
    assert gzip.decompress(out) == BODY
    assert codec.decompress(out, 'gzip', None) == BODY


@pytest.mark.parametrize('level', [-1, 0, 1, 5, 6, 9])
def test_compress_deflate_round_trips(codec, level):
    """H-30, H-31: deflate output is the zlib format (RFC 1950)."""
    out = codec.compress(BODY, 'deflate', level)
    assert type(out) is bytes
    assert out[0] & 0x0F == 8 and (out[0] << 8 | out[1]) % 31 == 0
    assert zlib.decompress(out) == BODY
    assert codec.decompress(out, 'deflate', None) == BODY


@pytest.mark.parametrize('method', COMPRESSION_METHODS)
def test_compress_default_level_shrinks_repetitive_body(codec, method):
    """H-31: level 1 still compresses (and level 0 stores)."""
    assert len(codec.compress(BODY, method, DEFAULT_COMPRESSION_LEVEL)) < len(BODY) // 4
    assert len(codec.compress(BODY, method, 0)) > len(BODY)


@pytest.mark.parametrize('method', COMPRESSION_METHODS)
@pytest.mark.parametrize('kind', [bytes, bytearray, memoryview])
def test_compress_empty_and_bytes_like_bodies(codec, method, kind):
    """H-30: empty and bytes-like bodies compress and decompress back."""
    for body in (b'', b'x', BODY[:100]):
        out = codec.compress(kind(body), method, 1)
        assert codec.decompress(out, method, None) == body


@pytest.mark.parametrize('level', [10, -2, 100])
def test_compress_rejects_invalid_level(codec, level):
    """H-31: levels outside -1..9 -> EncodeError."""
    with pytest.raises(EncodeError, match=r'^Invalid compression level %d$' % level):
        codec.compress(BODY, 'gzip', level)


@pytest.mark.parametrize('method', ['br', 'GZIP', '', 'identity', 'x-gzip'])
def test_compress_rejects_unknown_method(codec, method):
    """H-30: only gzip and deflate."""
    with pytest.raises(EncodeError, match='^Unsupported compression method %r$' % method):
        codec.compress(BODY, method, 1)


# -- decompress --------------------------------------------------------------------


def test_decompress_accepts_stdlib_output(codec):
    """H-30: interoperates with other producers of gzip and zlib."""
    assert codec.decompress(gzip.compress(BODY, 9), 'gzip', None) == BODY
    assert codec.decompress(zlib.compress(BODY, 9), 'deflate', None) == BODY
    assert codec.decompress(gzip.compress(b''), 'gzip', 0) == b''


@pytest.mark.parametrize('method', COMPRESSION_METHODS)
@pytest.mark.parametrize('body', [b'', b'not compressed at all', b'\x1f\x8b\x08\x00garbage'])
def test_decompress_rejects_invalid_data(codec, method, body):
    """K-10: bad data -> DecodeError, never zlib.error."""
    with pytest.raises(DecodeError, match='^(Invalid compressed data|Truncated compressed data)$'):
        codec.decompress(body, method, None)


def test_decompress_rejects_the_other_format(codec):
    """H-30: gzip data is not deflate data and vice versa."""
    with pytest.raises(DecodeError, match='^Invalid compressed data$'):
        codec.decompress(gzip.compress(BODY), 'deflate', None)
    with pytest.raises(DecodeError, match='^Invalid compressed data$'):
        codec.decompress(zlib.compress(BODY), 'gzip', None)


@pytest.mark.parametrize('method', COMPRESSION_METHODS)
def test_decompress_rejects_truncated_data(codec, method):
    """K-10: a stream cut short -> DecodeError('Truncated compressed data')."""
    out = codec.compress(BODY, method, 6)
    for cut in (1, 4, len(out) // 2):
        with pytest.raises(DecodeError, match='^Truncated compressed data$'):
            codec.decompress(out[:-cut], method, None)
    with pytest.raises(DecodeError, match='^Truncated compressed data$'):
        codec.decompress(b'', method, None)


@pytest.mark.parametrize('method', COMPRESSION_METHODS)
def test_decompress_rejects_trailing_data(codec, method):
    """K-10: bytes after the end of the stream -> DecodeError."""
    out = codec.compress(BODY, method, 6)
    for tail in (b'\x00', b'x' * 10, out):
        with pytest.raises(DecodeError, match='^Trailing data after compressed data$'):
            codec.decompress(out + tail, method, None)


def test_decompress_rejects_unknown_method(codec):
    """K-10: an unsupported Content-Encoding is a DecodeError."""
    with pytest.raises(DecodeError, match='^Unsupported content encoding$'):
        codec.decompress(zlib.compress(BODY), 'br', None)


@pytest.mark.parametrize('method', COMPRESSION_METHODS)
def test_decompress_refuses_zip_bomb_over_max_bytes(codec, method):
    """H-40, K-12: output is bounded by max_bytes -> ContentTooLongError."""
    bomb = codec.compress(b'\x00' * 20_000_000, method, 9)
    assert len(bomb) < 100_000
    with pytest.raises(
        ContentTooLongError, match='^Decompressed body exceeds the limit of 1000000 bytes$'
    ):
        codec.decompress(bomb, method, 1_000_000)


@pytest.mark.parametrize('method', COMPRESSION_METHODS)
def test_decompress_limit_is_inclusive(codec, method):
    """H-40: exactly max_bytes is accepted, one byte more is refused."""
    out = codec.compress(BODY, method, 1)
    assert codec.decompress(out, method, len(BODY)) == BODY
    with pytest.raises(ContentTooLongError):
        codec.decompress(out, method, len(BODY) - 1)
    with pytest.raises(ContentTooLongError):
        codec.decompress(codec.compress(b'x', method, 1), method, 0)
