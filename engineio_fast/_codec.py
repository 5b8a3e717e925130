"""Chooses the codec backend: the compiled ``_codec_c`` or its twin ``_codec_py``.

``ENGINEIO_FAST_NO_EXTENSIONS=1`` (or any interpreter other than CPython)
selects the pure-Python twin; so does a missing or broken extension.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

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

NO_EXTENSIONS = os.environ.get('ENGINEIO_FAST_NO_EXTENSIONS', '') not in ('', '0')
if sys.implementation.name != 'cpython':
    NO_EXTENSIONS = True

if TYPE_CHECKING or NO_EXTENSIONS:
    from . import _codec_py as _backend

    USE_EXTENSIONS = False
else:
    try:
        from . import _codec_c as _backend

        USE_EXTENSIONS = True
    except ImportError:  # no compiler at install time: the twin is complete
        from . import _codec_py as _backend

        USE_EXTENSIONS = False

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
