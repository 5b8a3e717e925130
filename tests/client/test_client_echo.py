"""Client and AsyncClient against real echo servers: transports, data, closes (CL-02..CL-06).

Each test runs for every server in ``SERVERS`` (Python and Node.js), both
client classes and each way of connecting: polling only, WebSocket only, and
the default polling handshake followed by the upgrade.
"""

from __future__ import annotations

import time

import pytest
from client_harness import TIMEOUT, client_close_reason

#: transports argument -> the transport in use once connect() returns.
CONNECT_MODES = {
    'polling': (['polling'], 'polling'),
    'websocket': (['websocket'], 'websocket'),
    'upgrade': (None, 'websocket'),
}


@pytest.fixture(params=list(CONNECT_MODES))
def connect_mode(request: pytest.FixtureRequest) -> str:
    return request.param


def connect(driver, server, connect_mode):
    transports, expected = CONNECT_MODES[connect_mode]
    driver.connect(server.url, transports=transports)
    assert driver.transport() == expected
    return driver


def test_echo_text_binary_and_json(driver, server, connect_mode):
    """CL-02, CL-06: text, binary and JSON messages round-trip on every transport."""
    connect(driver, server, connect_mode)
    assert driver.state == 'connected'
    assert driver.recorder.named('connect') == [('connect', None, 'connected')]
    driver.send('hello')
    driver.wait_messages(1)
    driver.send(b'\x00\x01\x02\xff')
    driver.wait_messages(2)
    driver.send({'a': [1, 2, 'é']})
    driver.wait_messages(3)
    driver.send('ü → ✓ 😀')
    assert driver.recorder.wait_messages(4) == [
        'hello',
        b'\x00\x01\x02\xff',
        {'a': [1, 2, 'é']},
        'ü → ✓ 😀',
    ]


def test_handshake_fills_public_attributes(driver, server, connect_mode):
    """CL-04: sid, intervals in seconds, upgrades, base_url and transports after connect."""
    connect(driver, server, connect_mode)
    client = driver.client
    assert isinstance(client.sid, str) and client.sid
    assert client.ping_interval == pytest.approx(0.25, abs=0.1)
    assert client.ping_timeout == pytest.approx(1.0)
    assert client.upgrades == ([] if connect_mode == 'websocket' else ['websocket'])
    # After an upgrade base_url stays the polling URL, as in python-engineio.
    assert client.base_url.startswith('ws://' if connect_mode == 'websocket' else 'http://')
    assert 'EIO=4' in client.base_url
    assert client.transports == (CONNECT_MODES[connect_mode][0] or ['polling', 'websocket'])
    server.wait_for_event(event='connect', sid=client.sid)


def test_large_messages(driver, server, connect_mode):
    """CL-06: 1 MB of text and 512 KB of binary arrive intact (under the server limit)."""
    connect(driver, server, connect_mode)
    text = ''.join(chr(ord('a') + i % 26) for i in range(1_000_000))
    blob = bytes(range(256)) * 2048
    driver.send(text)
    driver.send(blob)
    received = driver.recorder.wait_messages(2, timeout=TIMEOUT * 2)
    assert sorted(received, key=lambda value: isinstance(value, bytes)) == [text, blob]


def test_many_queued_messages_all_arrive(driver, server, connect_mode):
    """CL-08, B-10: 300 messages sent at once are batched and echoed, none lost."""
    connect(driver, server, connect_mode)
    sent = ['m%d' % i for i in range(300)]
    for message in sent:
        driver.send(message)
    received = driver.recorder.wait_messages(300, timeout=TIMEOUT * 2)
    # Message handlers run in background tasks, so arrival order is not asserted.
    assert sorted(received) == sorted(sent)


def test_client_disconnect(driver, server, connect_mode):
    """CL-05: disconnect() -> 'disconnecting' in the handler, then 'disconnected'; server told."""
    connect(driver, server, connect_mode)
    sid = driver.client.sid
    driver.send('before')
    driver.wait_messages(1)
    driver.disconnect()
    assert driver.state == 'disconnected'
    assert driver.client.sid is None
    assert driver.recorder.named('disconnect') == [
        ('disconnect', 'client disconnect', 'disconnecting')
    ]
    # The server saw our close packet (python-engineio lost it on WebSocket).
    event = server.wait_for_event(event='disconnect', sid=sid)
    assert event['reason'] == client_close_reason(server)
    driver.wait()


def test_disconnect_reason_argument(driver, server, connect_mode):
    """CL-05: disconnect(reason=...) hands that reason to the handler."""
    connect(driver, server, connect_mode)
    driver.disconnect(reason='custom reason')
    assert driver.recorder.named('disconnect') == [('disconnect', 'custom reason', 'disconnecting')]


def test_server_initiated_close(driver, server, connect_mode):
    """CL-05: the server's ``1`` -> 'disconnecting', handler('server disconnect'), disconnected.

    The Node.js server closes a WebSocket without sending ``1`` (its own
    client reports "transport close" and reconnects), so there the client
    sees a lost transport: 'transport error' while still 'connected'.
    """
    connect(driver, server, connect_mode)
    driver.send('disconnect me')
    expected = ('disconnect', 'server disconnect', 'disconnecting')
    if server.mode == 'node' and driver.transport() == 'websocket':
        expected = ('disconnect', 'transport error', 'connected')
    assert driver.recorder.wait_disconnect() == expected
    driver.wait()
    driver.recorder.wait_for(lambda: driver.state == 'disconnected', what='disconnected state')
    assert driver.client.sid is None
    assert len(driver.recorder.named('disconnect')) == 1


@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_pings_are_answered(driver, server, transport):
    """CL-08: pings every 0.25 s are answered, so the session outlives interval + timeout."""
    driver.connect(server.url, transports=[transport])
    sid = driver.client.sid
    # Longer than ping_interval + ping_timeout: one unanswered ping would close.
    time.sleep(1.6)
    assert driver.state == 'connected'
    driver.send('still here')
    assert driver.recorder.wait_messages(1) == ['still here']
    assert not [e for e in server.events if e.get('event') == 'disconnect' and e['sid'] == sid]
    assert driver.recorder.named('disconnect') == []


def test_reconnect_same_instance(driver, server, connect_mode):
    """CL-05, CL-10: the same instance connects again after disconnect and works."""
    connect(driver, server, connect_mode)
    first_sid = driver.client.sid
    driver.disconnect()
    connect(driver, server, connect_mode)
    assert driver.client.sid != first_sid
    driver.send('again')
    assert driver.recorder.wait_messages(1) == ['again']
    assert len(driver.recorder.named('connect')) == 2


def test_unencodable_text_is_dropped_not_fatal(driver, server, connect_mode):
    """K-14: a lone surrogate is dropped by the writer; later messages still flow."""
    connect(driver, server, connect_mode)
    driver.send('\ud800')
    driver.send('after')
    assert driver.wait_messages(1) == ['after']
    assert driver.state == 'connected'


def test_disconnect_abort(driver, server, connect_mode):
    """CL-05: disconnect(abort=True) returns disconnected at once; the server still gets told."""
    connect(driver, server, connect_mode)
    sid = driver.client.sid
    driver.disconnect(abort=True)
    assert driver.state == 'disconnected'
    assert driver.recorder.named('disconnect') == [
        ('disconnect', 'client disconnect', 'disconnecting')
    ]
    event = server.wait_for_event(event='disconnect', sid=sid)
    assert event['reason'] == client_close_reason(server)
    driver.wait()
    # The background loops of the aborted connection end on their own.
    connect(driver, server, connect_mode)
    driver.send('next')
    assert driver.wait_messages(1) == ['next']
