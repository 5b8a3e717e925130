"""Which backend a compiled/pure twin pair uses (the codec, the websocket framing).

``ENGINEIO_FAST_NO_EXTENSIONS=1`` (or any interpreter other than CPython)
selects the pure-Python twin; so does a missing or broken extension.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

NO_EXTENSIONS = (
    os.environ.get('ENGINEIO_FAST_NO_EXTENSIONS', '') not in ('', '0')
    or sys.implementation.name != 'cpython'
)


def choose(compiled: str, twin: str) -> tuple[ModuleType, bool]:
    """``(module, is_compiled)``: the compiled module when allowed and importable."""
    if not NO_EXTENSIONS:
        try:
            return importlib.import_module(compiled), True
        except ImportError:  # no compiler at install time: the twin is complete
            pass
    return importlib.import_module(twin), False
