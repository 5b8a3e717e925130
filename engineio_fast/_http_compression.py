"""gzip and deflate of HTTP bodies (``Content-Encoding``), one definition for both codec twins.

The work is zlib's, so a compiled copy would gain nothing: ``_codec_py`` and
``_codec_c`` both re-export these function objects under the codec's names.
Websocket permessage-deflate is ``_ws_compression``, not this.
"""
# K-02

from __future__ import annotations

import zlib

from .exceptions import ContentTooLongError, DecodeError, EncodeError

#: zlib ``wbits`` of a gzip stream (RFC 1952) and of a zlib one (RFC 1950),
#: both with the largest window.
_GZIP_WBITS = 31
_ZLIB_WBITS = 15


def compress(body: bytes, method: str, level: int) -> bytes:
    """Compress a response body with ``gzip`` (RFC 1952) or ``deflate`` (RFC 1950)."""
    if not -1 <= level <= 9:
        raise EncodeError('Invalid compression level %r' % (level,))
    if method == 'gzip':
        wbits = _GZIP_WBITS
    elif method == 'deflate':
        wbits = _ZLIB_WBITS
    else:
        raise EncodeError('Unsupported compression method %r' % (method,))
    compressor = zlib.compressobj(level, zlib.DEFLATED, wbits)
    return compressor.compress(body) + compressor.flush()


def decompress(body: bytes, method: str, max_bytes: int | None) -> bytes:
    """Decompress a peer's body, refusing bad, truncated or oversized data."""
    if method == 'gzip':
        decompressor = zlib.decompressobj(_GZIP_WBITS)
    elif method == 'deflate':
        decompressor = zlib.decompressobj(_ZLIB_WBITS)
    else:
        raise DecodeError('Unsupported content encoding')
    try:
        data = decompressor.decompress(body, 0 if max_bytes is None else max_bytes + 1)
    except zlib.error:
        raise DecodeError('Invalid compressed data') from None
    if max_bytes is not None and len(data) > max_bytes:
        raise ContentTooLongError('Decompressed body exceeds the limit of %d bytes' % max_bytes)
    if not decompressor.eof:
        raise DecodeError('Truncated compressed data')
    if decompressor.unused_data:
        raise DecodeError('Trailing data after compressed data')
    return data
