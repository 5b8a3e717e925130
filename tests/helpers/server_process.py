"""Run ``tests/helpers/echo_server.py`` in a child process and watch its event lines.

Used by the server, client, interop and compat fixtures: one process per test
module, on a free loopback port, killed at teardown.  Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from children import HELPERS_DIR, ChildProcess, python_env

ECHO_SERVER = HELPERS_DIR / 'echo_server.py'

#: ``ENGINEIO_FAST_TEST_MODES="threading asgi"`` runs the server tests in those modes only
#: (tests/run.sh does so for its second run on the pure codec, which no mode changes).
_ONLY_MODES = os.environ.get('ENGINEIO_FAST_TEST_MODES', '').split()


def _selected(modes: list[str]) -> list[str]:
    return [mode for mode in modes if not _ONLY_MODES or mode in _ONLY_MODES]


#: The sync async modes (a ``Server``).
SYNC_MODES = _selected(['threading', 'eventlet', 'gevent', 'gevent_uwsgi'])
#: The asyncio ones (an ``AsyncServer``): ``hypercorn`` is the asgi mode on hypercorn,
#: ``native`` the same ``ASGIApp`` served by engineio_fast's own transport.
ASYNC_MODES = _selected(['asgi', 'hypercorn', 'native', 'aiohttp', 'tornado', 'sanic'])
SERVER_MODES = SYNC_MODES + ASYNC_MODES


class EchoServerProcess(ChildProcess):
    """An echo server child process: ``url``, ``port`` and its event lines.

    ``script`` runs another server script with the same conventions (``MODE
    --option=<json>`` arguments, ``PORT <n>`` line, JSON event lines), e.g.
    tests/compat/sio_app.py.  A server that prints no ``PORT`` line within 30 s
    raises RuntimeError with its stderr.
    """

    def __init__(self, mode: str, *, script: Path = ECHO_SERVER, **options: Any):
        args = [sys.executable, str(script), mode]
        args += ['--%s=%s' % (name, json.dumps(value)) for name, value in options.items()]
        self.mode = mode
        # uWSGI workers print to stderr: event lines may come from either stream.
        super().__init__(args, env=python_env(), events_from_stderr=True, name=script.name)
        self._listening()

    def _listening(self) -> None:
        """Read the ``PORT <n>`` line: ``port`` and ``url``."""
        try:
            line = self.wait_for_line(lambda line: line.startswith('PORT '), timeout=30.0)
        except AssertionError as exc:
            self.stop()
            raise RuntimeError('echo server (%s) did not start: %s' % (self.mode, exc)) from None
        self.port = int(line.split()[1])
        self.url = 'http://127.0.0.1:%d' % self.port
