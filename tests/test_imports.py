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
from pathlib import Path

import pytest

import engineio_fast

PACKAGE_DIR = Path(engineio_fast.__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
COMPILED = 'engineio_fast._codec_c'


#: Importable only inside its host program (the ``uwsgi`` module exists only
#: in a uWSGI process); the driver loader treats the ImportError as "mode
#: unavailable", like python-engineio.
HOST_ONLY = {'engineio_fast.async_drivers.gevent_uwsgi': 'uwsgi'}
#: Warnings third-party packages raise on import, which are not ours to fix.
THIRD_PARTY_WARNINGS = {
    'engineio_fast.async_drivers.eventlet': r'\s*Eventlet is deprecated',
}


def _modules() -> list:
    names = {'engineio_fast', COMPILED}
    names.update(
        info.name
        for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix='engineio_fast.')
        if info.name not in HOST_ONLY
    )
    return [
        pytest.param(name, marks=pytest.mark.c_extension) if name == COMPILED else name
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


@pytest.mark.parametrize('module', _modules())
def test_module_imports_alone_with_warnings_as_errors(module):
    """STYLE: every module imports on its own (no cycles, no warnings)."""
    allowed = THIRD_PARTY_WARNINGS.get(module)
    prelude = (
        'import warnings; warnings.filterwarnings("ignore", message=%r); ' % allowed
        if allowed
        else ''
    )
    proc = run_python(prelude + 'import %s' % module)
    hint = (
        ' (is the extension built? `python setup.py build_ext --inplace`)'
        if module == COMPILED
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


# -- layering ----------------------------------------------------------------------------------------

# STYLE.md "Who may import what", as the set of engineio_fast modules each
# module may load, transitively (lower never imports higher).
_BOTTOM: frozenset = frozenset()
# The twins also know the guarded ``json.loads`` (to skip calling it on data
# that cannot be JSON); ``json`` is a stdlib-only leaf like ``exceptions``; both
# take gzip/deflate from ``_http_compression`` (K-02).
_TWIN_DEPS = frozenset({'_constants', '_http_compression', 'exceptions', 'json'})
_CODEC_DEPS = _TWIN_DEPS | {'_codec_py', '_codec_c'}
LAYERS = {
    'exceptions': _BOTTOM,
    'json': _BOTTOM,
    'json_fast': {'json'},
    '_ws_compression': {'_constants'},
    '_http_compression': {'exceptions'},
    '_constants': _BOTTOM,
    '_optional': _BOTTOM,
    '_codec_py': _TWIN_DEPS,
    '_codec_c': _TWIN_DEPS,
    '_codec': _CODEC_DEPS,
    'packet': _CODEC_DEPS | {'_codec', 'json'},
    'payload': _CODEC_DEPS | {'_codec', 'json', 'packet'},
}
STDLIB_ONLY = {
    'exceptions',
    'json',
    '_constants',
    '_optional',
    '_codec_py',
    '_codec_c',
    '_ws_compression',
    '_http_compression',
}

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
        pytest.param(name, marks=pytest.mark.c_extension) if name == '_codec_c' else name
        for name in LAYERS
    ],
)
def test_module_imports_only_lower_layers(module):
    """STYLE layering: a module loads only the engineio_fast modules below it."""
    report = run_json(_LAYER_REPORT % module)
    loaded = set(report['project']) - {module}
    assert loaded <= LAYERS[module], 'engineio_fast.%s imports %s; STYLE.md allows only %s' % (
        module,
        sorted(loaded - LAYERS[module]),
        sorted(LAYERS[module]) or 'the stdlib',
    )
    if module in STDLIB_ONLY:
        assert report['third_party'] == []
