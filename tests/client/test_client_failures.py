"""Client and AsyncClient when things go wrong: dead servers, bad answers, failing handlers.

Servers that get killed or stalled are started per test (``own_server``);
bad answers come from a scripted raw HTTP server.  CL-03, CL-05, CL-08.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest
from client_harness import SERVERS, TIMEOUT, client_close_reason, open_payload
from ports import closed_port_url

import engineio_fast
from engineio_fast import base_client
from engineio_fast.exceptions import ConnectionError

# -- the server goes away ----------------------------------------------------------------------------


@pytest.mark.parametrize('server_kind', SERVERS)
@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_server_killed_is_a_transport_error(driver, own_server, server_kind, transport):
    """CL-05: a dead server -> disconnect('transport error') while 'connected', then disconnected."""
    server = own_server(server_kind)
    driver.connect(server.url, transports=[transport])
    assert driver.client in base_client.connected_clients
    server.process.kill()
    assert driver.recorder.wait_disconnect() == ('disconnect', 'transport error', 'connected')
    driver.wait()
    assert driver.state == 'disconnected'
    assert driver.client.sid is None
    assert driver.client not in base_client.connected_clients
    assert len(driver.recorder.named('disconnect')) == 1


@pytest.mark.parametrize('server_kind', SERVERS)
def test_silent_server_detected_on_websocket(driver, own_server, server_kind):
    """CL-08: a stalled server (SIGSTOP) is given up after ping_interval + ping_timeout."""
    server = own_server(server_kind, ping_interval=0.2, ping_timeout=0.4)
    driver.connect(server.url, transports=['websocket'])
    os.kill(server.process.pid, signal.SIGSTOP)
    assert driver.recorder.wait_disconnect() == ('disconnect', 'transport error', 'connected')
    driver.wait()
    assert driver.state == 'disconnected'


def test_silent_server_detected_on_polling(driver, own_server):
    """CL-08: a stalled polling server is given up once the GET times out."""
    server = own_server('threading', ping_interval=0.2, ping_timeout=0.4)
    driver.connect(server.url, transports=['polling'])
    os.kill(server.process.pid, signal.SIGSTOP)
    # The GET and the idle write loop both wait max(interval, timeout) + 5 s.
    assert driver.recorder.wait_disconnect(timeout=TIMEOUT + 5) == (
        'disconnect',
        'transport error',
        'connected',
    )
    driver.wait()
    assert driver.state == 'disconnected'


# -- refused and bad answers -------------------------------------------------------------------------


@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_connection_refused(driver, transport):
    """CL-03: nothing listening -> ConnectionError('Connection refused by the server')."""
    with pytest.raises(ConnectionError) as error:
        driver.connect(closed_port_url(), transports=[transport])
    assert error.value.args == ('Connection refused by the server',)
    assert driver.state == 'disconnected'
    assert driver.client not in base_client.connected_clients
    assert driver.recorder.events == []


BAD_HANDSHAKES = {
    'garbage': (200, b'hello there'),
    'empty body': (200, b''),
    'not utf-8': (200, b'\xff\xfe\xfd'),
    'open without json': (200, b'0not json'),
    'open without sid': (200, b'0{"upgrades":[],"pingInterval":1,"pingTimeout":1}'),
    'open with bad interval': (
        200,
        b'0{"sid":"x","upgrades":[],"pingInterval":"soon","pingTimeout":1}',
    ),
    'open with bad upgrades': (
        200,
        b'0{"sid":"x","upgrades":"websocket","pingInterval":1,"pingTimeout":1}',
    ),
}


@pytest.mark.parametrize('answer', list(BAD_HANDSHAKES))
def test_garbage_handshake(driver, scripted, answer):
    """CL-03: an answer that is no OPEN packet -> 'Unexpected response from server'."""
    server = scripted(lambda request: BAD_HANDSHAKES[answer])
    with pytest.raises(ConnectionError) as error:
        driver.connect(server.url, transports=['polling'])
    assert error.value.args == ('Unexpected response from server',)
    assert driver.state == 'disconnected'
    assert driver.client not in base_client.connected_clients
    assert driver.recorder.events == []


def test_handshake_answered_with_another_packet(driver, scripted):
    """CL-03, C-07: a first packet that is not OPEN gets python-engineio's message."""
    server = scripted(lambda request: (200, b'4hello'))
    with pytest.raises(ConnectionError) as error:
        driver.connect(server.url, transports=['polling'])
    assert error.value.args == ('OPEN packet not returned by server',)
    assert driver.state == 'disconnected'
    assert driver.client not in base_client.connected_clients


