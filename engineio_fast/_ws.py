"""Chooses the WebSocket framing backend: the compiled ``_ws_c`` or its twin ``_ws_py``.

The choice (``ENGINEIO_FAST_NO_EXTENSIONS``) is ``_extensions.choose``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._extensions import choose

__all__ = [
    'BINARY',
    'CLOSE',
    'PING',
    'PONG',
    'TEXT',
    'USE_EXTENSIONS',
    'FrameReader',
    'encode_close',
    'encode_frame',
    'encode_text_packet',
]

if TYPE_CHECKING:
    from . import _ws_py as _backend

    USE_EXTENSIONS = False
else:
    _backend, USE_EXTENSIONS = choose('engineio_fast._ws_c', 'engineio_fast._ws_py')

# Bound once at import: a call through the chooser costs nothing extra.
TEXT = _backend.TEXT
BINARY = _backend.BINARY
CLOSE = _backend.CLOSE
PING = _backend.PING
PONG = _backend.PONG
FrameReader = _backend.FrameReader
encode_close = _backend.encode_close
encode_frame = _backend.encode_frame
encode_text_packet = _backend.encode_text_packet
