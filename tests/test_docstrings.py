"""Docstrings are written for callers (issue 18).

Two guards: no docstring under ``engineio_fast/`` carries a requirement id of
the internal spec (those belong in ``#`` comments), and every public method of
the public classes documents each of its parameters with ``:param name:``.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import engineio_fast
from engineio_fast import native

PACKAGE_DIR = Path(engineio_fast.__file__).resolve().parent
#: A requirement id of the spec: ``P-41``, ``TS-22``, ``A-11`` ...
REQUIREMENT_ID = re.compile(r'\b[A-Z]{1,2}-\d{2}\b')
DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _docstrings_with_ids() -> list[str]:
    found = []
    for path in sorted(PACKAGE_DIR.rglob('*.py')):
        tree = ast.parse(path.read_text(encoding='utf-8'))
        for node in ast.walk(tree):
            if not isinstance(node, DOCUMENTED):
                continue
            doc = ast.get_docstring(node, clean=False)
            ids = REQUIREMENT_ID.findall(doc or '')
            if ids:
                where = getattr(node, 'name', '<module>')
                line = getattr(node, 'lineno', 1)
                rel = path.relative_to(PACKAGE_DIR.parent)
                found.append(f'{rel}:{line} {where}: {", ".join(ids)}')
    return found


def test_no_docstring_carries_a_requirement_id():
    assert _docstrings_with_ids() == []


def _public_classes() -> list[type]:
    return [
        engineio_fast.Server,
        engineio_fast.AsyncServer,
        engineio_fast.WSGIApp,
        engineio_fast.Middleware,
        engineio_fast.ASGIApp,
        engineio_fast.Client,
        engineio_fast.AsyncClient,
    ]


def _public_functions() -> list:
    functions = [engineio_fast.install, engineio_fast.installed, engineio_fast.uninstall]
    functions.append(native.serve)
    try:
        from engineio_fast.async_drivers.tornado import get_tornado_handler
    except ImportError:  # pragma: no cover - tornado is optional
        pass
    else:
        functions.append(get_tornado_handler)
    return functions


def _own(value: object) -> bool:
    module = getattr(value, '__module__', None) or ''
    return module.split('.')[0] == 'engineio_fast'


def _public_methods(cls: type) -> list[tuple[str, object]]:
    """Public methods and properties of ``cls``, inherited ones included."""
    members = []
    for name in sorted(dir(cls)):
        if name.startswith('_') and name != '__init__':
            continue
        value = inspect.getattr_static(cls, name)
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            members.append((name, value))
        elif inspect.isfunction(value) and _own(value):
            members.append((name, value))
    return members


def _parameters(function) -> list[str]:
    names = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name in ('self', 'cls'):
            continue
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        names.append(parameter.name)
    return names


def _undocumented(name: str, function, doc: str | None) -> list[str]:
    if not doc or not doc.strip():
        return [f'{name}: no docstring']
    return [
        f'{name}: parameter {param!r} not documented'
        for param in _parameters(function)
        if not re.search(rf':param {re.escape(param)}:', doc)
    ]


#: Classes whose constructor parameters are documented on another class.
DOCUMENTED_ON = {engineio_fast.AsyncServer: engineio_fast.Server}


def _constructor(cls: type):
    """The first ``__init__`` of the MRO that names its parameters."""
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is not None and _parameters(init):
            return init
    return cls.__init__


def _constructor_doc(cls: type) -> str | None:
    return DOCUMENTED_ON.get(cls, cls).__doc__


def _class_problems(cls: type) -> list[str]:
    problems = []
    if not (cls.__doc__ or '').strip():
        problems.append(f'{cls.__name__}: no class docstring')
    for name, member in _public_methods(cls):
        label = f'{cls.__name__}.{name}'
        if isinstance(member, property):
            if not (member.__doc__ or '').strip():
                problems.append(f'{label}: no docstring')
        elif name == '__init__':
            # Constructor parameters are documented on the class, as upstream
            # does; an ``__init__(*args, **kwargs)`` passes them to its base.
            problems += _undocumented(label, _constructor(cls), _constructor_doc(cls))
        else:
            problems += _undocumented(label, member, member.__doc__)
    return problems


@pytest.mark.parametrize('cls', _public_classes(), ids=lambda cls: cls.__name__)
def test_public_methods_document_their_parameters(cls):
    assert _class_problems(cls) == []


@pytest.mark.parametrize('function', _public_functions(), ids=lambda f: f.__name__)
def test_public_functions_document_their_parameters(function):
    assert _undocumented(function.__name__, function, function.__doc__) == []


def test_limits_fields_are_documented():
    # The module may run compiled: read its source file, as the docs build does.
    text = Path(native.__file__).with_name('service.py').read_text()
    source = text[text.index('class Limits') :]
    source = source[: source.index('\nclass ') if '\nclass ' in source else None]
    fields = [name for name in native.Limits.__dataclass_fields__]
    assert native.Limits.__doc__
    for field in fields:
        assert re.search(rf'#: .*\n\s*{field}:', source), field


def test_the_check_catches_an_undocumented_parameter():
    def send(self, sid, data, callback=None):
        """Send a message.

        :param sid: The session id.
        :param data: The data.
        """

    assert _undocumented('send', send, send.__doc__) == [
        "send: parameter 'callback' not documented"
    ]