@pytest.mark.parametrize(
    'status, body, content_type, detail',
    [
        (400, b'"Invalid transport"', 'text/plain', 'Invalid transport'),
        (401, b'{"message":"go away"}', 'application/json', {'message': 'go away'}),
        (403, b'"Forbidden"', 'application/json', 'Forbidden'),
        (500, b'<html>oops</html>', 'text/html', None),
        (503, b'', 'text/plain', None),
    ],
)
def test_wrong_status(driver, scripted, status, body, content_type, detail):
    """CL-03: a non-2xx handshake -> 'Unexpected status code <n> ...', args[1] = JSON body."""
    server = scripted(lambda request: (status, body, content_type))
    with pytest.raises(ConnectionError) as error:
        driver.connect(server.url, transports=['polling'])
    assert error.value.args == ('Unexpected status code %d in server response' % status, detail)
    assert driver.state == 'disconnected'


def test_websocket_handshake_refused(driver, scripted):
    """CL-03: a refused WebSocket handshake reports its status.

    websocket-client hands over the refusal body (parsed into ``args[1]``);
    aiohttp does not read it, so the async client has None there.
    """
    server = scripted(lambda request: (400, b'"Invalid websocket upgrade"', 'application/json'))
    with pytest.raises(ConnectionError) as error:
        driver.connect(server.url, transports=['websocket'])
    detail = 'Invalid websocket upgrade' if driver.kind == 'sync' else None
    assert error.value.args == ('Unexpected status code 400 in server response', detail)
    assert driver.state == 'disconnected'
    (request,) = server.requests
    assert request.headers['Upgrade'].lower() == 'websocket'


# -- scripted sessions -------------------------------------------------------------------------------


class PollingScript:
    """Handshake, then the given GET bodies in turn; later GETs wait for the client's ``1``."""

    def __init__(self, open_body: bytes, polls: list[bytes]):
        self.open_body = open_body
        self.polls = list(polls)
        self.gets = 0
        self.closed = threading.Event()

    def __call__(self, request):
        if request.method == 'POST':
            if request.body.split(b'\x1e')[-1] == b'1':
                self.closed.set()
            return (200, b'ok')
        self.gets += 1
        if self.gets == 1:
            return (200, self.open_body)
        if self.polls:
            return (200, self.polls.pop(0))
        self.closed.wait(TIMEOUT)
        return (200, b'6')


def test_more_than_16_packets_in_one_poll(driver, scripted):
    """B-10: a poll answer of 1000 packets (Payload.max_decode_packets) is delivered whole."""
    burst = [b'4m%d' % i for i in range(999)] + [b'bAAEC/w==']
    server = scripted(PollingScript(open_payload(), [b'\x1e'.join(burst)]))
    driver.connect(server.url)
    received = driver.wait_messages(1000)
    assert driver.state == 'connected'
    assert sorted(m for m in received if isinstance(m, str)) == sorted(
        'm%d' % i for i in range(999)
    )
    assert [m for m in received if isinstance(m, bytes)] == [b'\x00\x01\x02\xff']
    driver.disconnect()
    assert driver.recorder.named('disconnect') == [
        ('disconnect', 'client disconnect', 'disconnecting')
    ]


def test_poll_beyond_packet_limit_is_a_transport_error(driver, scripted):
    """B-10: more packets than Payload.max_decode_packets end the connection, not the loop."""
    burst = b'\x1e'.join([b'4x'] * 1001)
    server = scripted(PollingScript(open_payload(), [burst]))
    driver.connect(server.url)
    assert driver.recorder.wait_disconnect() == ('disconnect', 'transport error', 'connected')
    assert driver.recorder.messages() == []
    driver.wait()
    assert driver.state == 'disconnected'


def test_posts_respect_the_servers_max_payload(make_driver, scripted, client_kind):
    """CL-08: packets queued together are split into POSTs no larger than maxPayload."""
    script = PollingScript(open_payload(maxPayload=100), [])
    server = scripted(script)
    driver = make_driver()
    sent = ['m%02d' % i + 'x' * 17 for i in range(12)]  # 20 characters each
    client = driver.client
    if client_kind == 'sync':

        def on_connect():
            for message in sent:
                client.send(message)
    else:

        async def on_connect():
            for message in sent:
                await client.send(message)

    # Queued by the connect handler, before the write loop runs: one batch.
    driver.on('connect', on_connect)
    driver.connect(server.url)
    driver.disconnect()
    posts = [r.body for r in server.requests if r.method == 'POST']
    assert all(len(body) <= 100 for body in posts), posts
    packets = [p.decode() for body in posts for p in body.split(b'\x1e')]
    assert packets == ['4' + message for message in sent] + ['1']
    assert len(posts) >= 3


