"""Fixtures for the demo tests: the demo as a child process, headless chromium, node.

``demo_url`` runs ``python -m engineio_fast demo --port <free port>`` from a
temporary directory (so the installed package, static files included, is what
runs) and yields the URL it prints.  ``browser`` is one headless chromium for
the module.  Missing chromium or node fails the tests with instructions: they
are never skipped.
"""

from __future__ import annotations

import queue
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest
from chromium_cdp import Browser, find_chromium

NODE_DIR = Path(__file__).resolve().parent.parent / 'node'
#: Seconds the demo has to print its URL.
STARTUP_TIMEOUT = 20.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _pump(stream, lines: queue.Queue) -> None:
    """Copy a child's output lines into ``lines`` (None at the end)."""
    for line in stream:
        lines.put(line)
    lines.put(None)


class DemoProcess:
    """``python -m engineio_fast demo`` as a child process."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'engineio_fast', 'demo', '--port', str(self.port), *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout: queue.Queue = queue.Queue()
        self.stderr_lines: list[str] = []
        threading.Thread(target=_pump, args=(self.process.stdout, self.stdout), daemon=True).start()
        self._stderr_thread = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_thread.start()

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def wait_for_url(self) -> str:
        """The URL the demo prints once it listens."""
        try:
            while True:
                line = self.stdout.get(timeout=STARTUP_TIMEOUT)
                if line is None:
                    break
                if 'http://' in line:
                    return line[line.index('http://') :].strip()
        except queue.Empty:
            pass
        self.stop()
        pytest.fail(
            'the demo printed no URL within %s s; stderr:\n%s'
            % (STARTUP_TIMEOUT, ''.join(self.stderr_lines)),
            pytrace=False,
        )

    def stop(self) -> None:
        """Stop the demo (SIGTERM, then SIGKILL) and wait for its output to end."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._stderr_thread.join(5)
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture
def start_demo(tmp_path: Path) -> Iterator[Callable[..., DemoProcess]]:
    """``start_demo(*extra_args)`` runs a demo; afterwards its stderr must hold no traceback."""
    started: list[DemoProcess] = []

    def start(*args: str) -> DemoProcess:
        process = DemoProcess(tmp_path, *args)
        started.append(process)
        process.url = process.wait_for_url()
        return process

    yield start
    for process in started:
        process.stop()
        stderr = ''.join(process.stderr_lines)
        assert 'Traceback' not in stderr, 'the demo logged an error:\n' + stderr


@pytest.fixture
def demo(start_demo: Callable[..., DemoProcess]) -> DemoProcess:
    """A running demo with the default options."""
    return start_demo()


@pytest.fixture
def demo_url(demo: DemoProcess) -> str:
    """The URL of a running demo, e.g. ``http://127.0.0.1:5000/``."""
    return demo.url


@pytest.fixture(scope='module')
def browser() -> Iterator[Browser]:
    """One headless chromium for the module."""
    executable = find_chromium()
    if executable is None:
        pytest.fail(
            "chromium is not installed: the browser test needs Debian's headless chromium "
            '(apt-get install chromium; tests/run.sh installs it)',
            pytrace=False,
        )
    browser = Browser(executable)
    yield browser
    browser.close()


@pytest.fixture
def node() -> str:
    """The node executable, with the npm packages of tests/node installed."""
    node = shutil.which('node')
    if node is None:
        pytest.fail('node is not installed (Node.js 18+ is needed)', pytrace=False)
    if not (NODE_DIR / 'node_modules' / 'engine.io-client').is_dir():
        pytest.fail(
            f'{NODE_DIR}/node_modules is missing: run `npm ci` in {NODE_DIR} (tests/run.sh does)',
            pytrace=False,
        )
    return node
