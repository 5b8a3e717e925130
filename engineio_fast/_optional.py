"""Optional dependencies imported on first use, yet patchable as module attributes."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_imports(namespace: dict, targets: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``targets`` on first use.

    ``targets`` maps an attribute name to ``'module'`` or
    ``'module:attribute'``.  They are optional extras and slow to import, so
    importing engineio_fast must not load them; once looked up they
    are module attributes, so ``mock.patch('engineio.client.websocket.create_connection')``
    works.  A missing package reads as None, like python-engineio.
    """
    # C-01, C-02
    owner = namespace['__name__']

    def __getattr__(name: str) -> Any:
        target = targets.get(name)
        if target is None:
            raise AttributeError('module %r has no attribute %r' % (owner, name))
        module_name, _, attribute = target.partition(':')
        try:
            value = importlib.import_module(module_name)
            if attribute:
                value = getattr(value, attribute)
        except ImportError:
            value = None
        namespace[name] = value
        return value

    return __getattr__


def loaded(namespace: dict, name: str) -> Any:
    """Module ``name`` of ``namespace`` (or its patched stand-in), imported if needed."""
    module = namespace.get(name)
    return module if module is not None else namespace['__getattr__'](name)
