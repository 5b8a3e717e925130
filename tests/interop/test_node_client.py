"""The official JavaScript client (engine.io-client 6.6) against our sync servers.

Two echo servers per mode and module: ``server`` with pingInterval 300 ms and
pingTimeout 200 ms (like the protocol suite) for the close and heartbeat
tests, and ``bulk_server`` with a heartbeat far longer than any test for the
large and bulk transfers, which are about ordering and integrity: a 200 ms
pong deadline behind a burst of 1000 messages on a loaded CI machine would
(correctly, per P-31) end the session and make them flaky.  Each test runs
one node client scenario.
"""

from __future__ import annotations

import base64

import pytest
from server_process import SERVER_MODES, EchoServerProcess

TRANSPORTS = {
    'polling': {'transports': ['polling']},
    'websocket': {'transports': ['websocket']},
    'upgrade': {'transports': ['polling', 'websocket'], 'sendAfterUpgrade': True},
}


@pytest.fixture(scope='module', params=SERVER_MODES)
def server(request):
    process = EchoServerProcess(request.param, ping_interval=0.3, ping_timeout=0.2)
    yield process
    process.stop()


@pytest.fixture(scope='module', params=SERVER_MODES)
def bulk_server(request):
    process = EchoServerProcess(request.param, ping_interval=20, ping_timeout=20)
    yield process
    process.stop()


def messages(events: list[dict]) -> list[dict]:
    return [event for event in events if event['event'] == 'message']


def opened_transport(events: list[dict]) -> str:
    transport = [e['transport'] for e in events if e['event'] == 'open'][0]
    for event in events:
        if event['event'] == 'upgrade':
            transport = event['transport']
    return transport


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_text_and_binary_echo(server, node_client, transport):
    """P-10..P-12, TS-07, TS-09, TS-12, TS-13, TS-21: text and binary round trips."""
    binary = base64.b64encode(bytes(range(256))).decode()
    events = node_client(
        {
            'url': server.url,
            **TRANSPORTS[transport],
            'send': ['hello', {'b64': binary}, 'é€😀'],
            'expect': 3,
        },
        timeout=20,
    )
    got = messages(events)
    assert [(m['data'], m['binary']) for m in got] == [
        ('hello', False),
        (binary, True),
        ('é€😀', False),
    ]
    assert opened_transport(events) == ('polling' if transport == 'polling' else 'websocket')


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_large_message_echo(bulk_server, node_client, transport):
    """P-50: a 100 KB message (below maxPayload) goes both ways intact."""
    events = node_client(
        {'url': bulk_server.url, **TRANSPORTS[transport], 'count': 1, 'size': 100_000, 'expect': 1},
        timeout=20,
    )
    (message,) = messages(events)
    assert len(message['data']) == 100_000
    assert message['data'].startswith('m0x')


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_thousand_messages_arrive_in_order(bulk_server, node_client, transport):
    """P-12, S-32, P-74: 1000 small messages echoed in order, none lost or doubled."""
    events = node_client(
        {'url': bulk_server.url, **TRANSPORTS[transport], 'count': 1000, 'size': 0, 'expect': 1000},
        timeout=40,
    )
    received = [m['data'] for m in messages(events)]
    assert len(received) == 1000, 'the session ended early: %r' % events[-1]
    assert received == ['m%d' % i for i in range(1000)]


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_server_initiated_close(server, node_client, transport):
    """P-28, S-14: disconnect(sid) reaches the client as a server close."""
    events = node_client(
        {
            'url': server.url,
            **TRANSPORTS[transport],
            'send': ['disconnect me'],
            'closeAfter': False,
        },
        timeout=20,
    )
    sid = [e['sid'] for e in events if e['event'] == 'open'][0]
    assert events[-1]['event'] == 'close'
    assert events[-1]['reason'] in ('io server disconnect', 'transport close')
    server.wait_for_event(event='disconnect', sid=sid, reason='server disconnect')


def test_polling_client_close_reports_client_disconnect(server, node_client):
    """P-27, S-33: the polling client's close packet gives reason 'client disconnect'."""
    events = node_client(
        {
            'url': server.url,
            **TRANSPORTS['polling'],
            'send': ['bye'],
            'expect': 1,
            'exitDelayMs': 300,
        },
        timeout=20,
    )
    sid = [e['sid'] for e in events if e['event'] == 'open'][0]
    server.wait_for_event(event='disconnect', sid=sid, reason='client disconnect')


@pytest.mark.parametrize('transport', ['websocket', 'upgrade'])
def test_websocket_client_close_reports_transport_close(server, node_client, transport):
    """P-44: engine.io-client closes a websocket without a close packet: 'transport close'."""
    events = node_client(
        {'url': server.url, **TRANSPORTS[transport], 'send': ['bye'], 'expect': 1}, timeout=20
    )
    sid = [e['sid'] for e in events if e['event'] == 'open'][0]
    server.wait_for_event(event='disconnect', sid=sid, reason='transport close')


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_ping_timeout_when_client_stops_answering(server, node_client, transport):
    """P-30, P-31, TS-16, TS-18: no pong within pingTimeout closes the session."""
    events = node_client(
        {
            'url': server.url,
            **TRANSPORTS[transport],
            'send': ['hi'],
            'expect': 1,
            'stopPong': True,
            'clientHeartbeat': False,
            'closeAfter': False,
        },
        timeout=20,
    )
    sid = [e['sid'] for e in events if e['event'] == 'open'][0]
    server.wait_for_event(event='disconnect', sid=sid, reason='ping timeout')
    assert events[-1]['event'] == 'close'


@pytest.mark.parametrize('transport', TRANSPORTS)
def test_session_survives_many_heartbeats(server, node_client, transport):
    """P-30: a client answering pings stays connected across ten ping cycles."""
    events = node_client(
        {
            'url': server.url,
            **TRANSPORTS[transport],
            'send': ['hi'],
            'expect': 1,
            'lingerMs': 3000,
            'reportPings': True,
        },
        timeout=20,
    )
    pings = [e for e in events if e['event'] == 'ping']
    assert len(pings) >= 5
    assert [m['data'] for m in messages(events)] == ['hi']
    assert events[-1]['event'] == 'close'
    assert events[-1]['reason'] == 'forced close'
