"""pytest plugin for running python-engineio's and python-socketio's own test suites
on engineio_fast (C-12): ``-p upstream_plugin`` with this folder on ``PYTHONPATH``.

Loaded before any test module is imported, it calls ``engineio_fast.install()``
so that every ``import engineio`` in their tests and in python-socketio gets
engineio_fast.  It writes each test's outcome to the JSON file named by
``ENGINEIO_FAST_UPSTREAM_RESULTS`` (``{nodeid: 'passed'|'failed'|'skipped'}``,
plus which ``engineio`` was imported), for tests/compat/test_upstream_suites.py.

``ENGINEIO_FAST_UPSTREAM_NO_HTTPTOOLS=1`` hides httptools, so uvicorn serves
with h11: python-socketio's admin tests run uvicorn with an ASGI app that
sends ``str`` header names, which uvicorn's httptools protocol rejects (their
tox installs plain ``uvicorn``, without httptools; sanic, used by
python-engineio's tests, needs httptools, hence a switch).
"""

from __future__ import annotations

import json
import os
import sys

if os.environ.get('ENGINEIO_FAST_UPSTREAM_NO_HTTPTOOLS') == '1':
    sys.modules['httptools'] = None  # type: ignore[assignment]

import engineio_fast

engineio_fast.install()

import engineio  # noqa: E402 - after install(): this is engineio_fast

_outcomes: dict[str, str] = {}


def pytest_runtest_logreport(report) -> None:
    """The worst outcome of a test's setup, call and teardown."""
    if report.failed:
        _outcomes[report.nodeid] = 'failed'
    elif report.skipped:
        _outcomes.setdefault(report.nodeid, 'skipped')
    elif report.when == 'call':
        _outcomes.setdefault(report.nodeid, 'passed')


def pytest_collectreport(report) -> None:
    """A module that fails to import counts as a failure under its own node id."""
    if report.failed:
        _outcomes[report.nodeid] = 'failed'


def pytest_sessionfinish(session) -> None:
    path = os.environ.get('ENGINEIO_FAST_UPSTREAM_RESULTS')
    if not path:
        return
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(
            {'engineio': engineio.__name__, 'outcomes': _outcomes},
            f,
            indent=1,
            sort_keys=True,
        )
