"""``engineio_fast.install()`` (C-03): each case runs in a fresh interpreter.

The swap-in changes ``sys.modules`` process-wide, so every check here is a
small script run with ``sys.executable``; it prints ``OK`` at the end.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run_script(source: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, '-c', textwrap.dedent(source)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_ok(source: str) -> None:
    result = run_script(source)
    assert result.returncode == 0 and result.stdout.strip().endswith('OK'), result.stderr


def test_engineio_and_its_submodules_are_engineio_fast():
    """C-03: the same objects under both names, at any depth, modules imported later too."""
    assert_ok(
        """
        import importlib
        import engineio_fast
        engineio_fast.install()
        import engineio, engineio.socket, engineio.packet
        assert engineio is engineio_fast
        assert engineio.socket.Socket is engineio_fast.socket.Socket
        assert engineio.packet.Packet is engineio_fast.packet.Packet
        # a driver first imported through the alias, as python-engineio's servers do
        asgi = importlib.import_module('engineio.async_drivers.asgi')
        import engineio_fast.async_drivers.asgi
        assert asgi is engineio_fast.async_drivers.asgi
        assert asgi.__spec__.name == 'engineio_fast.async_drivers.asgi'
        from engineio.async_drivers import threading
        assert threading is importlib.import_module('engineio_fast.async_drivers.threading')
        print('OK')
        """
    )


def test_install_is_idempotent_and_uninstall_restores_python_engineio():
    """C-03: a second install is a no-op; uninstall gives python-engineio back."""
    assert_ok(
        """
        import sys
        import engineio_fast
        engineio_fast.install()
        engineio_fast.install()
        import engineio
        assert engineio is engineio_fast
        assert sum(1 for f in sys.meta_path if type(f).__name__ == '_AliasFinder') == 1
        engineio_fast.uninstall()
        import engineio
        assert engineio is not engineio_fast
        assert engineio.__name__ == 'engineio' and hasattr(engineio, 'Server')
        print('OK')
        """
    )


def test_install_after_python_engineio_was_imported_is_refused():
    """C-03: a half-swapped process is refused with a clear error unless forced."""
    result = run_script(
        """
        import engineio
        import engineio_fast
        engineio_fast.install()
        """
    )
    assert result.returncode == 1
    assert 'RuntimeError: python-engineio was imported before engineio_fast.install()' in (
        result.stderr
    )
    assert_ok(
        """
        import engineio
        import engineio_fast
        engineio_fast.install(force=True)
        import engineio as again
        assert again is engineio_fast
        print('OK')
        """
    )


@pytest.mark.parametrize('module', ['socketio', 'flask_socketio'])
def test_python_socketio_and_flask_socketio_build_their_servers_on_engineio_fast(module):
    """C-03, C-07, C-08: python-socketio's servers and clients are engineio_fast objects."""
    assert_ok(
        """
        import engineio_fast
        engineio_fast.install()
        import socketio
        import %s
        sio = socketio.Server(async_mode='threading', message_queue=None)
        assert type(sio.eio) is engineio_fast.Server
        assert type(socketio.AsyncServer(async_mode='asgi').eio) is engineio_fast.AsyncServer
        assert type(socketio.Client().eio) is engineio_fast.Client
        assert type(socketio.AsyncClient().eio) is engineio_fast.AsyncClient
        print('OK')
        """
        % module
    )


def test_installed_tells_whether_the_swap_in_is_in_effect():
    """issue 18: ``installed()`` is False until install(), True after it, False after uninstall()."""
    assert_ok(
        """
        import engineio_fast
        assert engineio_fast.installed() is False
        engineio_fast.install()
        assert engineio_fast.installed() is True
        import engineio
        assert engineio.installed() is True  # the same function through the alias
        engineio_fast.uninstall()
        assert engineio_fast.installed() is False
        print('OK')
        """
    )


def test_installed_is_false_while_python_engineio_holds_the_name():
    """issue 18: python-engineio imported without install() is not reported as the swap-in."""
    assert_ok(
        """
        import engineio
        import engineio_fast
        assert engineio is not engineio_fast
        assert engineio_fast.installed() is False
        engineio_fast.install(force=True)
        assert engineio_fast.installed() is True
        # another module put back under the name (by hand) ends the swap-in
        import sys, types
        sys.modules['engineio'] = types.ModuleType('engineio')
        assert engineio_fast.installed() is False
        print('OK')
        """
    )
