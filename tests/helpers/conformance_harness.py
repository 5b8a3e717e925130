"""Running the official suite's mocha and reading its JSON report (tests/conformance)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

#: The race case of the suite, run RACE_RUNS times per server (TS-22, P-41).
RACE_CASE = 'ignores HTTP requests with same sid after upgrade'
RACE_RUNS = 20
#: The marker of the tests that need the official suite's folder.
SUITE_MARK = 'protocol_suite'
#: (case, failure) pairs of the suite's upgrade cases that are lost on the client's
#: side when the order of its two connections is not kept end to end.  The case
#: left sends ``2probe`` and ``5`` on the WebSocket, opens a second WebSocket for
#: the same sid, and starts waiting for the ``4hello`` echo only once the second
#: one closes: it fails when the server's ``3probe`` reaches it after that close.
#: Two causes here: permessage-deflate, which Node's ``ws`` (the suite's client)
#: applies and undoes on its thread pool, and a relay between client and server
#: (uWSGI's HTTP router).  Without them the same servers pass every time.  The
#: GET case (RACE_CASE) needs no such allowance on any server: the server holds
#: its 400 until the ``3probe`` has had time to arrive (P-41).
UPGRADE_ORDER_ARTEFACTS = {
    (
        'Engine.IO protocol upgrade ignores WebSocket connection with same sid after upgrade',
        "expected '3probe' to deeply equal '4hello'",
    ),
}


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


def unexplained_failures(report: dict, order_varies: bool) -> list[dict]:
    """The report's failures, less UPGRADE_ORDER_ARTEFACTS when ``order_varies``."""
    return [
        test
        for test in report['failures']
        if not (
            order_varies
            and (test['fullTitle'], test['err'].get('message')) in UPGRADE_ORDER_ARTEFACTS
        )
    ]
