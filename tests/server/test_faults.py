"""Faults and load: nothing crashes, nothing leaks, nothing is lost (issue 9).

Real node clients (tests/node/eio_load.js, engine.io-client) against the echo
server in its own process.  The server's counters (sessions, threads, asyncio
tasks or greenlets, open fds) are read before and after through its
``stats`` message (see load_clients.py).  Heartbeats are short so dead
clients are found quickly, yet long enough that a loaded machine does not
time out the clients meant to survive.
"""

from __future__ import annotations

import collections
import socket
import time

import pytest
from load_clients import LoadClients, server_rss, server_stats, wait_for_rest
from raw_clients import RawWebSocket, next_event
from server_process import SERVER_MODES, EchoServerProcess

#: The modes the heavier load tests run in: one of each server family.
LOAD_MODES = [
    mode for mode in ('threading', 'eventlet', 'asgi', 'native', 'aiohttp') if mode in SERVER_MODES
]
#: 1,000 clients take a while: one sync and one async mode here, the others in
#: bench/soak/run.py.
KILL_MODES = [mode for mode in ('threading', 'asgi', 'native') if mode in SERVER_MODES]
#: The connection of a client that stopped reading is dropped in every mode,
#: with each server's websocket implementations: uvicorn's three, and
#: gevent-websocket's handler besides simple-websocket.  ASGI itself cannot
#: abort a connection; the asgi driver reaches the transport of uvicorn and
#: hypercorn (an unknown ASGI server keeps the connection until the client goes).
STALL_CASES = [pytest.param(mode, {}, id=mode) for mode in SERVER_MODES]
if 'asgi' in SERVER_MODES:
    STALL_CASES += [
        pytest.param('asgi', {'uvicorn_ws': ws}, id='asgi-' + ws)
        for ws in ('websockets', 'wsproto')
    ]
if 'gevent' in SERVER_MODES:
    STALL_CASES.append(pytest.param('gevent', {'gevent_websocket': True}, id='gevent-websocket'))


def start(mode: str, **options) -> EchoServerProcess:
    try:
        return EchoServerProcess(mode, worker_idle_timeout=1, **options)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def servers():
    """``start(mode, **options)`` for this test; every server is stopped at teardown."""
    started: list[EchoServerProcess] = []

    def run(mode: str, **options) -> EchoServerProcess:
        started.append(start(mode, **options))
        return started[-1]

    yield run
    for server in started:
        server.stop()


@pytest.fixture
def load_clients():
    """``run(url, **config) -> LoadClients``; every node process is killed at teardown."""
    started: list[LoadClients] = []

    def run(url: str, **config) -> LoadClients:
        started.append(LoadClients(url, **config))  # missing node fails the test
        return started[-1]

    yield run
    for clients in started:
        clients.stop()


def assert_nothing_lost(summary: dict, clients: int) -> None:
    """Every client completed; every echo (and push) arrived once, in order."""
    assert summary['opened'] == clients, summary
    assert summary['completed'] == clients, summary
    assert summary['outOfOrder'] == 0, summary
    assert summary['echoed'] == summary['sent'], summary


def sessions_of(server: EchoServerProcess, event: str) -> collections.Counter:
    """How many sessions had ``event``, by reason for disconnects."""
    return collections.Counter(
        item.get('reason') for item in list(server.events) if item.get('event') == event
    )


def wait_for_all_closed(server: EchoServerProcess, timeout: float = 10) -> collections.Counter:
    """Wait until every session that connected reported its disconnect; the reasons."""
    deadline = time.monotonic() + timeout
    while True:
        opened = sum(sessions_of(server, 'connect').values())
        closed = sessions_of(server, 'disconnect')
        if sum(closed.values()) == opened:
            return closed
        assert time.monotonic() < deadline, (opened, closed)
        time.sleep(0.1)


@pytest.mark.parametrize('mode', KILL_MODES)
def test_killed_clients_leave_no_session_thread_task_or_fd(mode, servers, load_clients):
    """K-13, P-31: 1,000 mixed clients in 4 processes, one killed mid-traffic.

    The 750 survivors lose nothing; after the ping timeout the server holds
    as many sessions, threads, tasks and fds as before the load.
    """
    # Light traffic, a generous heartbeat and upgrade timeout, and no
    # client-side watchdog: on a loaded 2-core machine the survivors must not
    # miss pings or upgrades; the dead are found within 20 s.
    server = servers(mode, ping_interval=5, ping_timeout=15, upgrade_timeout=30)
    baseline = server_stats(server)
    config = {
        'clients': 250,
        'messages': 4,
        'intervalMs': 2000,
        'rampMs': 6000,
        'clientHeartbeat': False,
        'timeoutMs': 170_000,
    }
    processes = [load_clients(server.url, **config) for _ in range(4)]
    for clients in processes:
        clients.wait_for('echoing', timeout=120)
    processes[0].kill()
    for clients in processes[1:]:
        assert_nothing_lost(clients.wait_for('summary', timeout=90), 250)
    rest = wait_for_rest(server, baseline, timeout=60)
    closed = wait_for_all_closed(server)
    # The killed clients: websockets are seen closing at once, polling at the ping timeout.
    assert closed['ping timeout'] + closed['transport close'] >= 250, closed
    assert 'Traceback' not in server.stderr, server.stderr
    assert rest['clients'] == baseline['clients']


