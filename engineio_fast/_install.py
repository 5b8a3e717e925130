"""``install()``: make ``import engineio`` and its submodules resolve to engineio_fast.

How it works: ``engineio`` and every ``engineio_fast`` submodule already
imported are registered in ``sys.modules`` under their ``engineio`` names,
and a finder placed first on ``sys.meta_path`` maps any later
``engineio.<name>`` import (a driver chosen at run time, say) to
``engineio_fast.<name>``.  The same module objects serve both names, so a
patch through one name is seen through the other.
"""
# C-03

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Sequence

ALIAS = 'engineio'
PACKAGE = __name__.rpartition('.')[0]


class _AliasLoader(importlib.abc.Loader):
    """Loads ``engineio.<name>`` as the already imported ``engineio_fast.<name>``."""

    def __init__(self, target: str):
        self.target = target
        self._spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system replaced __spec__ with the alias's; keep the real one.
        module.__spec__ = self._spec


class _AliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``engineio`` and ``engineio.*`` as the engineio_fast modules."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != ALIAS and not fullname.startswith(ALIAS + '.'):
            return None
        target_name = PACKAGE + fullname[len(ALIAS) :]
        if importlib.util.find_spec(target_name) is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name))


_finder = _AliasFinder()


def _is_ours(module: ModuleType | None) -> bool:
    name = getattr(module, '__name__', '')
    return name == PACKAGE or name.startswith(PACKAGE + '.')


def install(force: bool = False) -> None:
    """Make ``import engineio`` (and ``engineio.<submodule>``) give engineio_fast.

    Call it before python-socketio or Flask-SocketIO is imported.  Calling it
    again does nothing.

    :param force: replace a python-engineio that was already imported
                  instead of raising ``RuntimeError`` (objects created from
                  it keep using it).
    """
    foreign = [
        name
        for name, module in sys.modules.items()
        if (name == ALIAS or name.startswith(ALIAS + '.')) and not _is_ours(module)
    ]
    if foreign and not force:
        raise RuntimeError(
            'python-engineio was imported before engineio_fast.install(); call install() '
            'before importing socketio, flask_socketio or engineio'
        )
    for name in foreign:
        del sys.modules[name]
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    for name, module in list(sys.modules.items()):
        if _is_ours(module) and (name == PACKAGE or name.startswith(PACKAGE + '.')):
            sys.modules.setdefault(ALIAS + name[len(PACKAGE) :], module)


def installed() -> bool:
    """Tell whether ``install()`` is in effect in this process.

    True from ``install()`` until ``uninstall()``: ``import engineio`` (and
    so python-socketio and Flask-SocketIO) then gets engineio_fast.  An app
    can check it at startup, for example after ``uvicorn module:app`` or
    ``gunicorn module:app`` imported it::

        import engineio_fast
        assert engineio_fast.installed(), 'engineio_fast.install() was not called'

    It is False in a process that never called ``install()``, such as a
    fresh ``python -m engineio_fast info``.
    """
    engineio = sys.modules.get(ALIAS)
    return _finder in sys.meta_path and (engineio is None or _is_ours(engineio))


def uninstall() -> None:
    """Undo ``install()``: ``import engineio`` finds python-engineio again."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name, module in list(sys.modules.items()):
        if (name == ALIAS or name.startswith(ALIAS + '.')) and _is_ours(module):
            del sys.modules[name]
