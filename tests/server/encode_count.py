"""Count message encodings of one broadcast to three sessions (F-03).

Run by tests/server/test_send_features.py in its own process, because it
calls ``engineio_fast.install()``.  Three polling sessions are opened by
calling the WSGI application directly; python-socketio then emits to a room
holding all three, and ``send_packet_to_many`` sends one packet to them.
Prints ``room-emit <n> send_packet_to_many <n>``: the number of
``encode_packet`` calls for MESSAGE packets while sending and polling.
"""

import io

import engineio_fast

engineio_fast.install()

import socketio  # noqa: E402

from engineio_fast import _codec, packet  # noqa: E402
from engineio_fast._constants import MESSAGE  # noqa: E402

SEP = '\x1e'


def request(app, method: str, query: str, body: bytes = b'') -> str:
    """One request through the WSGI app; the response body as text."""
    environ = {
        'REQUEST_METHOD': method,
        'PATH_INFO': '/socket.io/',
        'QUERY_STRING': query,
        'CONTENT_LENGTH': str(len(body)),
        'CONTENT_TYPE': 'text/plain;charset=UTF-8',
        'wsgi.input': io.BytesIO(body),
        'wsgi.url_scheme': 'http',
        'SERVER_NAME': '127.0.0.1',
        'SERVER_PORT': '80',
        'REMOTE_ADDR': '127.0.0.1',
    }
    status = []
    body = b''.join(app(environ, lambda s, h: status.append(s)))
    assert status[0].startswith('200'), (status, body)
    return body.decode()


def count_message_encodes(action) -> int:
    calls = []
    original = _codec.encode_packet

    def counting(packet_type, *args):
        if packet_type == MESSAGE:
            calls.append(packet_type)
        return original(packet_type, *args)

    _codec.encode_packet = counting
    try:
        action()
    finally:
        _codec.encode_packet = original
    return len(calls)


sio = socketio.Server(async_mode='threading', async_handlers=False)
app = socketio.WSGIApp(sio)


@sio.on('connect')
def on_connect(sid, environ):
    sio.enter_room(sid, 'all')


sids = []
for _ in range(3):
    opened = request(app, 'GET', 'EIO=4&transport=polling')
    sid = opened.split('"sid":"')[1].split('"')[0]
    request(app, 'POST', 'EIO=4&transport=polling&sid=' + sid, b'40')
    request(app, 'GET', 'EIO=4&transport=polling&sid=' + sid)  # the CONNECT answer
    sids.append(sid)


def poll_all(expected: str) -> None:
    for sid in sids:
        body = request(app, 'GET', 'EIO=4&transport=polling&sid=' + sid)
        assert expected in body.split(SEP), body


def room_emit():
    sio.emit('news', 'hello', to='all')
    poll_all('42["news","hello"]')


def send_to_many():
    sio.eio.send_packet_to_many(sids, packet.Packet(MESSAGE, 'raw'))
    poll_all('4raw')


print('room-emit', count_message_encodes(room_emit))
print('send_packet_to_many', count_message_encodes(send_to_many))
