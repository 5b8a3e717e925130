"""Broadcast, send callbacks and send-queue limits (F-03, F-04) over real sockets.

The echo server's send commands (see tests/helpers/echo_server.py) run
``send_to_many``, ``send(..., callback=...)`` and ``buffered_amount`` in the
server process; raw polling and websocket clients read what arrives, and
the callbacks' outcomes come back as event lines.  Handlers run on the
delivery task (``async_handlers=True``), so a sender blocked on a full queue
does not hold the POST that asked for it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from raw_clients import SEP, PollingClient, RawWebSocket, ResultThread
from server_process import EchoServerProcess, _selected

MODES = _selected(['threading', 'eventlet', 'asgi', 'native', 'aiohttp'])
OPTIONS = {'ping_interval': 5, 'ping_timeout': 5}


@pytest.fixture(scope='module', params=MODES)
def start(request):
    started: list[EchoServerProcess] = []

    def start(**options) -> EchoServerProcess:
        process = EchoServerProcess(request.param, **OPTIONS, **options)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture(scope='module')
def server(start):
    return start()


def sent_events(server: EchoServerProcess, sid: str, count: int, timeout: float = 10) -> dict:
    """``{data: error}`` of the first ``count`` send callbacks reported for ``sid``."""
    deadline = time.monotonic() + timeout
    while True:
        events = [e for e in list(server.events) if e['event'] == 'sent' and e['sid'] == sid]
        if len(events) >= count or time.monotonic() > deadline:
            return {e['data']: e['error'] for e in events}
        time.sleep(0.02)


def polled(client: PollingClient, count: int) -> list[str]:
    """Message packets of GETs until ``count`` arrived (pings answered)."""
    got: list[str] = []
    deadline = time.monotonic() + 10
    while len(got) < count:
        assert time.monotonic() < deadline, got
        response = client.get()
        assert response.status == 200, (response.status, response.body)
        for pkt in response.text.split(SEP):
            if pkt == '2':
                client.post('3')
            elif pkt != '6':
                got.append(pkt)
    return got


def ws_messages(ws: RawWebSocket, count: int) -> list:
    got = []
    while len(got) < count:
        frame = ws.recv()
        if frame == '2':
            ws.send('3')
        else:
            got.append(frame)
    return got


def test_send_to_many_reaches_every_session_once(server):
    """F-03: one send_to_many reaches polling and websocket sessions once each,
    text and binary (base64 on polling); the unknown sid is skipped."""
    pollers = [PollingClient(server) for _ in range(3)]
    sockets = [RawWebSocket.connect(server.port)[0] for _ in range(2)]
    try:
        assert pollers[0].post('4broadcast hello').status == 200
        assert pollers[0].post('4broadcastbin 010203').status == 200
        assert pollers[0].post('4broadcast again').status == 200
        for client in pollers:
            assert polled(client, 3) == ['4hello', 'bAQID', '4again']
        for ws in sockets:
            assert ws_messages(ws, 3) == ['4hello', b'\x01\x02\x03', '4again']
    finally:
        for ws in sockets:
            ws.close()


def test_callback_runs_once_the_poll_took_the_packet(server):
    """F-04: the callback waits for the GET that carries the packet, then gets None."""
    client = PollingClient(server)
    assert client.post('4confirm hi').status == 200
    time.sleep(0.3)
    assert sent_events(server, client.sid, 1, timeout=0) == {}
    assert polled(client, 1) == ['4hi']
    assert sent_events(server, client.sid, 1) == {'hi': None}


def test_callback_runs_once_the_websocket_wrote_the_packet(server):
    """F-04: on a websocket the callback follows the write, with None."""
    ws, opened = RawWebSocket.connect(server.port)
    try:
        ws.send('4confirm hi')
        assert ws_messages(ws, 1) == ['4hi']
        assert sent_events(server, opened['sid'], 1) == {'hi': None}
    finally:
        ws.close()


def test_unwritten_packets_fail_when_the_session_closes(server):
    """F-04: packets still queued when the client leaves get SocketIsClosedError."""
    client = PollingClient(server)
    assert client.post('4flood 3').status == 200
    server.wait_for_event(event='flooded', sid=client.sid)
    assert client.post('1').status == 200
    assert sent_events(server, client.sid, 3) == {
        'f0': 'SocketIsClosedError',
        'f1': 'SocketIsClosedError',
        'f2': 'SocketIsClosedError',
    }


def test_drop_oldest_keeps_the_newest_packets(start):
    """F-04: queue_overflow='drop_oldest' drops the oldest messages (QueueFullError),
    buffered_amount stays at the limit, and drain fires once the poll emptied it."""
    server = start(max_queue_size=5, queue_overflow='drop_oldest', report_drain=True)
    client = PollingClient(server)
    assert client.post('4flood 8').status == 200
    assert server.wait_for_event(event='flooded', sid=client.sid)['buffered'] == 5
    assert polled(client, 5) == ['4f3', '4f4', '4f5', '4f6', '4f7']
    outcome = sent_events(server, client.sid, 8)
    assert outcome == {
        **{'f%d' % i: 'QueueFullError' for i in range(3)},
        **{'f%d' % i: None for i in range(3, 8)},
    }
    server.wait_for_event(event='drain', sid=client.sid)


def test_disconnect_policy_closes_the_session(start):
    """F-04, S-40: queue_overflow='disconnect' ends the session with transport error."""
    server = start(max_queue_size=5, queue_overflow='disconnect')
    client = PollingClient(server)
    assert client.post('4flood 8').status == 200
    event = server.wait_for_event(event='disconnect', sid=client.sid)
    assert event['reason'] == 'transport error'
    assert set(sent_events(server, client.sid, 8).values()) == {'SocketIsClosedError'}
    assert client.get().status == 400


def test_block_policy_waits_for_room(start):
    """F-04: queue_overflow='block' holds the sender until a poll makes room."""
    server = start(max_queue_size=5, queue_overflow='block')
    client = PollingClient(server)
    assert client.post('4flood 8').status == 200
    time.sleep(0.5)
    assert not [e for e in server.events if e['event'] == 'flooded' and e['sid'] == client.sid]
    assert polled(client, 8) == ['4f%d' % i for i in range(8)]
    server.wait_for_event(event='flooded', sid=client.sid)
    assert set(sent_events(server, client.sid, 8).values()) == {None}


def test_room_emit_and_send_to_many_encode_once():
    """F-03: python-socketio's room emit (under install()) and send_packet_to_many
    encode a packet once for all recipients."""
    script = Path(__file__).with_name('encode_count.py')
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['room-emit', '1', 'send_packet_to_many', '1']


def test_echoes_keep_their_order_when_the_client_reads_late(server):
    """P-12, S-32 (issue 8 write-through): echoes of 300 messages of 50 KB sent while
    the client does not read fill the server's transport, so writes have to wait;
    once the client reads, all arrive, in order."""
    ws, _ = RawWebSocket.connect(server.port)
    try:
        payloads = ['4m%d:' % i + 'x' * 50_000 for i in range(300)]
        sender = ResultThread(lambda: [ws.send(p) for p in payloads])
        time.sleep(1.0)  # not reading meanwhile
        got = ws_messages(ws, 300)
        sender.result()
        assert [g.split(':')[0] for g in got] == ['4m%d' % i for i in range(300)]
        assert got == payloads
    finally:
        ws.close()


def test_a_slow_handler_holds_back_only_its_own_session(server):
    """S-32, issue 8 (async_handlers, the default): while one session's handler sleeps
    for 3 s, another session's messages are echoed at once; the slow session's next
    message is handled after the slow one, in order, over polling and websocket."""
    slow_ws, _ = RawWebSocket.connect(server.port)
    slow_poll = PollingClient(server)
    quick, _ = RawWebSocket.connect(server.port)
    try:
        started = time.monotonic()
        slow_ws.send('4slow 3')
        slow_ws.send('4next')
        slow_poll.post('4slow 3' + SEP + '4next')
        for i in range(20):
            quick.send('4quick %d' % i)
            assert quick.recv_message(timeout=5) == '4quick %d' % i
        assert time.monotonic() - started < 2.5, 'echoes waited for the slow handler'
        assert ws_messages(slow_ws, 2) == ['4slept 3', '4next']
        assert polled(slow_poll, 2) == ['4slept 3', '4next']
    finally:
        slow_ws.close()
        quick.close()
