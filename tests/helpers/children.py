"""Child processes for the tests: one wrapper, the node check, the environment.

:class:`ChildProcess` starts a command with its stdout and stderr read line by
line on two daemon threads, so a test can wait (always bounded) for a line or
a JSON event line while the child keeps running.  The echo servers, the Node
reference server, the ASGI app servers and the demo are subclasses or
instances of it.  Only processes started here are stopped here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import pytest

HELPERS_DIR = Path(__file__).resolve().parent
TESTS_DIR = HELPERS_DIR.parent
NODE_DIR = TESTS_DIR / 'node'
#: Bound on any single wait for a child's output.
TIMEOUT = 10.0


def python_env(**extra: str) -> dict[str, str]:
    """The environment of a Python child: unbuffered, this folder (only) added to its path.

    The tests' own ``PYTHONPATH`` (if any) stays first, so the child imports
    the same ``engineio_fast`` as the tests do.
    """
    path = os.pathsep.join(p for p in (os.environ.get('PYTHONPATH'), str(HELPERS_DIR)) if p)
    return dict(os.environ, PYTHONUNBUFFERED='1', PYTHONPATH=path, **extra)


def node_executable(package: str = 'engine.io-client') -> str:
    """The node binary, with ``package`` installed in tests/node; else the test fails (never skips)."""
    node = shutil.which('node')
    if node is None:
        pytest.fail('node is not installed (Node.js 18+ is needed)', pytrace=False)
    if not (NODE_DIR / 'node_modules' / package).is_dir():
        pytest.fail(
            f'{NODE_DIR}/node_modules/{package} is missing: run `npm ci` in {NODE_DIR} '
            '(tests/run.sh does)',
            pytrace=False,
        )
    return node


def terminate(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """Stop a child this test started: SIGTERM, then SIGKILL after ``timeout`` s; its status."""
    if process.poll() is None:
        process.terminate()
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=timeout)


def json_line(line: str) -> dict | None:
    """The JSON object a line holds, or None."""
    if not line.startswith('{'):
        return None
    try:
        return json.loads(line)
    except ValueError:
        return None


class ChildProcess:
    """A child process; its stdout lines, JSON event lines and stderr, read as they come.

    ``events_from_stderr``: JSON lines on stderr are events too (uWSGI workers
    print there).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
        stdin: int | None = subprocess.DEVNULL,
        events_from_stderr: bool = False,
        name: str | None = None,
    ) -> None:
        self.name = name or Path(argv[1] if len(argv) > 1 else argv[0]).name
        self.lines: list[str] = []
        self.events: list[dict] = []
        self._stderr: list[str] = []
        self._events_from_stderr = events_from_stderr
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        for line in self.process.stdout:
            self._record(line.rstrip('\n'), stdout=True)
        with self._changed:  # the output ended: waiters stop waiting
            self._changed.notify_all()

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self._stderr.append(line)
            if self._events_from_stderr:
                self._record(line.rstrip('\n'), stdout=False)

    def _record(self, line: str, stdout: bool) -> None:
        event = json_line(line)
        with self._changed:
            if stdout:
                self.lines.append(line)
            if event is not None:
                self.events.append(event)
            self._changed.notify_all()

    @property
    def stderr(self) -> str:
        return ''.join(self._stderr)

    def wait_until(self, found: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
        """Wait until ``found()`` is truthy and return it; AssertionError after ``timeout``
        or once the child's output has ended without it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (result := found()):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._readers[0].is_alive():
                    raise AssertionError(
                        '%s: no %s within %.1fs; events %r; stdout %r; stderr:\n%s'
                        % (
                            self.name,
                            what,
                            timeout,
                            self.events[-40:],
                            self.lines[-40:],
                            self.stderr[-4000:],
                        )
                    )
                self._changed.wait(remaining)
        return result

    def wait_for_line(self, match: str | Callable[[str], bool], timeout: float = TIMEOUT) -> str:
        """The first stdout line equal to ``match`` (or for which it is true); bounded."""
        test = match if callable(match) else (lambda line: line == match)
        return self.wait_until(
            lambda: next((line for line in self.lines if test(line)), None),
            'line %r' % (match,),
            timeout,
        )

    def wait_for_event(self, timeout: float = TIMEOUT, **match: Any) -> dict:
        """The first event line whose fields equal ``match``; AssertionError on timeout."""
        return self.wait_until(
            lambda: next(
                (e for e in self.events if all(e.get(k) == v for k, v in match.items())), None
            ),
            'event %r' % (match,),
            timeout,
        )

    def wait_exit(self, timeout: float = TIMEOUT) -> int:
        """The exit status once the child ends by itself, its output read; bounded."""
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                '%s still running after %.1fs; stderr:\n%s' % (self.name, timeout, self.stderr)
            ) from None
        for reader in self._readers:
            reader.join(TIMEOUT)
        return status

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; the exit status."""
        terminate(self.process, timeout)
        for reader in self._readers:
            reader.join(TIMEOUT)
        return self.process.returncode
