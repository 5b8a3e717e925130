"""Every HTTP server users deploy on, as a real process: official suite, JS client, clean logs.

For each row of tests/helpers/conformance_rows.py (issue 15; SPEC TS-01..TS-24, P-40..P-42) one server
process runs suite_app.py on 127.0.0.1:3000 and the tests below run against
it in this order:

1. the official engine.io-client (tests/node/eio_client.js) over polling,
   websocket and upgrade: 100 ordered messages, binary, a 100 KB message,
   client close, server close; the server's disconnect reason is checked in
   its log;
2. the log check over that normal life plus a ping timeout on each
   transport: no traceback and no ERROR line;
3. the official suite, unmodified: 24 passed, 0 failed;
4. its two upgrade race cases (a GET, a second WebSocket, right after
   ``2probe`` and ``5``) 20 times each, every run passing on every row;
5. whether the websocket negotiates permessage-deflate, as docs/serving/index.md states;
6. the whole log, the suite's malformed requests included: no traceback,
   and the only ERROR lines are the server's once-per-kind reports of a
   refused request (python-engineio logs those at ERROR the first time).
"""

from __future__ import annotations

import asyncio
import base64
import re

import pytest
import websockets
from conformance_harness import (
    RACE_CASES,
    RACE_RUNS,
    SUITE_MARK,
    failures_text,
    run_mocha,
)

TRANSPORTS = {
    'polling': {'transports': ['polling']},
    'websocket': {'transports': ['websocket']},
    'upgrade': {'transports': ['polling', 'websocket'], 'sendAfterUpgrade': True},
}
BINARY = base64.b64encode(bytes(range(256))).decode()
BIG = 'b' * 100_000
#: Lines that are errors in any of the servers' log formats.
ERROR_LINE = re.compile(r'Traceback \(most recent call last\)|\bERROR\b|\bCRITICAL\b')
#: The server's first report of each kind of refused request (then logged at INFO).
REFUSED_REQUEST_ONCE = '(further occurrences of this error will be logged with level INFO)'

suite = pytest.mark.protocol_suite
assert suite.name == SUITE_MARK


def _sid(events: list[dict]) -> str:
    return [e['sid'] for e in events if e['event'] == 'open'][0]


def _messages(events: list[dict]) -> list[tuple]:
    return [(e['data'], e['binary']) for e in events if e['event'] == 'message']


def _transport(events: list[dict]) -> str:
    names = [e['transport'] for e in events if e['event'] in ('open', 'upgrade')]
    return names[-1]


def _error_lines(log: str, allowed: str | None = None) -> list[str]:
    """The error lines of a log, each traceback with the lines up to its exception."""
    found = []
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if not ERROR_LINE.search(line) or (allowed and allowed in line):
            continue
        if line.startswith('Traceback'):
            end = i + 1
            while end < len(lines) and (lines[end][:1].isspace() or not lines[end]):
                end += 1
            line = '\n'.join(lines[i : end + 1])
        found.append(line)
    return found


def _log_report(row_server, what: str, errors: list[str]) -> str:
    return '%s logged %s (%d), log file %s:\n%s' % (
        row_server.row.id,
        what,
        len(errors),
        row_server.log_path,
        '\n\n'.join(errors[:10]),
    )


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_js_client_echoes_in_order_then_client_closes(row_server, node_clients, transport):
    """P-10..P-12, P-50, P-27, P-44: binary, 100 KB, 100 ordered messages echoed; client close."""
    (events,) = node_clients(
        {
            **TRANSPORTS[transport],
            'send': [{'b64': BINARY}, BIG],
            'count': 100,
            'expect': 102,
            'exitDelayMs': 300,
        }
    )
    expected = [(BINARY, True), (BIG, False)] + [('m%d' % i, False) for i in range(100)]
    got = _messages(events)
    assert len(got) == len(expected), events[-1]
    assert got == expected
    assert _transport(events) == ('polling' if transport == 'polling' else 'websocket')
    # engine.io-client sends a close packet over polling only; a websocket is just closed (P-44).
    reason = 'client disconnect' if transport == 'polling' else 'transport close'
    row_server.wait_for_line('disconnect %s %s' % (_sid(events), reason))


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_js_client_sees_server_close(row_server, node_clients, transport):
    """P-28, S-14: disconnect(sid) reaches the client as a close; reason 'server disconnect'."""
    (events,) = node_clients(
        {**TRANSPORTS[transport], 'send': ['hello', 'disconnect me'], 'closeAfter': False}
    )
    assert _messages(events) == [('hello', False)]
    assert events[-1]['reason'] in ('io server disconnect', 'transport close'), events[-1]
    row_server.wait_for_line('disconnect %s server disconnect' % _sid(events))


