"""Chooses the codec backend: the compiled ``_codec_c`` or its twin ``_codec_py``.

The choice (``ENGINEIO_FAST_NO_EXTENSIONS``) is ``_extensions.choose``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._extensions import choose

__all__ = [
    'USE_EXTENSIONS',
    'b64_decode',
    'b64_encode',
    'compress',
    'decode_packet',
    'decompress',
    'encode_packet',
    'encode_payload',
    'encode_payload_bytes',
    'jsonp_wrap',
    'negotiate_encoding',
    'open_packet_json',
    'split_payload',
    'utf8_len',
]

if TYPE_CHECKING:
    from . import _codec_py as _backend

    USE_EXTENSIONS = False
else:
    _backend, USE_EXTENSIONS = choose('engineio_fast._codec_c', 'engineio_fast._codec_py')

# Bound once at import: a call through the chooser costs nothing extra.
b64_decode = _backend.b64_decode
b64_encode = _backend.b64_encode
compress = _backend.compress
decode_packet = _backend.decode_packet
decompress = _backend.decompress
encode_packet = _backend.encode_packet
encode_payload = _backend.encode_payload
encode_payload_bytes = _backend.encode_payload_bytes
jsonp_wrap = _backend.jsonp_wrap
negotiate_encoding = _backend.negotiate_encoding
open_packet_json = _backend.open_packet_json
split_payload = _backend.split_payload
utf8_len = _backend.utf8_len
