"""Import hygiene: each module alone, the default backend, the layering table (C-11, K-01, STYLE).

Every check runs in a fresh interpreter so that nothing imported by the test
session (or by another check) hides a missing import or a cycle.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import pytest

import engineio_fast

PACKAGE_DIR = Path(engineio_fast.__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
#: The compiled twins (the chooser of each must pick it by default).
COMPILED = ('engineio_fast._codec_c', 'engineio_fast._ws_c')


#: Importable only inside its host program (the ``uwsgi`` module exists only
#: in a uWSGI process); the driver loader treats the ImportError as "mode
#: unavailable", like python-engineio.
HOST_ONLY = {'engineio_fast.async_drivers.gevent_uwsgi': 'uwsgi'}
#: Warnings third-party packages raise on import, which are not ours to fix.
THIRD_PARTY_WARNINGS = {
    'engineio_fast.async_drivers.eventlet': r'\s*Eventlet is deprecated',
}


def _modules() -> list:
    names = {'engineio_fast', *COMPILED}
    names.update(
        info.name
        for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix='engineio_fast.')
        if info.name not in HOST_ONLY
    )
    return [
        pytest.param(name, marks=pytest.mark.c_extension) if name in COMPILED else name
        for name in sorted(names)
    ]


def run_python(code: str, **env_overrides: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with warnings as errors."""
    env = {k: v for k, v in os.environ.items() if k != 'ENGINEIO_FAST_NO_EXTENSIONS'}
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(ROOT), env.get('PYTHONPATH')]))
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, '-W', 'error', '-c', code],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_json(code: str, **env_overrides: str) -> object:
    """Run ``code`` (which prints one JSON document) and return the parsed output."""
    proc = run_python(code, **env_overrides)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def warning_prelude(module: str) -> str:
    """Code that lets the third-party warning ``module`` is known to raise on import pass."""
    allowed = THIRD_PARTY_WARNINGS.get(module)
    if not allowed:
        return ''
    return 'import warnings; warnings.filterwarnings("ignore", message=%r); ' % allowed


@pytest.mark.parametrize('module', _modules())
def test_module_imports_alone_with_warnings_as_errors(module):
    """STYLE: every module imports on its own (no cycles, no warnings)."""
    proc = run_python(warning_prelude(module) + 'import %s' % module)
    hint = (
        ' (is the extension built? `python setup.py build_ext --inplace`)'
        if module in COMPILED
        else ''
    )
    assert proc.returncode == 0, 'import %s failed%s:\n%s' % (module, hint, proc.stderr)


@pytest.mark.parametrize('module', sorted(HOST_ONLY))
def test_host_only_driver_reports_its_missing_host(module):
    """A-10: outside its host the driver raises ImportError naming the host module."""
    proc = run_python('import %s' % module)
    assert proc.returncode != 0
    assert "No module named '%s'" % HOST_ONLY[module] in proc.stderr


# Which codec function each chooser name comes from, and the reported flag.
_BACKEND_REPORT = """
import json, sys
import engineio_fast
from engineio_fast import _codec, _codec_py
compiled = sys.modules.get('engineio_fast._codec_c')
names = [n for n in _codec.__all__ if n != 'USE_EXTENSIONS']
def origin(name):
    fn = getattr(_codec, name)
    if compiled is not None and getattr(compiled, name, None) is getattr(_codec_py, name):
        return 'shared'  # one definition both twins re-export (compress, decompress)
    if fn is getattr(_codec_py, name):
        return 'py'
    if compiled is not None and fn is getattr(compiled, name, None):
        return 'c'
    return 'other'
print(json.dumps({
    'USE_EXTENSIONS': engineio_fast.USE_EXTENSIONS,
    'chooser_flag': _codec.USE_EXTENSIONS,
    'origins': sorted({origin(n) for n in names} - {'shared'}),
    'decode_packet_is_py': _codec.decode_packet is _codec_py.decode_packet,
    'compiled_loaded': compiled is not None,
}))
"""


