"""python-socketio and Flask-SocketIO over ``engineio_fast.install()`` (issue 7, C-03, C-07, C-08).

Each server mode (python-socketio ``AsyncServer`` on uvicorn, ``Server`` in
threading mode on werkzeug, a Flask-SocketIO app) starts once per module
(tests/compat/sio_app.py); every test runs one scenario on each client
(socket.io-client in node, python-socketio ``Client`` and ``AsyncClient``, all
in child processes) over polling only, WebSocket only and polling with the
upgrade.  Server and clients assert that they run on engineio_fast
(sio_harness.start_server / run_client).
"""

from __future__ import annotations

import pytest
from raw_clients import TRANSPORTS
from sio_harness import (
    CLIENT_KINDS,
    CLIENT_REASONS,
    SERVER_MODES,
    binary,
    of,
    run_client,
    start_server,
    tag,
)

BLOB = bytes(range(256)) * 4


@pytest.fixture(scope='module', params=SERVER_MODES)
def server(request):
    process = start_server(request.param)
    yield process
    process.stop()


@pytest.fixture(params=CLIENT_KINDS)
def client(request) -> str:
    return request.param


@pytest.fixture(params=list(TRANSPORTS))
def transport(request) -> str:
    return request.param


def scenario(server, transport: str, steps: list[dict]) -> dict:
    return {'url': server.url, 'transports': TRANSPORTS[transport], 'steps': steps}


def final_transport(transport: str) -> str:
    return 'polling' if transport == 'polling' else 'websocket'


def test_connect_with_auth_and_refused_connect(server, client, transport):
    """The auth dict reaches the connect handler; a refusal reaches connect_error with its data."""
    me = tag()
    auth = {'token': 'secret', 'name': me + '-a', 'extra': [1, 'two', {'three': None}]}
    steps = [
        {'op': 'connect', 'client': 'x', 'auth': {'token': 'wrong', 'name': me + '-x'}},
        {'op': 'connect', 'client': 'a', 'auth': auth},
        {'op': 'emit', 'client': 'a', 'event': 'whoami', 'ack': True},
    ]
    events = run_client(client, scenario(server, transport, steps))

    assert of(events, event='connect_error') == [
        {
            'event': 'connect_error',
            'client': 'x',
            'ns': '/',
            'message': 'bad token',
            'data': {'token': 'wrong'},
        }
    ]
    assert of(events, event='connect') == [{'event': 'connect', 'client': 'a', 'ns': '/'}]
    assert of(events, event='ack')[0]['args'][0]['name'] == me + '-a'
    refused = server.wait_for_event(event='refused', auth={'token': 'wrong', 'name': me + '-x'})
    assert refused['ns'] == '/'
    connected = server.wait_for_event(event='connect', name=me + '-a')
    assert connected['auth'] == auth and connected['ns'] == '/'
    # the refused client never had a session to disconnect
    server.wait_for_event(event='disconnect', name=me + '-a')
    assert not of(server.events, event='connect', name=me + '-x')


def test_emit_with_ack_and_binary_attachments(server, client, transport):
    """Acks carry several arguments, binary attachments travel both ways, nested."""
    me = tag()
    text_args = ['hi', 42, 1.5, True, None, {'k': [1, 2, {'deep': 'é✓'}]}, []]
    binary_args = [binary(BLOB), {'nested': [binary(b'\x00\xff'), 'text', binary(b'')]}]
    steps = [
        {'op': 'connect', 'auth': {'token': 'secret', 'name': me}},
        {'op': 'emit', 'event': 'echo', 'args': text_args, 'ack': True},
        {'op': 'emit', 'event': 'echo', 'args': binary_args, 'ack': True},
        {'op': 'emit', 'event': 'bin_push', 'ack': True},
        {'op': 'wait', 'event': 'bin'},
    ]
    if transport == 'upgrade':
        steps.append({'op': 'wait_upgrade'})
    steps += [{'op': 'emit', 'event': 'whoami', 'ack': True}, {'op': 'transport'}]
    events = run_client(client, scenario(server, transport, steps))

    acks = [e['args'] for e in of(events, event='ack')]
    assert acks == [
        text_args,
        binary_args,
        [binary(b'\x01\x02'), 'tail'],
        [{'name': me, 'transport': final_transport(transport)}],
    ]
    pushed = of(events, event='recv', name='bin')
    assert [e['args'] for e in pushed] == [
        [
            {
                'raw': binary(bytes(range(256))),
                'nested': [binary(b'\x00\xff'), {'deep': binary(b'x')}],
                'text': 'ok',
            }
        ]
    ]
    assert of(events, event='transport')[0]['name'] == final_transport(transport)


