"""The OPEN packet and what a new session sees: intervals, limits, the initial
packet, introspection and the environ's peer and scheme."""

from __future__ import annotations

import json

from http_checks import (
    BASE,
    HANDSHAKE,
)
from raw_clients import (
    SEP,
    PollingClient,
    RawWebSocket,
    http_request,
)
from server_process import ASYNC_MODES

# -- OPEN packet -------------------------------------------------------------------


def test_open_packet_with_grace_period_and_custom_limits(start_server):
    """P-06, P-07, S-01: ``(interval, grace)`` advertises their sum; ``allow_upgrades=False`` → []."""
    process = start_server(
        ping_interval=[5, 2.5],
        ping_timeout=2.25,
        max_http_buffer_size=12345,
        allow_upgrades=False,
    )
    client = PollingClient(process)
    assert client.handshake.text == '0' + json.dumps(
        {
            'sid': client.sid,
            'upgrades': [],
            'pingTimeout': 2250,
            'pingInterval': 7500,
            'maxPayload': 12345,
        },
        separators=(',', ':'),
    )
    assert client.handshake.headers['Content-Type'] == 'text/plain; charset=UTF-8'


def test_sub_second_intervals_survive(suite_server):
    """P-07, B-04: 0.3 s / 0.2 s are advertised as 300 / 200, on polling and websocket."""
    client = PollingClient(suite_server)
    assert (client.open['pingInterval'], client.open['pingTimeout']) == (300, 200)
    ws, open_data = RawWebSocket.connect(suite_server.port)
    ws.close()
    assert (open_data['pingInterval'], open_data['pingTimeout']) == (300, 200)


def test_initial_packet_follows_open(start_server):
    """F-15, P-09: ``initial_packet`` is queued right after OPEN, on polling and websocket."""
    process = start_server(**BASE, initial_packet='welcome')
    client = PollingClient(process)
    packets = client.handshake.text.split(SEP)
    assert packets[1:] == ['4welcome']
    ws, _ = RawWebSocket.connect(process.port)
    try:
        assert ws.recv() == '4welcome'
    finally:
        ws.close()


def test_introspection_counts_clients_and_reports_the_peer(start_server):
    """F-14: ``clients_count`` follows opens and closes; the environ has the real peer address."""
    process = start_server(**BASE, initial_packet='count me')
    first = PollingClient(process)
    assert first.handshake.text.endswith(SEP + '4count me')
    first.post('4stats')
    before = json.loads(first.get().text[1:])['clients']
    second = PollingClient(process)
    first.post('4stats')
    assert json.loads(first.get().text[1:])['clients'] == before + 1
    assert second.post('1').body == b'ok'
    process.wait_for_event(event='disconnect', sid=second.sid, reason='client disconnect')
    first.post('4stats')
    assert json.loads(first.get().text[1:])['clients'] == before
    assert process.wait_for_event(event='connect', sid=second.sid)['remote'] == '127.0.0.1'


def test_environ_has_the_real_peer_and_scheme(server):
    """A-12, A-13, B-13, B-14: REMOTE_ADDR is the peer (not a hard-coded 127.0.0.1) and the
    scheme is the transport's, overridden by the first X-Forwarded-Proto value."""
    response = http_request(server.port, 'GET', HANDSHAKE, source_address=('127.0.0.2', 0))
    sid = json.loads(response.body[1:])['sid']
    event = server.wait_for_event(event='connect', sid=sid)
    assert (event['remote'], event['scheme']) == ('127.0.0.2', 'http')
    response = http_request(
        server.port, 'GET', HANDSHAKE, headers={'X-Forwarded-Proto': 'https, http'}
    )
    sid = json.loads(response.body[1:])['sid']
    # On WSGI the scheme is the WSGI server's own (proxies are ProxyFix's business).
    expected = 'https' if server.mode in ASYNC_MODES else 'http'
    assert server.wait_for_event(event='connect', sid=sid)['scheme'] == expected
