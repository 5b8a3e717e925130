"""Fixtures for the demo tests: the demo as a child process, headless chromium, node.

``demo_url`` runs ``python -m engineio_fast demo --port <free port>`` from a
temporary directory (so the installed package, static files included, is what
runs) and yields the URL it prints.  ``browser`` is one headless chromium for
the module.  Missing chromium or node fails the tests with instructions: they
are never skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest
from children import ChildProcess, node_executable
from chromium_cdp import Browser, find_chromium
from ports import free_port

#: Seconds the demo has to print its URL.
STARTUP_TIMEOUT = 20.0


class DemoProcess(ChildProcess):
    """``python -m engineio_fast demo`` as a child process, on a free port."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.port = free_port()
        super().__init__(
            [sys.executable, '-m', 'engineio_fast', 'demo', '--port', str(self.port), *args],
            cwd=cwd,
            name='demo',
        )

    def wait_for_url(self) -> str:
        """The URL the demo prints once it listens."""
        try:
            line = self.wait_for_line(lambda line: 'http://' in line, timeout=STARTUP_TIMEOUT)
        except AssertionError:
            self.stop(timeout=5)
            pytest.fail(
                'the demo printed no URL within %s s; stderr:\n%s' % (STARTUP_TIMEOUT, self.stderr),
                pytrace=False,
            )
        return line[line.index('http://') :].strip()


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
        process.stop(timeout=5)
        stderr = process.stderr
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
    return node_executable()