def test_rooms_and_broadcast_reach_exactly_the_intended_clients(server, client, transport):
    """Room and broadcast emits reach each intended client once, per namespace, nobody else."""
    me = tag()

    def connect(name: str, namespaces: list[str]) -> dict:
        auth = {'token': 'secret', 'name': '%s-%s' % (me, name)}
        return {'op': 'connect', 'client': name, 'namespaces': namespaces, 'auth': auth}

    def emit(name: str, event: str, *args, ns: str = '/') -> dict:
        return {
            'op': 'emit',
            'client': name,
            'ns': ns,
            'event': event,
            'args': list(args),
            'ack': True,
        }

    def wait(name: str, event: str, count: int, ns: str = '/') -> dict:
        return {'op': 'wait', 'client': name, 'ns': ns, 'event': event, 'count': count}

    steps = [
        connect('a', ['/', '/chat']),
        connect('b', ['/', '/chat']),
        connect('c', ['/']),
        emit('a', 'join', 'r1'),
        emit('b', 'join', 'r1'),
        emit('c', 'join', 'r2'),
        emit('b', 'join', 'r1', ns='/chat'),
        # to a room: the sender is in it, c is not
        emit('a', 'to_room', 'r1', 'p1'),
        wait('a', 'room_msg', 1),
        wait('b', 'room_msg', 1),
        # skip_sid: the sender is left out
        emit('b', 'to_room', 'r1', 'p2', True),
        wait('a', 'room_msg', 2),
        # the same room name in /chat holds only b
        emit('a', 'to_room', 'r1', 'chat-p', ns='/chat'),
        wait('b', 'room_msg', 1, ns='/chat'),
        # a broadcast reaches everybody in the namespace
        emit('c', 'broadcast', 'all'),
        wait('a', 'bcast', 1),
        wait('b', 'bcast', 1),
        wait('c', 'bcast', 1),
        emit('a', 'broadcast', 'chat-all', True, ns='/chat'),
        wait('b', 'bcast', 1, ns='/chat'),
        # after leaving, a no longer gets r1's messages
        emit('a', 'leave', 'r1'),
        emit('a', 'rooms'),
        emit('b', 'rooms'),
        emit('b', 'to_room', 'r1', 'after-leave'),
        wait('b', 'room_msg', 2),
        emit('c', 'to_room', 'r2', 'c-only'),
        wait('c', 'room_msg', 1),
        # late or duplicated deliveries would arrive meanwhile
        {'op': 'sleep', 'ms': 300},
    ]
    events = run_client(client, scenario(server, transport, steps), timeout=40)

    def got(name: str, event: str, ns: str = '/') -> list:
        return [e['args'] for e in of(events, event='recv', client=name, ns=ns, name=event)]

    def msg(sender: str, room: str, payload: str) -> list:
        return [{'from': '%s-%s' % (me, sender), 'room': room, 'payload': payload}]

    assert got('a', 'room_msg') == [msg('a', 'r1', 'p1'), msg('b', 'r1', 'p2')]
    assert got('b', 'room_msg') == [msg('a', 'r1', 'p1'), msg('b', 'r1', 'after-leave')]
    assert got('c', 'room_msg') == [msg('c', 'r2', 'c-only')]
    assert got('b', 'room_msg', '/chat') == [msg('a', 'r1', 'chat-p')]
    assert got('a', 'room_msg', '/chat') == []
    everyone = [[{'from': me + '-c', 'payload': 'all'}]]
    assert got('a', 'bcast') == got('b', 'bcast') == got('c', 'bcast') == everyone
    assert got('b', 'bcast', '/chat') == [[{'from': me + '-a', 'payload': 'chat-all'}]]
    assert got('a', 'bcast', '/chat') == []
    rooms = [e['args'] for e in of(events, event='ack', name='rooms')]
    assert rooms == [[[]], [['r1']]]
    assert not of(events, event='connect_error')


def test_binary_broadcast_to_clients_on_different_transports(server, client):
    """One broadcast Packet with attachments (C-07) reaches polling and WebSocket clients alike."""
    me = tag()
    payload = {
        'text': 'mixed',
        'blob': binary(BLOB),
        'parts': [binary(b'\x00'), binary(b'\xfe\xff')],
    }
    steps = []
    for name, transport in (('p', 'polling'), ('w', 'websocket'), ('u', 'upgrade')):
        auth = {'token': 'secret', 'name': '%s-%s' % (me, name)}
        steps.append(
            {'op': 'connect', 'client': name, 'auth': auth, 'transports': TRANSPORTS[transport]}
        )
    steps += [
        {'op': 'wait_upgrade', 'client': 'u'},
        {'op': 'emit', 'client': 'w', 'event': 'join', 'args': ['bin-room'], 'ack': True},
        {'op': 'emit', 'client': 'p', 'event': 'join', 'args': ['bin-room'], 'ack': True},
        {'op': 'emit', 'client': 'u', 'event': 'broadcast', 'args': [payload], 'ack': True},
        {
            'op': 'emit',
            'client': 'u',
            'event': 'to_room',
            'args': ['bin-room', payload],
            'ack': True,
        },
    ]
    steps += [{'op': 'wait', 'client': name, 'event': 'bcast'} for name in 'pwu']
    steps += [{'op': 'wait', 'client': name, 'event': 'room_msg'} for name in 'pw']
    steps.append({'op': 'sleep', 'ms': 300})
    events = run_client(client, {'url': server.url, 'steps': steps})

    for name in 'pwu':
        received = of(events, event='recv', client=name, name='bcast')
        assert [e['args'] for e in received] == [[{'from': me + '-u', 'payload': payload}]], name
    for name in 'pw':
        received = of(events, event='recv', client=name, name='room_msg')
        expected = [[{'from': me + '-u', 'room': 'bin-room', 'payload': payload}]]
        assert [e['args'] for e in received] == expected, name
    assert not of(events, event='recv', client='u', name='room_msg')


