"""python-socketio servers built with ``json=engineio_fast.json_fast`` (F-13).

The server (tests/compat/sio_app.py ``--json="json_fast"``) encodes and
decodes every Socket.IO packet through json_fast; clients echo values whose
text orjson alone would get wrong (non-ASCII, DEL, small floats, integers
beyond 64 bits, NaN) and check they come back unchanged.
"""

from __future__ import annotations

import pytest
from sio_harness import of, run_client, start_server, tag

# What orjson writes differently from the stdlib, plus plain values.
TRICKY = {
    'text': 'héllo ✓ 😀 \x7f "quoted" \\ /',
    'small': [1e-05, 1e-07, 2.5e-09],
    'big': 2**70,
    'neg': -9223372036854775809,
    'plain': [1, 1.5, True, None, 'ascii'],
}
# JavaScript numbers cannot carry the big integers: the node client gets the rest.
NODE_SAFE = {key: value for key, value in TRICKY.items() if key not in ('big', 'neg')}


@pytest.fixture(scope='module', params=['asgi', 'threading'])
def server(request):
    process = start_server(request.param, json='json_fast')
    yield process
    process.stop()


@pytest.mark.parametrize(
    ('client', 'payload'), [('sync', TRICKY), ('async', TRICKY), ('node', NODE_SAFE)]
)
def test_echo_through_json_fast(server, client, payload):
    """F-13: acks and broadcasts round-trip through a json_fast server unchanged."""
    startup = server.wait_for_event(event='startup', timeout=10)
    assert startup['json'] == ['engineio_fast.json_fast', 'engineio_fast.json_fast']
    me = tag()
    steps = [
        {'op': 'connect', 'auth': {'token': 'secret', 'name': me}, 'transports': ['websocket']},
        {'op': 'emit', 'event': 'echo', 'args': ['chat', payload], 'ack': True},
        {'op': 'emit', 'event': 'broadcast', 'args': [payload], 'ack': True},
        {'op': 'wait', 'event': 'bcast'},
        {'op': 'disconnect'},
    ]
    events = run_client(client, {'url': server.url, 'steps': steps})
    assert [e['args'] for e in of(events, event='ack')] == [['chat', payload], ['sent']]
    assert of(events, event='recv', name='bcast')[0]['args'] == [{'from': me, 'payload': payload}]