@pytest.mark.parametrize('mode', SERVER_MODES)
def test_messages_cross_the_upgrade_in_order_both_ways(mode, servers, load_clients):
    """P-40, P-41: numbered messages flow both ways from the open on, through the
    polling to websocket upgrade: none lost, repeated or reordered."""
    server = servers(mode, ping_interval=2, ping_timeout=4)
    clients = load_clients(
        server.url,
        clients=4,
        transports=[['polling', 'websocket']],
        upgradeAfter=20,
        messages=300,
        window=10,
        intervalMs=4,
        push={'count': 300, 'intervalMs': 4, 'size': 40},
        timeoutMs=50_000,
    )
    summary = clients.wait_for('summary', timeout=60)
    assert_nothing_lost(summary, 4)
    assert summary['pushed'] == 4 * 300, summary
    assert summary['upgraded'] == 4, summary
    # The upgrade happened while both streams were flowing, not before or after.
    assert summary['upgradedMidTraffic'] == 4, summary['errors']


def open_stalled_websocket(server: EchoServerProcess) -> tuple[RawWebSocket, str]:
    """A websocket session whose client reads its OPEN packet, then nothing more."""
    ws, open_data = RawWebSocket.connect(server.port)
    # A small receive buffer fills quickly: the server's writes then block.
    ws.ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return ws, open_data['sid']


@pytest.mark.parametrize(('mode', 'options'), STALL_CASES)
def test_a_client_that_stops_reading_is_closed_and_costs_bounded_memory(mode, options, servers):
    """P-31, F-04: a websocket client stops reading while the server sends it
    2 MB/s.  It cannot pong, so the ping timeout closes it (the policy until
    ``max_queue_size``); the blocked writer is released, server memory stays
    bounded, and another client keeps echoing meanwhile.  ``ping_timeout``
    after the close the connection is dropped: its task and fd are freed
    while the client still holds its end."""
    server = servers(mode, ping_interval=1, ping_timeout=2, **options)
    baseline = server_stats(server)
    rss_before = server_rss(server)
    stalled, sid = open_stalled_websocket(server)
    healthy, _ = RawWebSocket.connect(server.port)
    try:
        healthy.send('4push 1000000 1 2000 %s' % sid)
        echoes, peak = 0, rss_before
        deadline = time.monotonic() + 20
        while not any(
            e.get('event') == 'disconnect' and e.get('sid') == sid for e in list(server.events)
        ):
            assert time.monotonic() < deadline, 'the stalled client was never closed'
            healthy.send('4echo %d' % echoes)
            assert healthy.recv_message(timeout=5) == '4echo %d' % echoes
            echoes += 1
            peak = max(peak, server_rss(server))
        disconnect = next_event(server, 0, event='disconnect', sid=sid)
        assert disconnect['reason'] == 'ping timeout', disconnect
        next_event(server, 0, event='pushed', sid=sid)
        assert echoes > 0
        assert peak - rss_before < 64 * 2**20, (peak, rss_before)
        healthy.send('4after')
        assert healthy.recv_message() == '4after'
    finally:
        healthy.close()
    # The stalled socket is still open on the client side: nothing waits on it.
    wait_for_rest(server, baseline, timeout=20)
    stalled.close()


@pytest.mark.parametrize('mode', LOAD_MODES)
def test_shutdown_under_load_closes_every_session(mode, servers, load_clients):
    """S-14, S-17, P-28: ``disconnect()`` then ``shutdown()`` while 100 mixed clients
    echo: every client is closed by the server, the disconnect handler runs once
    for every session, and the process then exits promptly on SIGTERM.

    A polling client whose POST crosses the close gets 400 (P-28: requests
    after the close), which engine.io-client reports as ``transport error``.
    """
    server = servers(mode, ping_interval=5, ping_timeout=10)
    clients = load_clients(server.url, clients=100, messages=10**6, intervalMs=250)
    clients.wait_for('echoing', timeout=60)
    control, _ = RawWebSocket.connect(server.port)
    control.send('4shutdown')
    next_event(server, 0, timeout=20, event='shutdown')
    summary = clients.wait_for('summary', timeout=30)
    assert summary['opened'] == 100, summary
    assert sum(summary['closes'].values()) == 100, summary
    assert set(summary['closes']) <= {'transport close', 'transport error'}, summary
    assert summary['outOfOrder'] == 0, summary
    assert wait_for_all_closed(server) == {'server disconnect': 101}
    control.close()
    server.process.terminate()
    server.process.wait(timeout=15)