def test_compiled_backend_is_the_default(c_extensions_enabled):
    """C-11, K-01: with the extension built, the chooser picks it and USE_EXTENSIONS is True."""
    report = run_json(_BACKEND_REPORT)
    # All codec names come from one backend, and the flag says which.
    assert report['USE_EXTENSIONS'] is report['chooser_flag']
    assert len(report['origins']) == 1
    assert report['origins'] == (['c'] if report['USE_EXTENSIONS'] else ['py'])
    if c_extensions_enabled:
        # Only ``--no-c-extensions`` may excuse a missing compiled backend.
        assert report['USE_EXTENSIONS'] is True, 'compiled codec not in use: %r' % report


def test_no_extensions_env_var_forces_the_pure_python_twin():
    """C-11: ENGINEIO_FAST_NO_EXTENSIONS=1 selects ``_codec_py`` at run time."""
    report = run_json(_BACKEND_REPORT, ENGINEIO_FAST_NO_EXTENSIONS='1')
    assert report == {
        'USE_EXTENSIONS': False,
        'chooser_flag': False,
        'origins': ['py'],
        'decode_packet_is_py': True,
        'compiled_loaded': False,
    }


# Which backend each name of the WebSocket framing chooser comes from.
_WS_BACKEND_REPORT = """
import json, sys
from engineio_fast import _ws, _ws_py
compiled = sys.modules.get('engineio_fast._ws_c')
def origin(name):
    obj = getattr(_ws, name)
    if obj is getattr(_ws_py, name):
        return 'py'
    if compiled is not None and obj is getattr(compiled, name):
        return 'c'
    return 'other'
print(json.dumps({
    'USE_EXTENSIONS': _ws.USE_EXTENSIONS,
    'origins': sorted({origin(n) for n in ('FrameReader', 'encode_close', 'encode_frame')}),
    'compiled_loaded': compiled is not None,
}))
"""


def test_ws_chooser_picks_the_compiled_framing_by_default(c_extensions_enabled):
    """issue 17: ``_ws`` binds one backend's names, the compiled one when built."""
    report = run_json(_WS_BACKEND_REPORT)
    assert report['origins'] == (['c'] if report['USE_EXTENSIONS'] else ['py'])
    if c_extensions_enabled:
        assert report['USE_EXTENSIONS'] is True, 'compiled framing not in use: %r' % report


def test_ws_chooser_no_extensions_env_var_forces_the_pure_python_twin():
    """issue 17: ENGINEIO_FAST_NO_EXTENSIONS=1 selects ``_ws_py`` and never loads ``_ws_c``."""
    report = run_json(_WS_BACKEND_REPORT, ENGINEIO_FAST_NO_EXTENSIONS='1')
    assert report == {'USE_EXTENSIONS': False, 'origins': ['py'], 'compiled_loaded': False}


# -- layering ----------------------------------------------------------------------------------------

