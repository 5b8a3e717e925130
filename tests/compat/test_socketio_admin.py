"""python-socketio's Admin UI instrumentation over ``engineio_fast.install()`` (C-06, C-07).

``sio.instrument(auth=False)`` replaces ``eio._ok``, ``Socket.handle_post_request``,
``Socket._websocket_handler`` and ``Socket._send_ping`` (or the ``AsyncSocket``
twins), wraps the WebSocket's ``send``/``wait`` and reads ``eio.sockets`` and
``eio._get_socket(sid).upgraded``.  Each server mode runs instrumented
(stats every 0.5 s, pings every second); an admin client on ``/admin`` must
see the other client's connection, events, pings and traffic counters, while
that client's own traffic still flows.
"""

from __future__ import annotations

import pytest
from raw_clients import TRANSPORTS
from sio_harness import CLIENT_REASONS, SERVER_MODES, of, run_client, start_server, tag

#: Each client kind once, each on another transport.
CLIENTS_AND_TRANSPORTS = [('node', 'polling'), ('sync', 'websocket'), ('async', 'upgrade')]


@pytest.fixture(scope='module', params=SERVER_MODES)
def server(request):
    process = start_server(request.param, admin=True, ping_interval=1)
    yield process
    process.stop()


@pytest.mark.parametrize(('client', 'transport'), CLIENTS_AND_TRANSPORTS)
def test_admin_client_sees_connections_events_pings_and_traffic(server, client, transport):
    me = tag()
    user = {'token': 'secret', 'name': me}
    steps = [
        {'op': 'connect', 'client': 'admin', 'namespaces': ['/admin'], 'auth': {}},
        {'op': 'wait', 'client': 'admin', 'ns': '/admin', 'event': 'config'},
        {'op': 'connect', 'client': 'u', 'auth': user},
        {'op': 'emit', 'client': 'u', 'event': 'echo', 'args': ['traffic'], 'ack': True},
        {'op': 'emit', 'client': 'u', 'event': 'join', 'args': ['room-x'], 'ack': True},
        # 2.5 s: stats five times, and at least one ping (1 s) to each client
        {'op': 'wait', 'client': 'admin', 'ns': '/admin', 'event': 'server_stats', 'count': 5},
        {'op': 'emit', 'client': 'u', 'event': 'whoami', 'ack': True},
        {'op': 'disconnect', 'client': 'u'},
        {'op': 'wait', 'client': 'admin', 'ns': '/admin', 'event': 'socket_disconnected'},
    ]
    events = run_client(client, {**_scenario(server, transport), 'steps': steps}, timeout=40)

    def admin(name: str) -> list:
        return [e['args'] for e in of(events, event='recv', client='admin', name=name)]

    # the user's own traffic flowed
    acks = [e['args'] for e in of(events, event='ack', client='u')]
    assert acks[:2] == [['traffic'], ['joined']]
    user_transport = 'polling' if transport == 'polling' else 'websocket'
    assert acks[2][0]['transport'] == user_transport

    features = admin('config')[0][0]['supportedFeatures']
    assert 'ALL_EVENTS' in features and 'EMIT' in features
    # socket_connected on connect (via the wrapped _trigger_event) and again with a ping
    # (via the replaced Socket._send_ping)
    mine = [args[0] for args in admin('socket_connected') if args[0]['nsp'] == '/']
    assert len(mine) >= 2, admin('socket_connected')
    assert mine[0]['handshake']['url'] == '/socket.io/'
    if transport != 'upgrade':
        assert {socket['transport'] for socket in mine} == {user_transport}
    sid = mine[0]['id']
    assert all(socket['id'] == sid for socket in mine)
    received = [args for args in admin('event_received') if args[1] == sid]
    assert [args[2] for args in received][:2] == [['echo', 'traffic'], ['join', 'room-x']]
    assert ['/', 'room-x', sid] in [args[:3] for args in admin('room_joined')]

    stats = [args[0] for args in admin('server_stats')]
    assert max(s['clientsCount'] for s in stats) == 2
    if transport == 'polling':
        assert max(s['pollingClientsCount'] for s in stats) == 2
    elif transport == 'websocket':
        assert max(s['pollingClientsCount'] for s in stats) == 0
    counters = {e['type'] for s in stats for e in s['aggregatedEvents']}
    # packetsIn/bytesIn come from the replaced handle_post_request (polling) or the
    # wrapped ws.wait (WebSocket), packetsOut/bytesOut from eio._ok or ws.send
    assert {'rawConnection', 'packetsIn', 'packetsOut', 'bytesIn', 'bytesOut'} <= counters
    assert any({'name': '/', 'socketsCount': 1} in s['namespaces'] for s in stats)

    # (the admin's own disconnect, at the end, may be reported to it too)
    disconnected = [args[:3] for args in admin('socket_disconnected') if args[0] == '/']
    assert disconnected == [['/', sid, 'client disconnect']]
    assert (
        of(events, event='disconnect', client='u')[0]['reason']
        == (CLIENT_REASONS[client]['client'])
    )
    assert server.wait_for_event(event='disconnect', name=me)['reason'] == 'client disconnect'


#: python-socketio's own race: AsyncInstrumentedServer._eio_send_ping iterates the
#: manager's namespace dict across ``await emit(...)``, so a namespace connected
#: meanwhile raises there (its code, not ours; seen once in CI).
UPSTREAM_ADMIN_RACE = 'RuntimeError: dictionary changed size during iteration'


def test_instrumented_server_logged_no_traceback(server):
    """Runs last for each server: the instrumentation raised nowhere but in its known race."""
    tracebacks = server.stderr.split('Traceback')[1:]
    ours = [t for t in tracebacks if not ('_eio_send_ping' in t and UPSTREAM_ADMIN_RACE in t)]
    assert not ours, server.stderr


def _scenario(server, transport: str) -> dict:
    return {'url': server.url, 'transports': TRANSPORTS[transport]}