def test_log_of_a_normal_life_is_clean(row_server, node_clients):
    """Connect, upgrade, messages, client and server close (above), ping timeouts: no ERROR."""
    lives = node_clients(
        {
            'transports': ['polling'],
            'stopPong': True,
            'clientHeartbeat': False,
            'closeAfter': False,
        },
        {
            'transports': ['websocket'],
            'stopPong': True,
            'clientHeartbeat': False,
            'closeAfter': False,
        },
        {
            **TRANSPORTS['upgrade'],
            'stopPong': True,
            'clientHeartbeat': False,
            'send': ['hi'],
            'expect': 1,
            'closeAfter': False,
        },
    )
    for events in lives:
        row_server.wait_for_line('disconnect %s ping timeout' % _sid(events))
    errors = _error_lines(row_server.log())
    assert not errors, _log_report(row_server, 'errors over a normal session life', errors)


@suite
def test_official_suite_passes(row_server, protocol_suite):
    """TS-01..TS-24: the official Engine.IO v4 suite, unmodified: 24 passed, 0 failed."""
    report = run_mocha(protocol_suite, ['test-suite.js'])
    stats = report['stats']
    summary = '%s: %d passed, %d failed, %d pending\n%s' % (
        row_server.row.id,
        stats['passes'],
        stats['failures'],
        stats['pending'],
        failures_text(report),
    )
    print(summary)  # shown with -rP: the counts of a passing row too
    assert (stats['tests'], stats['passes']) == (24, 24), summary


@suite
@pytest.mark.parametrize('case', RACE_CASES, ids=['get', 'websocket'])
def test_upgrade_race_case_passes_every_time(row_server, protocol_suite, case):
    """TS-22, P-41, P-42: after 2probe and 5, a GET gets 400 and a second websocket is
    closed, both only after the 3probe: in each of 20 runs, on every row."""
    files = ['race-%02d.js' % i for i in range(RACE_RUNS)]
    report = run_mocha(protocol_suite, files, grep=case)
    stats = report['stats']
    summary = '%s: %d of %d runs passed\n%s' % (
        row_server.row.id,
        stats['passes'],
        RACE_RUNS,
        failures_text(report),
    )
    print(summary)
    assert (stats['tests'], stats['passes']) == (RACE_RUNS, RACE_RUNS), summary


async def _negotiated_extensions() -> str | None:
    async with websockets.connect(
        'ws://127.0.0.1:3000/engine.io/?EIO=4&transport=websocket',
        compression='deflate',
        open_timeout=10,
        close_timeout=5,
    ) as ws:
        opened = await asyncio.wait_for(ws.recv(), 10)
        assert opened.startswith('0{')
        await ws.send('4deflated?')
        assert await asyncio.wait_for(ws.recv(), 10) == '4deflated?'
        return ws.response.headers.get('Sec-WebSocket-Extensions')


def test_websocket_compression_is_as_documented(row_server):
    """The server table's (docs/serving/index.md) deflate column: negotiated or not, echo works either way."""
    extensions = asyncio.run(_negotiated_extensions())
    negotiated = bool(extensions and 'permessage-deflate' in extensions)
    assert negotiated == row_server.row.deflate, '%s: Sec-WebSocket-Extensions %r' % (
        row_server.row.id,
        extensions,
    )


def test_whole_log_has_no_traceback(row_server):
    """After everything above (the suite's malformed requests too): no traceback, no other ERROR."""
    errors = _error_lines(row_server.log(), allowed=REFUSED_REQUEST_ONCE)
    assert not errors, _log_report(row_server, 'errors', errors)
