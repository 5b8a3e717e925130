"""``python -m engineio_fast --version`` and ``info`` (issue 18), run as child processes.

The child imports the same engineio_fast as the tests (an installed wheel or
the source tree) and runs outside the source tree; ``ENGINEIO_FAST_NO_EXTENSIONS``
is set only where a test sets it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import engineio_fast
from engineio_fast._info import OPTIONAL_PACKAGES

PACKAGE_PARENT = Path(engineio_fast.__file__).resolve().parent.parent


def run(*args: str, code: str | None = None, **env_overrides: str) -> str:
    """Run ``python -m engineio_fast ARGS`` (or ``python -c CODE``); its stdout."""
    env = {k: v for k, v in os.environ.items() if k != 'ENGINEIO_FAST_NO_EXTENSIONS'}
    env['PYTHONPATH'] = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), env.get('PYTHONPATH')]))
    env.update(env_overrides)
    command = ['-c', code] if code is not None else ['-m', 'engineio_fast', *args]
    proc = subprocess.run(
        [sys.executable, '-W', 'error', *command],
        cwd=tempfile.gettempdir(),  # outside the source tree
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def installed_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return 'not installed'


def test_version_prints_the_package_version():
    assert run('--version') == 'engineio_fast %s\n' % engineio_fast.__version__


def test_info_reports_the_compiled_backend_when_it_is_installed(c_extensions_enabled):
    built = importlib.util.find_spec('engineio_fast._codec_c') is not None
    if c_extensions_enabled:
        # Only --no-c-extensions may excuse a missing compiled backend.
        assert built, 'engineio_fast._codec_c is not built'
    lines = run('info').splitlines()
    if built:
        assert lines[1] == 'codec: compiled (engineio_fast._codec_c)'
        assert lines[2] == 'websocket framing: compiled (engineio_fast._ws_c)'
    else:
        assert lines[1] == (
            'codec: pure-Python twin (engineio_fast._codec_py), '
            'the compiled extension is not installed (pure wheel or no compiler)'
        )
        assert lines[2] == (
            'websocket framing: pure-Python twin (engineio_fast._ws_py), '
            'the compiled extension is not installed (pure wheel or no compiler)'
        )


def test_info_says_the_environment_variable_forced_the_pure_twin():
    lines = run('info', ENGINEIO_FAST_NO_EXTENSIONS='1').splitlines()
    assert lines[1] == (
        'codec: pure-Python twin (engineio_fast._codec_py), forced by ENGINEIO_FAST_NO_EXTENSIONS=1'
    )
    assert lines[2] == (
        'websocket framing: pure-Python twin (engineio_fast._ws_py), '
        'forced by ENGINEIO_FAST_NO_EXTENSIONS=1'
    )


def test_info_reports_versions_python_and_the_swap_in_state():
    lines = run('info').splitlines()
    assert lines[0] == 'engineio_fast %s (%s)' % (
        engineio_fast.__version__,
        PACKAGE_PARENT / 'engineio_fast',
    )
    assert lines[3] == 'python: %s %s (%s)' % (
        platform.python_implementation(),
        platform.python_version(),
        sys.executable,
    )
    upstream = installed_version('python-engineio')
    assert lines[4].startswith('python-engineio: %s' % upstream)
    assert lines[5] == (
        'install() active in this process: no (an app checks with engineio_fast.installed())'
    )
    assert lines[6] == 'optional packages:'
    packages = [line.split() for line in lines[7:]]
    assert [words[0] for words in packages] == [name for name, _ in OPTIONAL_PACKAGES]
    for words in packages:
        shown = ' '.join(words[1:3]) if words[1] == 'not' else words[1]
        assert shown == installed_version(words[0]), words


def test_info_lists_the_servers_and_frameworks_users_deploy_on():
    names = [name.lower() for name, _ in OPTIONAL_PACKAGES]
    assert len(names) == len(set(names))
    deployed_on = {
        'aiohttp', 'daphne', 'eventlet', 'gevent', 'granian', 'gunicorn', 'hypercorn',
        'sanic', 'tornado', 'uvicorn', 'uwsgi', 'werkzeug',
    }  # fmt: skip
    assert deployed_on <= set(names), sorted(deployed_on - set(names))


def test_info_in_an_installed_process_says_install_is_active():
    report = run(
        code='import engineio_fast; engineio_fast.install(); '
        'from engineio_fast._info import report; print(report())'
    )
    assert 'install() active in this process: yes' in report.splitlines()[5]


@pytest.mark.parametrize('no_extensions', ['0', '1'])
def test_info_imports_no_optional_package(no_extensions):
    """Versions come from metadata: eventlet, gevent, sanic... are never imported."""
    loaded = run(
        code='import sys, io, contextlib\n'
        'from engineio_fast.__main__ import main\n'
        'with contextlib.redirect_stdout(io.StringIO()):\n'
        '    main(["info"])\n'
        'print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))',
        ENGINEIO_FAST_NO_EXTENSIONS=no_extensions,
    ).split()
    optional = {
        'aiohttp', 'eventlet', 'flask_socketio', 'gevent', 'geventwebsocket', 'httptools',
        'orjson', 'requests', 'sanic', 'socketio', 'tornado', 'uvloop', 'uwsgi', 'websocket',
        'daphne', 'granian', 'gunicorn', 'hypercorn', 'uvicorn', 'werkzeug',
    }  # fmt: skip
    assert optional.isdisjoint(loaded), sorted(optional & set(loaded))