# STYLE.md "Who may import what" as ranked layers; lower never imports higher.
# A module is classified by the first rule that matches its name (relative to
# engineio_fast), so a new module in a known package or with a known prefix
# needs no entry here; an unclassified module fails
# test_every_module_has_a_layer.  A module may load (transitively) the
# modules of lower layers, the packages holding them, and its own layer's
# modules only where PEERS_ALLOWED says so.
LAYER_RULES: list[tuple[str, str]] = [
    # (layer, fnmatch pattern)
    ('foundation', 'exceptions'),
    ('foundation', 'json'),
    ('foundation', '_constants'),
    ('foundation', '_optional'),
    ('foundation', '_logging'),
    ('foundation', '_extensions'),  # which twin of a compiled/pure pair is used
    ('compression', '_*compression'),  # zlib helpers both twins share (K-02), websocket deflate
    ('compression', '_ws_deflate'),  # permessage-deflate both framing twins share
    ('codec', '_codec_*'),  # the twins _codec_py and _codec_c
    ('codec', '_ws_py'),  # the WebSocket framing twins
    ('codec', '_ws_c'),
    ('codec', 'json_fast'),
    ('chooser', '_codec'),
    ('chooser', '_ws'),
    ('packet', 'packet'),
    ('payload', 'payload'),
    ('protocol', '_protocol'),
    ('protocol', '_protocol.*'),
    ('runtime', '_coro'),
    ('runtime', '_events'),
    ('runtime', '_timers'),
    ('runtime', '_workers'),
    ('base', 'base_*'),
    ('sessions', 'socket'),
    ('sessions', 'async_socket'),
    ('endpoints', 'server'),
    ('endpoints', 'async_server'),
    ('endpoints', 'client'),
    ('endpoints', 'async_client'),
    ('apps', 'static_files'),
    ('apps', 'middleware'),
    ('apps', 'async_drivers'),
    ('apps', 'async_drivers.*'),
    ('apps', 'native'),  # the native transport: an HTTP server of our own
    ('apps', 'native.*'),
    ('entry', '_install'),
    ('entry', '_info'),  # python -m engineio_fast info
    ('entry', '__main__'),
    ('entry', 'demo'),
    ('entry', 'demo.*'),
]
#: Bottom to top: codec -> packet/payload -> _protocol -> base_* -> sync/async -> drivers/apps.
LAYER_ORDER = [
    'foundation',  # stdlib only: exceptions, json shim, constants
    'compression',  # _http_compression (one gzip/deflate for both twins), _ws_compression, _ws_deflate
    'codec',  # the codec twins, the WebSocket framing twins and json_fast
    'chooser',  # _codec and _ws pick a twin
    'packet',
    'payload',
    'protocol',  # sans-IO decisions
    'runtime',  # _coro, timers, workers, event handlers: the flows' plumbing
    'base',  # base_socket, base_server, base_client: the flows, written once
    'sessions',  # Socket, AsyncSocket
    'endpoints',  # Server, AsyncServer, Client, AsyncClient
    'apps',  # async_drivers, middleware, static_files, native
    'entry',  # install(), the demo, python -m engineio_fast
]
#: Layers whose modules may import each other (a driver uses _environ, a sans-IO
#: module another's decisions).  The codec layer may not: twins never import twins.
PEERS_ALLOWED = {'protocol', 'apps', 'entry'}
#: Layers that load nothing outside the stdlib (json_fast may load orjson).
STDLIB_ONLY_LAYERS = {'foundation', 'compression', 'chooser'}
STDLIB_ONLY_EXTRA = {'_codec_py', '_codec_c', '_ws_py', '_ws_c'}
#: stdlib modules a sans-IO module never loads (STYLE rule 5: no I/O, no threads).
IO_MODULES = {'asyncio', 'socket', 'threading', 'selectors'}


def layer_of(module: str) -> str | None:
    """The layer of ``module`` (a name relative to engineio_fast), None if no rule matches."""
    return next((layer for layer, pattern in LAYER_RULES if fnmatch(module, pattern)), None)


def _project_modules() -> list[str]:
    """Every engineio_fast submodule, relative names (the compiled one included)."""
    walk = pkgutil.walk_packages([str(PACKAGE_DIR)], prefix='engineio_fast.')
    return sorted(
        {info.name.split('.', 1)[1] for info in walk} | {m.split('.', 1)[1] for m in COMPILED}
    )


def allowed_imports(module: str) -> set[str]:
    """The engineio_fast modules ``module`` may load: lower layers (and peers where allowed)."""
    rank = LAYER_ORDER.index(layer_of(module))
    allowed = set()
    for other in _project_modules():
        other_layer = layer_of(other)
        if other_layer is None:
            continue
        other_rank = LAYER_ORDER.index(other_layer)
        if other_rank < rank or (other_rank == rank and other_layer in PEERS_ALLOWED):
            allowed.add(other)
    # Importing a submodule runs its package's __init__ (engineio_fast itself is faked).
    allowed |= {m.rsplit('.', 1)[0] for m in allowed | {module} if '.' in m}
    return allowed


