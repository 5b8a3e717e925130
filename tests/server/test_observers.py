"""Observer events and close details over real sockets (F-09, F-10, F-14).

An in-process threading server (werkzeug, loopback) so the test can register
handlers directly; python-engineio's Client drives it.
"""

from __future__ import annotations

import http.client
import queue
import threading
import time
from urllib.parse import urlparse

import engineio
import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from engineio_fast import Server

TIMEOUT = 10.0


@pytest.fixture
def observed():
    """A running server whose observer events land in a queue."""
    eio = Server(async_mode='threading', ping_interval=0.3, ping_timeout=0.5)
    events: queue.Queue = queue.Queue()
    for name in ('connection_error', 'upgrade', 'heartbeat'):
        eio.on(name, lambda *args, name=name: events.put((name, args)))
    eio.on('packet', lambda sid, pkt: events.put(('packet', (pkt.packet_type, pkt.data))))
    eio.on(
        'packet_create', lambda sid, pkt: events.put(('packet_create', (pkt.packet_type, pkt.data)))
    )
    eio.on('message', lambda sid, data: eio.send(sid, data))
    eio.on('disconnect', lambda sid, reason: events.put(('disconnect', (sid, reason))))
    WSGIRequestHandler.log_request = lambda *args, **kwargs: None
    http_server = make_server('127.0.0.1', 0, eio.handle_request, threaded=True)
    thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    thread.start()
    yield eio, events, 'http://127.0.0.1:%d' % http_server.server_port
    http_server.shutdown()
    thread.join(TIMEOUT)
    eio.shutdown()


def wait_for(events: queue.Queue, name: str) -> tuple:
    """The arguments of the next event called ``name`` (bounded wait)."""
    while True:
        event, args = events.get(timeout=TIMEOUT)
        if event == name:
            return args


def test_upgrade_heartbeat_and_packet_events(observed):
    """F-10: upgrade(sid), heartbeat(sid), packet and packet_create with the packets."""
    eio, events, url = observed
    client = engineio.Client(handle_sigint=False)
    client.connect(url)
    try:
        assert wait_for(events, 'upgrade') == (client.sid,)
        client.send('hello')
        assert wait_for(events, 'packet') == (4, 'hello')
        assert wait_for(events, 'packet_create') == (4, 'hello')
        assert wait_for(events, 'heartbeat') == (client.sid,)
        socket = eio._get_socket(client.sid)
        assert socket.remote_address == '127.0.0.1'
        assert socket.environ['REQUEST_METHOD'] == 'GET'
        assert eio.clients_count == 1
    finally:
        client.disconnect()


def test_connection_error_event_for_refused_requests(observed):
    """F-09: a request refused before a session exists reports (environ, code, message)."""
    eio, events, url = observed
    client = engineio.Client(handle_sigint=False)
    with pytest.raises(engineio.exceptions.ConnectionError):
        client.connect(url + '/?EIO=3', transports=['polling'])
    environ, code, message = wait_for(events, 'connection_error')
    assert code == 5
    assert message.startswith('The client is using an unsupported version')
    assert environ['REQUEST_METHOD'] == 'GET'


def test_close_detail_explains_a_transport_error(observed):
    """F-09: a malformed POST closes with 'transport error' and close_detail 'parse error'."""
    eio, events, url = observed
    client = engineio.Client(handle_sigint=False)
    client.connect(url, transports=['polling'])
    sid = client.sid
    socket = eio._get_socket(sid)
    parsed = urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=TIMEOUT)
    connection.request('POST', '/engine.io/?EIO=4&transport=polling&sid=' + sid, body=b'abc')
    assert connection.getresponse().status == 400
    connection.close()
    assert wait_for(events, 'disconnect') == (sid, 'transport error')
    assert socket.close_detail == 'parse error'
    client.disconnect()


def test_close_detail_of_a_server_disconnect(observed):
    """F-09: disconnect(sid) closes with 'server disconnect' and close_detail 'forced close'."""
    eio, events, url = observed
    client = engineio.Client(handle_sigint=False)
    client.connect(url, transports=['polling'])
    socket = eio._get_socket(client.sid)
    eio.disconnect(client.sid)
    assert wait_for(events, 'disconnect') == (client.sid, 'server disconnect')
    assert socket.close_detail == 'forced close'
    client.disconnect()


@pytest.fixture
def unmonitored():
    """A running server with ``monitor_clients=False`` and a fast heartbeat."""
    eio = Server(async_mode='threading', ping_interval=0.2, ping_timeout=0.1, monitor_clients=False)
    WSGIRequestHandler.log_request = lambda *args, **kwargs: None
    http_server = make_server('127.0.0.1', 0, eio.handle_request, threaded=True)
    thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    thread.start()
    yield eio, http_server.server_port
    http_server.shutdown()
    thread.join(TIMEOUT)
    eio.shutdown()


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=TIMEOUT)
    try:
        connection.request('GET', path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _post(port: int, path: str, body: bytes) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=TIMEOUT)
    try:
        connection.request('POST', path, body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_unmonitored_sessions_get_pings_but_never_time_out(unmonitored):
    """P-33: pings still go out; a pong far past ping_timeout is still accepted."""
    eio, port = unmonitored
    status, body = _get(port, '/engine.io/?EIO=4&transport=polling')
    assert status == 200
    sid = body.decode()[1:].split('"sid":"')[1].split('"')[0]
    path = '/engine.io/?EIO=4&transport=polling&sid=' + sid
    for _ in range(3):
        assert _get(port, path) == (200, b'2')
        time.sleep(0.3)  # three times ping_timeout: a monitored session would be gone
        assert _post(port, path, b'3') == (200, b'ok')
    assert eio.clients_count == 1


def test_shutdown_stops_the_timer_task_and_keeps_sessions(unmonitored):
    """S-17: shutdown() stops heartbeats, is idempotent, leaves sessions open."""
    eio, port = unmonitored
    status, _ = _get(port, '/engine.io/?EIO=4&transport=polling')
    assert status == 200
    timers = eio._timers
    assert timers._task is not None
    eio.shutdown()
    eio.shutdown()
    assert timers._task is None
    assert eio.clients_count == 1


def _request(port: int, headers: dict) -> int:
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=TIMEOUT)
    try:
        connection.request('GET', '/engine.io/?EIO=4&transport=polling', headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def test_forwarded_header_extends_the_same_origin_default(unmonitored):
    """H-13, F-11: the RFC 7239 ``Forwarded`` proto/host count as the server's origin."""
    _, port = unmonitored
    forwarded = {'Forwarded': 'for=10.0.0.1;proto=https;host=chat.example, for=10.0.0.2'}
    assert _request(port, {'Origin': 'https://chat.example', **forwarded}) == 200
    assert _request(port, {'Origin': 'https://other.example', **forwarded}) == 400
    assert _request(port, {'Origin': 'https://chat.example'}) == 400
