"""Docstrings are written for callers (issue 18).

Two guards: no docstring under ``engineio_fast/`` and no ``#:`` comment (which
Sphinx renders as an attribute's documentation) in a public module carries a
requirement id of the internal spec or an issue number (those belong in plain
``#`` comments), and every public method of the public classes documents each
of its parameters with ``:param name:``.
"""

from __future__ import annotations

import ast
import inspect
import io
import re
import tokenize
from pathlib import Path

import pytest

import engineio_fast
from engineio_fast import native

PACKAGE_DIR = Path(engineio_fast.__file__).resolve().parent
#: A requirement id of the spec or a reference to the issue tracker.
REQUIREMENT_ID = re.compile(
    r"""
      \b(?!(?:UTF|UCS|SHA|ISO)-)[A-Z]{1,4}-\d{1,3}\b  # P-41, T-5, TS-22, ABC-12 (not UTF-8)
    | \b[A-Za-z]{2}\d{2}\b                         # ts21, TS21 (not int64, utf16)
    | \bSPEC\b                                     # the spec document itself
    | \b[Ii]ssues?\s+\#?\d+\b                      # issue 8, issues #12
    """,
    re.VERBOSE,
)
DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _source_files() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob('*.py'))


def _is_public_module(path: Path) -> bool:
    """No part of its dotted name starts with ``_`` (``__init__`` is its package)."""
    parts = path.relative_to(PACKAGE_DIR).with_suffix('').parts
    return not any(part.startswith('_') for part in parts if part != '__init__')


def _docstring_ids(source: str) -> list[tuple[int, str, list[str]]]:
    """``(line, name, ids)`` of each docstring of ``source`` that carries ids."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, DOCUMENTED):
            continue
        ids = REQUIREMENT_ID.findall(ast.get_docstring(node, clean=False) or '')
        if ids:
            found.append((getattr(node, 'lineno', 1), getattr(node, 'name', '<module>'), ids))
    return found


def _doc_comment_ids(source: str) -> list[tuple[int, str, list[str]]]:
    """``(line, '#:', ids)`` of each ``#:`` comment of ``source`` that carries ids."""
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and token.string.startswith('#:'):
            ids = REQUIREMENT_ID.findall(token.string)
            if ids:
                found.append((token.start[0], '#:', ids))
    return found


def _documentation_with_ids() -> list[str]:
    found = []
    for path in _source_files():
        source = path.read_text(encoding='utf-8')
        hits = _docstring_ids(source)
        if _is_public_module(path):
            hits += _doc_comment_ids(source)
        rel = path.relative_to(PACKAGE_DIR.parent)
        found += [f'{rel}:{line} {where}: {", ".join(ids)}' for line, where, ids in hits]
    return found


def test_no_docstring_or_doc_comment_carries_a_requirement_id():
    assert _documentation_with_ids() == []


@pytest.mark.parametrize(
    'text',
    [
        '(P-41)',
        'see T-5',
        'ABC-12',
        'CL-09',
        'ts21',
        'TS21',
        'the SPEC says',
        'issue 8',
        'Issue #12',
    ],
)
def test_the_id_pattern_catches(text):
    assert REQUIREMENT_ID.search(text)


@pytest.mark.parametrize(
    'text',
    [
        'UTF-8',
        'SHA-256',
        'b64=True',
        'utf8',
        'utf16',
        'int64',
        'sha1',
        'h11',
        'RFC 6455',
        'the ASGI spec',
        'HTTP/1.1',
    ],
)
def test_the_id_pattern_spares(text):
    assert not REQUIREMENT_ID.search(text)


def test_the_check_reads_docstrings_and_doc_comments():
    source = (
        '"""A module (issue 8)."""\n'
        '#: Seconds to wait (P-27).\n'
        'GRACE = 1.0\n'
        '# P-27: a plain comment is for developers\n'
        'def f():\n'
        '    """Do it, as SPEC says."""\n'
    )
    assert _docstring_ids(source) == [(1, '<module>', ['issue 8']), (5, 'f', ['SPEC'])]
    assert _doc_comment_ids(source) == [(2, '#:', ['P-27'])]


def test_doc_comments_are_checked_in_public_modules_only():
    assert _is_public_module(PACKAGE_DIR / 'base_server.py')
    assert _is_public_module(PACKAGE_DIR / 'async_drivers' / 'eventlet.py')
    assert _is_public_module(PACKAGE_DIR / 'native' / '__init__.py')
    assert not _is_public_module(PACKAGE_DIR / '_protocol' / 'session.py')
    assert not _is_public_module(PACKAGE_DIR / 'async_drivers' / '_websocket_wsgi.py')


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


def _constructor(cls: type):
    """The first ``__init__`` of the MRO that names its parameters."""
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is not None and _parameters(init):
            return init
    return cls.__init__


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
            problems += _undocumented(label, _constructor(cls), cls.__doc__)
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
    source = inspect.getsource(native.Limits)
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