def test_namespace_chat_alone(server, client, transport):
    """A connection to /chat only: the server sees that namespace, events and acks work there."""
    me = tag()
    steps = [
        {'op': 'connect', 'namespaces': ['/chat'], 'auth': {'token': 'secret', 'name': me}},
        {
            'op': 'emit',
            'ns': '/chat',
            'event': 'echo',
            'args': ['in chat', binary(b'\x07')],
            'ack': True,
        },
        {'op': 'emit', 'ns': '/chat', 'event': 'rooms', 'ack': True},
    ]
    events = run_client(client, scenario(server, transport, steps))

    assert of(events, event='connect') == [{'event': 'connect', 'client': 'a', 'ns': '/chat'}]
    assert [(e['ns'], e['args']) for e in of(events, event='ack')] == [
        ('/chat', ['in chat', binary(b'\x07')]),
        ('/chat', [[]]),
    ]
    assert server.wait_for_event(event='connect', name=me)['ns'] == '/chat'
    assert server.wait_for_event(event='disconnect', name=me)['ns'] == '/chat'
    assert not of(server.events, event='connect', name=me, ns='/')


def test_sessions_are_kept_per_namespace(server, client):
    """save_session / get_session (stored in the Engine.IO session, C-07), one per namespace."""
    me = tag()

    def emit(event: str, *args, ns: str) -> dict:
        return {'op': 'emit', 'ns': ns, 'event': event, 'args': list(args), 'ack': True}

    steps = [
        {'op': 'connect', 'namespaces': ['/', '/chat'], 'auth': {'token': 'secret', 'name': me}},
        emit('recall', ns='/'),
        emit('remember', {'main': [1, 2]}, ns='/'),
        emit('remember', 'chat value', ns='/chat'),
        emit('recall', ns='/'),
        emit('recall', ns='/chat'),
    ]
    events = run_client(client, {'url': server.url, 'steps': steps})

    assert [(e['ns'], e['args']) for e in of(events, event='ack')] == [
        ('/', [{}]),
        ('/', ['saved']),
        ('/chat', ['saved']),
        ('/', [{'value': {'main': [1, 2]}}]),
        ('/chat', [{'value': 'chat value'}]),
    ]


def test_disconnect_reasons_on_both_sides(server, client, transport):
    """Server-initiated and client-initiated disconnects report their reasons on both sides."""
    me = tag()
    reasons = CLIENT_REASONS[client]
    steps = [
        {
            'op': 'connect',
            'client': 'a',
            'namespaces': ['/', '/chat'],
            'auth': {'token': 'secret', 'name': me + '-a'},
        },
        {'op': 'connect', 'client': 'b', 'auth': {'token': 'secret', 'name': me + '-b'}},
        # the server kicks a out of /chat only: a's / keeps working
        {'op': 'emit', 'client': 'a', 'ns': '/chat', 'event': 'kick'},
        {'op': 'wait_disconnect', 'client': 'a', 'ns': '/chat'},
        {'op': 'emit', 'client': 'a', 'event': 'echo', 'args': ['still here'], 'ack': True},
        # b's only namespace: the whole connection goes
        {'op': 'emit', 'client': 'b', 'event': 'kick'},
        {'op': 'wait_disconnect', 'client': 'b'},
        {'op': 'disconnect', 'client': 'a'},
    ]
    events = run_client(client, scenario(server, transport, steps))

    assert [(e['client'], e['ns'], e['reason']) for e in of(events, event='disconnect')] == [
        ('a', '/chat', reasons['server']),
        ('b', '/', reasons['server']),
        ('a', '/', reasons['client']),
    ]
    assert of(events, event='ack')[0]['args'] == ['still here']
    assert server.wait_for_event(event='disconnect', name=me + '-a', ns='/chat')['reason'] == (
        'server disconnect'
    )
    assert server.wait_for_event(event='disconnect', name=me + '-a', ns='/')['reason'] == (
        'client disconnect'
    )
    kicked = of(server.events, event='disconnect', name=me + '-b')
    if server.mode == 'flask':
        # python-socketio sends DISCONNECT before it runs the handler, on its own
        # event thread; when the client's close arrives first, python-socketio
        # forgets the environ and Flask-SocketIO's _handle_event then drops the
        # disconnect event ("no record of this client").  At most one, and right.
        assert [e['reason'] for e in kicked] in ([], ['server disconnect'])
    else:
        server.wait_for_event(event='disconnect', name=me + '-b', ns='/')
        kicked = of(server.events, event='disconnect', name=me + '-b')
        assert [e['reason'] for e in kicked] == ['server disconnect']


def test_server_logged_no_traceback(server):
    """Runs last for each server: nothing above made the server log an exception."""
    assert 'Traceback' not in server.stderr, server.stderr
