"""Run ``tests/echo_server.py`` in a child process and watch its event lines.

Used by the server and interop fixtures: one process per test module, on a
free loopback port, killed at teardown.  Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ECHO_SERVER = Path(__file__).resolve().parent / 'echo_server.py'

#: ``ENGINEIO_FAST_TEST_MODES="threading asgi"`` runs the server tests in those modes only
#: (tests/run.sh does so for its second run on the pure codec, which no mode changes).
_ONLY_MODES = os.environ.get('ENGINEIO_FAST_TEST_MODES', '').split()


def _selected(modes: list[str]) -> list[str]:
    return [mode for mode in modes if not _ONLY_MODES or mode in _ONLY_MODES]


#: The sync async modes (a ``Server``).
SYNC_MODES = _selected(['threading', 'eventlet', 'gevent', 'gevent_uwsgi'])
#: The asyncio ones (an ``AsyncServer``): ``hypercorn`` is the asgi mode on hypercorn.
ASYNC_MODES = _selected(['asgi', 'hypercorn', 'aiohttp', 'tornado', 'sanic'])
SERVER_MODES = SYNC_MODES + ASYNC_MODES


class EchoServerProcess:
    """An echo server child process: ``url``, ``port`` and its event lines.

    ``script`` runs another server script with the same conventions (``MODE
    --option=<json>`` arguments, ``PORT <n>`` line, JSON event lines), e.g.
    tests/compat/sio_app.py.
    """

    def __init__(self, mode: str, *, script: Path = ECHO_SERVER, **options: Any):
        args = [sys.executable, str(script), mode]
        args += ['--%s=%s' % (name, json.dumps(value)) for name, value in options.items()]
        self.mode = mode
        self.process = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONUNBUFFERED='1'),
        )
        self.events: list[dict] = []
        self._stderr: list[str] = []
        self._changed = threading.Condition()
        self.port = self._read_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        threading.Thread(target=self._read_events, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_port(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        result: list[int] = []

        def reader():
            for line in self.process.stdout:
                if line.startswith('PORT '):
                    result.append(int(line.split()[1]))
                    return
                self._record_event(line)  # an event line printed before PORT

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        thread.join(max(deadline - time.monotonic(), 0))
        if not result:
            self.stop()
            raise RuntimeError(
                'echo server (%s) did not start: %s' % (self.mode, self.process.stderr.read())
            )
        return result[0]

    def _read_events(self) -> None:
        for line in self.process.stdout:
            self._record_event(line)

    def _read_stderr(self) -> None:
        # uWSGI workers print to stderr: event lines may come from either stream.
        for line in self.process.stderr:
            self._stderr.append(line)
            self._record_event(line)

    def _record_event(self, line: str) -> None:
        if not line.startswith('{'):
            return
        try:
            event = json.loads(line)
        except ValueError:
            return
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    @property
    def stderr(self) -> str:
        return ''.join(self._stderr)

    def wait_for_event(self, timeout: float = 10.0, **match: Any) -> dict:
        """The first event line whose fields equal ``match``; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for event in self.events:
                    if all(event.get(key) == value for key, value in match.items()):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        'no event %r within %.1fs; got %r' % (match, timeout, self.events)
                    )
                self._changed.wait(remaining)

    def stop(self) -> None:
        """Stop the child process (only this one; uWSGI takes its worker along)."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
