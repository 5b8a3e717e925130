"""Running the official suite's mocha and reading its JSON report (tests/conformance)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

#: The suite's two upgrade race cases, each run RACE_RUNS times per server (TS-22,
#: P-41, P-42).  Each sends ``2probe`` and ``5`` on the WebSocket, then a request on
#: a second connection (a GET, a second WebSocket), and fails when the server's
#: ``3probe`` reaches the suite's client after the answer to that request: the
#: client reads both connections in one turn of its event loop.  The server holds
#: that answer until the ``3probe`` has had time to arrive.
RACE_CASES = (
    'ignores HTTP requests with same sid after upgrade',
    'ignores WebSocket connection with same sid after upgrade',
)
RACE_RUNS = 20
#: The marker of the tests that need the official suite's folder.
SUITE_MARK = 'protocol_suite'


def run_mocha(suite: Path, files: list[str], grep: str | None = None) -> dict:
    """Run mocha (JSON reporter) on ``files`` of the suite copy; the parsed report."""
    command = [str(suite / 'node_modules' / '.bin' / 'mocha'), '--reporter', 'json']
    if grep:
        command += ['--grep', grep]
    env = dict(os.environ, NODE_OPTIONS='--dns-result-order=ipv4first')
    proc = subprocess.run(
        command + files, cwd=suite, capture_output=True, text=True, timeout=180, env=env
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(
            'mocha printed no JSON report (exit code %d)\nstdout:\n%s\nstderr:\n%s'
            % (proc.returncode, proc.stdout, proc.stderr),
            pytrace=False,
        )
    return report


def failures_text(report: dict) -> str:
    return '\n'.join(
        '  %s: %s' % (test['fullTitle'], test['err'].get('message')) for test in report['failures']
    )