# -- handlers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize('transport', ['polling', 'websocket'])
def test_connect_handler_failure(driver, server, transport):
    """CL-03: a raising connect handler -> 'Connect handler failed: ...', reset, server told."""
    seen = []

    def on_connect():
        seen.append((driver.client.sid, driver.state))
        raise RuntimeError('boom')

    driver.on('connect', on_connect)
    with pytest.raises(ConnectionError) as error:
        driver.connect(server.url, transports=[transport])
    assert error.value.args == ('Connect handler failed: boom',)
    assert isinstance(error.value.__cause__, RuntimeError)
    assert driver.state == 'disconnected'
    assert driver.client.sid is None
    assert driver.client not in base_client.connected_clients
    # The handler ran connected; the server then got our close at once.
    ((sid, state),) = seen
    assert state == 'connected'
    event = server.wait_for_event(event='disconnect', sid=sid)
    assert event['reason'] == client_close_reason(server)
    # With the handler fixed, the same client connects.
    driver.on('connect', lambda: None)
    driver.connect(server.url, transports=[transport])
    assert driver.state == 'connected'


def test_legacy_disconnect_handler_without_reason(driver, server):
    """CL-06: a disconnect handler without a reason parameter is called with no arguments."""
    calls = []
    driver.on('disconnect', lambda: calls.append('called'))
    driver.connect(server.url)
    driver.disconnect()
    assert calls == ['called']


def test_disconnect_handler_type_error_is_not_retried(driver, server):
    """CL-06, B-16: a TypeError raised inside the handler does not re-run it without arguments."""
    calls = []

    def on_disconnect(reason):
        calls.append(reason)
        raise TypeError('my own bug')

    driver.on('disconnect', on_disconnect)
    driver.connect(server.url)
    driver.disconnect()
    assert calls == ['client disconnect']
    assert driver.state == 'disconnected'


def test_message_handler_error_keeps_connection(driver, server):
    """CL-06: an exception in a message handler is logged; later messages still arrive."""
    received = []

    def on_message(data):
        received.append(data)
        if data == 'first':
            raise RuntimeError('handler bug')

    driver.on('message', on_message)
    driver.connect(server.url)
    driver.send('first')
    driver.recorder.wait_for(lambda: received == ['first'], what='first message')
    driver.send('second')
    driver.recorder.wait_for(lambda: received == ['first', 'second'], what='second message')
    assert driver.state == 'connected'


# -- argument errors ---------------------------------------------------------------------------------


def test_invalid_transports(driver):
    """CL-02: no valid transport -> ValueError, nothing sent."""
    with pytest.raises(ValueError, match='^No valid transports provided$'):
        driver.connect('http://127.0.0.1:1', transports=['carrier-pigeon'])
    assert driver.state == 'disconnected'


def test_connect_twice(driver, server):
    """CL-02: connect() while connected -> ValueError; the first connection is untouched."""
    driver.connect(server.url, transports=['websocket'])
    with pytest.raises(ValueError, match='^Client is not in a disconnected state$'):
        driver.connect(server.url)
    driver.send('ok')
    assert driver.wait_messages(1) == ['ok']


def test_unknown_event_name(driver):
    """CL-06: only connect, message and disconnect handlers exist."""
    with pytest.raises(ValueError, match='^Invalid event$'):
        driver.on('upgrade', lambda: None)


def test_disconnect_when_not_connected_is_a_no_op(driver):
    """CL-05: disconnect() on a fresh client neither fails nor calls the handler."""
    driver.disconnect()
    assert driver.state == 'disconnected'
    assert driver.recorder.events == []


def test_failed_upgrade_keeps_polling(driver, scripted):
    """CL-02: an advertised upgrade whose WebSocket is refused leaves the session on polling."""
    script = PollingScript(open_payload(upgrades=['websocket']), [b'4after upgrade attempt'])

    def with_refused_websocket(request):
        if request.headers.get('Upgrade', '').lower() == 'websocket':
            return (400, b'"Invalid websocket upgrade"')
        return script(request)

    server = scripted(with_refused_websocket)
    driver.connect(server.url)
    assert driver.transport() == 'polling'
    assert driver.wait_messages(1) == ['after upgrade attempt']
    driver.disconnect()
    assert [r.headers.get('Upgrade') for r in server.requests].count('websocket') == 1
    assert [r.body for r in server.requests if r.method == 'POST'] == [b'1']


def test_disconnect_without_a_connection_resets_state_and_sid():
    """CL-05, C-12: like python-engineio's, disconnect() with no connection leaves the
    client 'disconnected' with no sid, whatever state it was left in."""
    sync_client = engineio_fast.Client(handle_sigint=False)
    sync_client.state, sync_client.sid = 'foo', 'bar'
    sync_client.disconnect()
    assert (sync_client.state, sync_client.sid) == ('disconnected', None)

    async def run() -> tuple:
        async_client = engineio_fast.AsyncClient(handle_sigint=False)
        async_client.state, async_client.sid = 'foo', 'bar'
        await async_client.disconnect()
        return async_client.state, async_client.sid

    assert asyncio.run(run()) == ('disconnected', None)