def test_every_module_has_a_layer():
    """STYLE layering: no engineio_fast module escapes the table (add a rule for a new kind)."""
    unclassified = [m for m in _project_modules() if layer_of(m) is None]
    assert not unclassified, (
        'engineio_fast modules in no layer: %s; add a rule to LAYER_RULES in %s'
        % (unclassified, __file__)
    )
    assert {layer for layer, _ in LAYER_RULES} == set(LAYER_ORDER)


# Loads one submodule without running engineio_fast/__init__.py (which
# imports everything), then reports what got imported.
_LAYER_REPORT = """
import importlib, importlib.util, json, sys, types
spec = importlib.util.find_spec('engineio_fast')
package = types.ModuleType('engineio_fast')
package.__path__ = list(spec.submodule_search_locations)
sys.modules['engineio_fast'] = package
before = set(sys.modules)
importlib.import_module('engineio_fast.' + %r)
new = set(sys.modules) - before
print(json.dumps({
    'project': sorted(m.split('.', 1)[1] for m in new if m.startswith('engineio_fast.')),
    'stdlib': sorted(m for m in new if m.split('.')[0] in sys.stdlib_module_names),
    'third_party': sorted(
        m for m in new
        if m.split('.')[0] not in sys.stdlib_module_names and m.split('.')[0] != 'engineio_fast'
        # registered by every Cython extension module itself, not imports
        and m != 'cython_runtime' and not m.startswith('_cython_')
    ),
}))
"""


@pytest.mark.parametrize(
    'module',
    [
        pytest.param(name, marks=pytest.mark.c_extension)
        if 'engineio_fast.' + name in COMPILED
        else name
        for name in _project_modules()
        # the top layer may load anything; a host-only driver cannot load here
        if layer_of(name) not in (None, 'entry') and 'engineio_fast.' + name not in HOST_ONLY
    ],
)
def test_module_imports_only_lower_layers(module):
    """STYLE layering: a module loads only the engineio_fast modules below it."""
    report = run_json(warning_prelude('engineio_fast.' + module) + _LAYER_REPORT % module)
    loaded = set(report['project']) - {module}
    allowed = allowed_imports(module)
    assert loaded <= allowed, 'engineio_fast.%s (%s layer) imports %s; STYLE.md allows only %s' % (
        module,
        layer_of(module),
        sorted(loaded - allowed),
        sorted(allowed) or 'the stdlib',
    )
    layer = layer_of(module)
    if layer in STDLIB_ONLY_LAYERS or module in STDLIB_ONLY_EXTRA:
        assert report['third_party'] == []
    if layer == 'protocol':
        assert not IO_MODULES & set(report['stdlib']), 'sans-IO engineio_fast.%s loads %s' % (
            module,
            sorted(IO_MODULES & set(report['stdlib'])),
        )


# -- public names ------------------------------------------------------------------------------------

# python-engineio's ``__all__`` and ours, from a fresh interpreter where
# ``import engineio`` is python-engineio (no install() ran).
_ALL_REPORT = """
import json
import engineio, engineio_fast
print(json.dumps({
    'upstream_is_ours': engineio is engineio_fast,
    'upstream': list(engineio.__all__),
    'ours': list(engineio_fast.__all__),
    'unresolved': [name for name in engineio_fast.__all__ if not hasattr(engineio_fast, name)],
}))
"""


def test_all_has_every_python_engineio_name_and_our_own_public_names():
    """``__all__`` is python-engineio's plus the swap-in, the backend flag and ``serve``."""
    report = run_json(_ALL_REPORT)
    assert report['upstream_is_ours'] is False
    ours = report['ours']
    assert len(ours) == len(set(ours))
    missing = [name for name in report['upstream'] if name not in ours]
    assert missing == []
    own = {
        'install',
        'installed',
        'uninstall',
        'USE_EXTENSIONS',
        'ENGINEIO_COMPAT_VERSION',
        'serve',
    }
    assert own <= set(ours)
    assert report['unresolved'] == []
