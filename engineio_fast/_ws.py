"""Chooses the WebSocket framing backend: the compiled ``_ws_c`` or its twin ``_ws_py``.

``ENGINEIO_FAST_NO_EXTENSIONS=1`` (or any interpreter other than CPython)
selects the pure-Python twin; so does a missing or broken extension.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

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
]

NO_EXTENSIONS = os.environ.get('ENGINEIO_FAST_NO_EXTENSIONS', '') not in ('', '0')
if sys.implementation.name != 'cpython':
    NO_EXTENSIONS = True

if TYPE_CHECKING or NO_EXTENSIONS:
    from . import _ws_py as _backend

    USE_EXTENSIONS = False
else:
    try:
        from . import _ws_c as _backend

        USE_EXTENSIONS = True
    except ImportError:  # no compiler at install time: the twin is complete
        from . import _ws_py as _backend

        USE_EXTENSIONS = False

# Bound once at import: a call through the chooser costs nothing extra.
TEXT = _backend.TEXT
BINARY = _backend.BINARY
CLOSE = _backend.CLOSE
PING = _backend.PING
PONG = _backend.PONG
FrameReader = _backend.FrameReader
encode_close = _backend.encode_close
encode_frame = _backend.encode_frame
