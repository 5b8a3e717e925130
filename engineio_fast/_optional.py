"""Optional dependencies imported on first use, yet patchable as module attributes."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_modules(namespace: dict, names: tuple[str, ...]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports the optional modules ``names`` on first use.

    They are optional extras and slow to import, so importing engineio_fast
    must not load them (C-01); once looked up they are module attributes, so
    ``mock.patch('engineio.client.websocket.create_connection')`` works
    (C-02).  A missing package reads as None, like python-engineio.
    """
    owner = namespace['__name__']

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError('module %r has no attribute %r' % (owner, name))
        try:
            module = importlib.import_module(name)
        except ImportError:
            module = None
        namespace[name] = module
        return module

    return __getattr__


def loaded(namespace: dict, name: str) -> Any:
    """Module ``name`` of ``namespace`` (or its patched stand-in), imported if needed."""
    module = namespace.get(name)
    return module if module is not None else namespace['__getattr__'](name)
