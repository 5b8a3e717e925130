"""Which backend runs: compiled or pure Python.

Two kinds of compiled code exist:

* twin pairs (the codec, the websocket framing): a Cython ``.pyx`` module and a
  pure-Python module with the same interface, picked by :func:`choose`;
* the session flow (:data:`COMPILED_MODULES`): ordinary ``.py`` modules that the
  build also compiles with Cython.  The extension sits beside its source and
  Python imports it first; the source is its twin.

``ENGINEIO_FAST_NO_EXTENSIONS=1`` (or any interpreter other than CPython)
selects the pure-Python side of both; so does a missing or broken extension.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
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


#: The ``.py`` modules the build compiles with Cython (setup.py reads this list).
COMPILED_MODULES = (
    'engineio_fast._coro',
    'engineio_fast._protocol.http',
    'engineio_fast._protocol.session',
    'engineio_fast.async_drivers._body',
    'engineio_fast.async_drivers._environ',
    'engineio_fast.async_drivers.asgi',
    'engineio_fast.async_server',
    'engineio_fast.async_socket',
    'engineio_fast.base_server',
    'engineio_fast.base_socket',
    'engineio_fast.native.asgi',
    'engineio_fast.native.connection',
    'engineio_fast.native.service',
    'engineio_fast.native.websocket',
    'engineio_fast.packet',
    'engineio_fast.payload',
    'engineio_fast.server',
    'engineio_fast.socket',
)


class SourceFirstFinder(importlib.abc.MetaPathFinder):
    """Imports the ``.py`` source of the compiled modules instead of their extension."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED_MODULES:
            return None
        filename = fullname.rpartition('.')[2] + '.py'
        for folder in path or ():
            source = os.path.join(folder, filename)
            if os.path.isfile(source):
                return importlib.util.spec_from_file_location(fullname, source)
        return None


def is_compiled(module: ModuleType) -> bool:
    """Whether ``module`` was loaded from a compiled extension."""
    return isinstance(getattr(module, '__loader__', None), importlib.machinery.ExtensionFileLoader)


if NO_EXTENSIONS and not any(isinstance(f, SourceFirstFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, SourceFirstFinder())
