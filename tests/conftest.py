"""Shared fixtures: the codec and WebSocket framing backends (compiled or pure Python), hypothesis.

Every codec test takes ``codec`` and so runs once per backend: ``[py]`` on
``engineio_fast._codec_py`` and ``[c]`` on the compiled ``engineio_fast._codec_c``
(marked ``c_extension``); framing tests take ``ws`` (``_ws_py`` / ``_ws_c``)
the same way.  ``--no-c-extensions`` deselects the compiled runs.
When the extension is missing and the option is not given, the compiled runs
FAIL with a message saying so: a missing build must never pass silently.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator, NamedTuple

import pytest
from hypothesis import HealthCheck, settings

#: The echo-server fixtures (server_mode, start_server, suite_server), from tests/helpers.
pytest_plugins = ('server_fixtures',)

C_EXT_MARK = pytest.mark.c_extension

# The codec API both twins export (the chooser re-exports exactly these).
CODEC_FUNCTIONS = (
    'b64_decode',
    'b64_encode',
    'compress',
    'decode_packet',
    'decompress',
    'encode_packet',
    'encode_payload',
    'encode_payload_bytes',
    'jsonp_wrap',
    'negotiate_encoding',
    'open_packet_json',
    'split_payload',
    'utf8_len',
)

# -- hypothesis ----------------------------------------------------------------

# Bounded by default so the codec suite stays fast on CI; raise the count
# locally (e.g. ENGINEIO_FAST_HYPOTHESIS_EXAMPLES=20000) for a deeper search.
# No deadline: the suite asserts behaviour, never timing.
settings.register_profile(
    'ci',
    max_examples=int(os.environ.get('ENGINEIO_FAST_HYPOTHESIS_EXAMPLES', '300')),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile('ci')


# -- backends ------------------------------------------------------------------


class MissingExtension:
    """Stands in for a compiled module that failed to import.

    Any use fails the test; ``pytest_pyfunc_call`` fails it before the body
    runs, so the report is one clear FAILED line per compiled test.
    """

    def __init__(self, name: str, error: BaseException) -> None:
        self.__name__ = name
        self.message = (
            '%s is not built (%s: %s). Build it with '
            '`python setup.py build_ext --inplace`, or pass --no-c-extensions '
            'to test the pure-Python twin only.' % (name, type(error).__name__, error)
        )

    def __getattr__(self, name: str) -> Any:
        pytest.fail(self.message, pytrace=False)

    def __repr__(self) -> str:
        return '<missing %s>' % self.__name__


@dataclass(frozen=True)
class CodecImplementation:
    """One backend of a twin pair: the pure-Python twin or the compiled extension."""

    is_pure_python: bool
    #: The twins' common prefix: ``_codec`` (the codec) or ``_ws`` (WebSocket framing).
    stem: str = '_codec'
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def tag(self) -> str:
        return 'py' if self.is_pure_python else 'c'

    @property
    def module_name(self) -> str:
        return 'engineio_fast.%s_%s' % (self.stem, self.tag)

    @property
    def module(self) -> ModuleType | MissingExtension:
        if 'module' not in self._cache:
            try:
                self._cache['module'] = importlib.import_module(self.module_name)
            except ImportError as exc:
                if self.is_pure_python:
                    raise
                self._cache['module'] = MissingExtension(self.module_name, exc)
        return self._cache['module']

    def __str__(self) -> str:
        return self.tag


PY_IMPL = CodecImplementation(is_pure_python=True)
C_IMPL = CodecImplementation(is_pure_python=False)
WS_PY_IMPL = CodecImplementation(is_pure_python=True, stem='_ws')
WS_C_IMPL = CodecImplementation(is_pure_python=False, stem='_ws')


@pytest.fixture(
    scope='session',
    params=(pytest.param(C_IMPL, marks=C_EXT_MARK, id='c'), pytest.param(PY_IMPL, id='py')),
)
def codec_implementation(request: pytest.FixtureRequest) -> CodecImplementation:
    """The backend under test, one run per backend."""
    return request.param


@pytest.fixture(scope='session')
def codec(codec_implementation: CodecImplementation) -> ModuleType:
    """The codec module under test (``_codec_py`` or ``_codec_c``)."""
    return codec_implementation.module


@pytest.fixture(scope='session')
def codec_py() -> ModuleType:
    """The pure-Python twin, for parity tests."""
    return PY_IMPL.module


@pytest.fixture(scope='session', params=(pytest.param(C_IMPL, marks=C_EXT_MARK, id='c'),))
def codec_c(request: pytest.FixtureRequest) -> ModuleType:
    """The compiled twin, for parity tests (compiled-only, so marked ``c_extension``)."""
    return request.param.module


@pytest.fixture(
    scope='session',
    params=(pytest.param(WS_C_IMPL, marks=C_EXT_MARK, id='c'), pytest.param(WS_PY_IMPL, id='py')),
)
def ws_implementation(request: pytest.FixtureRequest) -> CodecImplementation:
    """The WebSocket framing backend under test, one run per backend."""
    return request.param


@pytest.fixture(scope='session')
def ws(ws_implementation: CodecImplementation) -> ModuleType:
    """The framing module under test (``_ws_py`` or ``_ws_c``)."""
    return ws_implementation.module


@pytest.fixture(scope='session')
def ws_py() -> ModuleType:
    """The pure-Python framing twin, for parity tests."""
    return WS_PY_IMPL.module


@pytest.fixture(scope='session', params=(pytest.param(WS_C_IMPL, marks=C_EXT_MARK, id='c'),))
def ws_c(request: pytest.FixtureRequest) -> ModuleType:
    """The compiled framing twin, for parity tests (marked ``c_extension``)."""
    return request.param.module


class CompatModules(NamedTuple):
    """``engineio_fast.packet`` and ``engineio_fast.payload`` running on one backend."""

    packet: ModuleType
    payload: ModuleType


@pytest.fixture
def compat_backend(codec: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[CompatModules]:
    """``(packet, payload)`` with ``engineio_fast._codec`` switched to ``codec``.

    ``Packet`` and ``Payload`` call the codec through attributes of the
    chooser module, so patching those attributes switches their backend.
    """
    from engineio_fast import _codec, packet, payload

    if not isinstance(codec, MissingExtension):
        for name in CODEC_FUNCTIONS:
            monkeypatch.setattr(_codec, name, getattr(codec, name))
    yield CompatModules(packet, payload)


# -- options and collection ------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        '--no-c-extensions',
        action='store_true',
        default=False,
        dest='no_c_extensions',
        help='Deselect the tests of the compiled extensions (test the pure-Python twins only).',
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        'markers', '%s: runs against a compiled extension (_codec_c, _ws_c).' % C_EXT_MARK.name
    )
    stale = stale_extensions()
    if stale:
        pytest.exit(
            'extensions older than their .pyx or without one (delete them and rebuild: '
            'ENGINEIO_FAST_BUILD_EXTENSION=yes python setup.py build_ext --inplace): %s'
            % ', '.join(stale),
            returncode=4,
        )


def stale_extensions() -> list[str]:
    """Extensions built in place in a source checkout and older than their ``.pyx``,
    or left over from an earlier build that compiled modules which now have none.

    Python imports a compiled module before its ``.py``: in an editable install,
    an edit without a rebuild, or a leftover extension, would go untested.
    """
    package = Path(importlib.util.find_spec('engineio_fast').origin).parent
    if not package.parent.joinpath('setup.py').is_file():
        return []  # an installed wheel: both files come from one build
    stale = []
    for built in package.rglob('*.so'):
        source = built.with_name(built.name.split('.', 1)[0] + '.pyx')
        if not source.is_file() or source.stat().st_mtime > built.stat().st_mtime:
            stale.append(str(built.relative_to(package.parent)))
    return sorted(stale)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the compiled-backend tests when ``--no-c-extensions`` is given."""
    if not config.getoption('no_c_extensions'):
        return
    selected, deselected = [], []
    for item in items:
        if item.get_closest_marker(C_EXT_MARK.name) is not None:
            deselected.append(item)
        else:
            selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    """Fail (never skip) a test whose backend fixture is a missing extension."""
    for value in pyfuncitem.funcargs.values():
        if isinstance(value, MissingExtension):
            pytest.fail(value.message, pytrace=False)


@pytest.fixture(scope='session')
def c_extensions_enabled(pytestconfig: pytest.Config) -> bool:
    """False when ``--no-c-extensions`` was given."""
    return not pytestconfig.getoption('no_c_extensions')
