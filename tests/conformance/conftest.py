"""Fixtures for tests/conformance: the official suite, node clients, and one server process per row.

``row_server`` starts one HTTP server (a row of ``conformance_rows.ROWS``) as a real
process on 127.0.0.1:3000, the official suite's fixed port, with its stdout
and stderr in a log file, and stops it before the next row starts.  While it
runs it holds an exclusive ``flock`` on ``/tmp/port3000.lock``, the lock every
other user of port 3000 on a shared machine takes too.

``protocol_suite`` copies ``<repo>/../shared/engine.io-protocol-suite`` (the
official suite, unmodified; ``ENGINEIO_FAST_PROTOCOL_SUITE_DIR`` names another
place) to a temporary folder once per session and runs ``npm ci`` there.  Where that folder is absent (GitHub Actions, an sdist) the
tests marked ``protocol_suite`` are deselected, with a note in the terminal
summary; with ``ENGINEIO_FAST_REQUIRE_PROTOCOL_SUITE=1`` (set by .ci/run) they
run and fail instead.  A missing node or npm is always a failure.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from children import NODE_DIR, node_executable
from conformance_harness import RACE_RUNS, SUITE_MARK
from conformance_rows import ROWS, Row

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
#: The official suite's folder; ENGINEIO_FAST_PROTOCOL_SUITE_DIR points elsewhere.
SUITE_SOURCE = Path(
    os.environ.get('ENGINEIO_FAST_PROTOCOL_SUITE_DIR')
    or REPO.parent / 'shared' / 'engine.io-protocol-suite'
)
REQUIRE_SUITE = os.environ.get('ENGINEIO_FAST_REQUIRE_PROTOCOL_SUITE') == '1'
EIO_CLIENT = NODE_DIR / 'eio_client.js'
PORT = 3000
PORT_LOCK = '/tmp/port3000.lock'
_deselected_note: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        'markers', '%s: needs ../shared/engine.io-protocol-suite (the official suite)' % SUITE_MARK
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the official-suite tests when the suite's folder is absent (and not required)."""
    if SUITE_SOURCE.is_dir() or REQUIRE_SUITE:
        return
    deselected = [item for item in items if item.get_closest_marker(SUITE_MARK)]
    if not deselected:
        return
    config.hook.pytest_deselected(items=deselected)
    items[:] = [item for item in items if not item.get_closest_marker(SUITE_MARK)]
    _deselected_note.append(
        'tests/conformance: %d official protocol suite test(s) deselected: %s is absent '
        '(the suite is not part of the repository or the sdist; set '
        'ENGINEIO_FAST_REQUIRE_PROTOCOL_SUITE=1 to make its absence a failure)'
        % (len(deselected), SUITE_SOURCE)
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for note in _deselected_note:
        terminalreporter.write_sep('=', 'official protocol suite not run', yellow=True)
        terminalreporter.write_line(note)


def _executable(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail('%s is not installed: %s' % (name, hint), pytrace=False)
    return path


# -- the official suite ------------------------------------------------------------


@pytest.fixture(scope='session')
def protocol_suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary copy of the official suite with its node_modules installed."""
    if not SUITE_SOURCE.is_dir():
        pytest.fail(
            'the official protocol suite is missing at %s and '
            'ENGINEIO_FAST_REQUIRE_PROTOCOL_SUITE=1 requires it' % SUITE_SOURCE,
            pytrace=False,
        )
    _executable('node', 'Node.js 18+ runs the official protocol suite')
    npm = _executable('npm', 'npm installs the official protocol suite (npm ci)')
    target = tmp_path_factory.mktemp('engine.io-protocol-suite')
    shutil.copytree(SUITE_SOURCE, target, dirs_exist_ok=True)
    for path in [target, *target.rglob('*')]:
        path.chmod(path.stat().st_mode | 0o200)  # ../shared may be read-only
    proc = subprocess.run(
        [npm, 'ci', '--no-audit', '--no-fund'],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail('npm ci failed in %s:\n%s\n%s' % (target, proc.stdout, proc.stderr))
    # The race case runs RACE_RUNS times in one mocha process: mocha loads each
    # spec file once, so it gets that many identical copies of the suite file.
    for i in range(RACE_RUNS):
        shutil.copyfile(target / 'test-suite.js', target / ('race-%02d.js' % i))
    return target


# -- node clients ------------------------------------------------------------------


NodeClient = Callable[..., 'list[dict[str, Any]]']


@pytest.fixture(scope='session')
def node_clients() -> Callable[..., 'list[list[dict[str, Any]]]']:
    """``run(*scenarios, timeout=20) -> events of each``: eio_client.js runs, all at once.

    Each scenario runs in its own node process (tests/node/eio_client.js,
    the official engine.io-client); every process must end with its
    ``close`` event, within ``timeout`` seconds.
    """
    node = node_executable()

    def run(*scenarios: dict, timeout: float = 20.0) -> list[list[dict[str, Any]]]:
        procs = []
        for scenario in scenarios:
            scenario = dict(scenario, url='http://127.0.0.1:%d' % PORT)
            scenario.setdefault('timeoutMs', int((timeout - 2) * 1000))
            argument = json.dumps(scenario)
            procs.append(
                (
                    argument,
                    subprocess.Popen(
                        [node, str(EIO_CLIENT), argument],
                        cwd=NODE_DIR,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        text=True,
                    ),
                )
            )
        results = []
        for argument, proc in procs:
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate(timeout=10)
            context = 'scenario: %s\nexit code: %s\nstdout:\n%s\nstderr:\n%s' % (
                argument,
                proc.returncode,
                out,
                err,
            )
            try:
                events = [json.loads(line) for line in out.splitlines() if line.strip()]
            except ValueError:
                pytest.fail('eio_client.js printed a non-JSON line\n' + context, pytrace=False)
            if proc.returncode != 0 or not events or events[-1]['event'] != 'close':
                pytest.fail('eio_client.js did not end with a close\n' + context, pytrace=False)
            results.append(events)
        return results

    return run


# -- server processes --------------------------------------------------------------


class RowServer:
    """One row's server process on 127.0.0.1:3000, its output in ``log_path``."""

    def __init__(self, row: Row, log_path: Path, env: dict[str, str]):
        self.row = row
        self.log_path = log_path
        self._log = open(log_path, 'wb')
        self.process = subprocess.Popen(
            row.argv(),
            cwd=HERE,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its workers share its process group, stopped with it
        )
        self._wait_listening(timeout=60)

    def log(self) -> str:
        return self.log_path.read_text(errors='replace')

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(
                    '%s exited with code %s before listening:\n%s'
                    % (self.row.id, self.process.returncode, self.log()),
                    pytrace=False,
                )
            try:
                socket.create_connection(('127.0.0.1', PORT), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(
            '%s did not listen within %ss:\n%s' % (self.row.id, timeout, self.log()), pytrace=False
        )

    def wait_for_line(self, text: str, timeout: float = 10.0) -> None:
        """Wait until the log holds a line containing ``text``; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                tail = '\n'.join(self.log().splitlines()[-60:])
                pytest.fail(
                    'no log line with %r within %ss; %s ends:\n%s'
                    % (text, timeout, self.log_path, tail),
                    pytrace=False,
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM the server, SIGKILL what is left of its process group after 10 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this fixture created
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope='session')
def port_3000_lock() -> Iterator[Callable[[], None]]:
    """``acquire()`` takes the exclusive lock on port 3000 (bounded wait); released at exit."""
    handle = open(PORT_LOCK, 'a')
    held = []

    def acquire() -> None:
        if held:
            return
        deadline = time.monotonic() + 600
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(True)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail('%s stayed locked for 600 s' % PORT_LOCK, pytrace=False)
                time.sleep(0.2)

    yield acquire
    fcntl.flock(handle, fcntl.LOCK_UN)
    handle.close()


def _port_free() -> bool:
    try:
        socket.create_connection(('127.0.0.1', PORT), timeout=1).close()
        return False
    except OSError:
        return True


@pytest.fixture(scope='module', params=ROWS, ids=[row.id for row in ROWS])
def row_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    port_3000_lock: Callable[[], None],
) -> Iterator[RowServer]:
    """The row's server running on port 3000 (one at a time: the previous row is stopped first)."""
    row: Row = request.param
    port_3000_lock()
    deadline = time.monotonic() + 15
    while not _port_free():
        if time.monotonic() > deadline:
            pytest.fail('port %d is in use by another process' % PORT, pytrace=False)
        time.sleep(0.2)
    env = dict(os.environ, PYTHONUNBUFFERED='1', **row.env)
    pythonpath = [*row.prepare(tmp_path_factory), str(HERE)]
    env['PYTHONPATH'] = os.pathsep.join(
        pythonpath + [p for p in [os.environ.get('PYTHONPATH')] if p]
    )
    log_path = tmp_path_factory.mktemp('logs') / ('%s.log' % row.id)
    server = RowServer(row, log_path, env)
    yield server
    server.stop()
    deadline = time.monotonic() + 15
    while not _port_free() and time.monotonic() < deadline:
        time.sleep(0.1)
