"""Which backend runs: compiled or pure Python.

The codec and the websocket framing come as twin pairs: a Cython ``.pyx``
module and a pure-Python module with the same interface, picked by
:func:`choose`.  ``ENGINEIO_FAST_NO_EXTENSIONS=1`` (or any interpreter other
than CPython) selects the pure-Python twins; so does a missing or broken
extension.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType

ENV_VAR = 'ENGINEIO_FAST_NO_EXTENSIONS'


def _forced_by() -> str | None:
    """Why the pure-Python twins must be used, or None when the compiled ones may load."""
    value = os.environ.get(ENV_VAR, '')
    if value not in ('', '0'):
        return '%s=%s' % (ENV_VAR, value)
    if sys.implementation.name != 'cpython':
        return 'the %s interpreter' % sys.implementation.name
    return None


#: The reason the twins are forced (shown by ``python -m engineio_fast info``), or None.
FORCED_BY = _forced_by()
NO_EXTENSIONS = FORCED_BY is not None


def choose(compiled: str, twin: str) -> tuple[ModuleType, bool]:
    """``(module, is_compiled)``: the compiled module when allowed and importable."""
    if not NO_EXTENSIONS:
        try:
            return importlib.import_module(compiled), True
        except ImportError:  # no compiler at install time: the twin is complete
            pass
    return importlib.import_module(twin), False
