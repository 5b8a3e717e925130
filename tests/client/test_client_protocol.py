"""The sans-IO client core (``engineio_fast._protocol.client``): no sockets, no clock.

CL-02 URLs and transports, CL-03 handshake checks and messages, CL-08 timeouts
and POST batching, K-14 unencodable text.
"""

from __future__ import annotations

import pytest

from engineio_fast import packet
from engineio_fast._protocol import client as protocol
from engineio_fast.exceptions import ConnectionError
from engineio_fast.payload import Payload


@pytest.mark.parametrize(
    'url, path, transport, expected',
    [
        ('http://h:1', 'engine.io', 'polling', 'http://h:1/engine.io/?transport=polling&EIO=4'),
        ('http://h:1', '/socket.io/', 'websocket', 'ws://h:1/socket.io/?transport=websocket&EIO=4'),
        ('https://h', 'engine.io', 'polling', 'https://h/engine.io/?transport=polling&EIO=4'),
        ('https://h', 'engine.io', 'websocket', 'wss://h/engine.io/?transport=websocket&EIO=4'),
        ('wss://h', 'engine.io', 'polling', 'https://h/engine.io/?transport=polling&EIO=4'),
        ('ws://h', 'engine.io', 'polling', 'http://h/engine.io/?transport=polling&EIO=4'),
        (
            'http://h/?a=1&b=2',
            'a/b',
            'polling',
            'http://h/a/b/?a=1&b=2&transport=polling&EIO=4',
        ),
    ],
)
def test_engineio_url(url, path, transport, expected):
    """CL-02: scheme per transport and TLS, path stripped of slashes, query kept first."""
    assert protocol.engineio_url(url, path, transport) == expected


@pytest.mark.parametrize(
    'given, expected',
    [
        (None, ['polling', 'websocket']),
        ('websocket', ['websocket']),
        (['websocket', 'polling'], ['websocket', 'polling']),
        (['carrier-pigeon', 'polling'], ['polling']),
    ],
)
def test_select_transports(given, expected):
    """CL-02: the first valid transport decides how the client starts."""
    assert protocol.select_transports(given) == expected


@pytest.mark.parametrize('given', [[], ['carrier-pigeon'], 'smoke-signal'])
def test_select_transports_refuses_none_valid(given):
    """CL-02: no valid transport -> ValueError('No valid transports provided')."""
    with pytest.raises(ValueError, match='^No valid transports provided$'):
        protocol.select_transports(given)


def open_packet(**data):
    return packet.Packet(packet.OPEN, data)


def test_parse_open_converts_milliseconds():
    """CL-04: ping values in seconds (sub-second kept), maxPayload optional."""
    handshake = protocol.parse_open(
        open_packet(
            sid='abc', upgrades=['websocket'], pingInterval=300, pingTimeout=200, maxPayload=1000
        )
    )
    assert handshake == protocol.Handshake('abc', ['websocket'], 0.3, 0.2, 1000)
    bare = protocol.parse_open(open_packet(sid='abc', pingInterval=25000, pingTimeout=20000))
    assert bare == protocol.Handshake('abc', [], 25.0, 20.0, None)


@pytest.mark.parametrize(
    'data',
    [
        {'upgrades': [], 'pingInterval': 1, 'pingTimeout': 1},
        {'sid': '', 'pingInterval': 1, 'pingTimeout': 1},
        {'sid': 5, 'pingInterval': 1, 'pingTimeout': 1},
        {'sid': 'a', 'pingTimeout': 1},
        {'sid': 'a', 'pingInterval': True, 'pingTimeout': 1},
        {'sid': 'a', 'pingInterval': -1, 'pingTimeout': 1},
        {'sid': 'a', 'pingInterval': 1, 'pingTimeout': '1'},
        {'sid': 'a', 'pingInterval': 1, 'pingTimeout': 1, 'upgrades': [1]},
        {'sid': 'a', 'pingInterval': 1, 'pingTimeout': 1, 'maxPayload': 0},
    ],
)
def test_parse_open_refuses_malformed(data):
    """CL-03: a malformed OPEN is an unexpected response, not a KeyError."""
    with pytest.raises(ConnectionError) as error:
        protocol.parse_open(open_packet(**data))
    assert error.value.args == ('Unexpected response from server',)


def test_parse_open_refuses_other_packets():
    """CL-03, C-07: a first packet that is not OPEN raises python-engineio's message for
    its transport."""
    with pytest.raises(ConnectionError, match='^Unexpected response from server$'):
        protocol.parse_open(packet.Packet(packet.MESSAGE, {'sid': 'a'}))
    body = b'4{"sid":"a"}'
    with pytest.raises(ConnectionError, match='^OPEN packet not returned by server$'):
        protocol.parse_polling_handshake(protocol.HttpResult(200, body))
    with pytest.raises(ConnectionError, match='^no OPEN packet$'):
        protocol.parse_open_frame('4hello')


def test_polling_handshake_keeps_queued_packets():
    """P-09: packets after OPEN in the first answer are handed over in order."""
    body = b'0{"sid":"s","upgrades":[],"pingInterval":1000,"pingTimeout":500}\x1e4hi\x1ebAQI='
    handshake, queued = protocol.parse_polling_handshake(protocol.HttpResult(200, body))
    assert handshake.sid == 's'
    assert [(p.packet_type, p.data) for p in queued] == [
        (packet.MESSAGE, 'hi'),
        (packet.MESSAGE, b'\x01\x02'),
    ]


def test_polling_handshake_status_error_carries_json_body():
    """CL-03: args[1] is the parsed body, or None when it is not JSON."""
    with pytest.raises(ConnectionError) as error:
        protocol.parse_polling_handshake(protocol.HttpResult(400, b'"Bad Request"'))
    assert error.value.args == ('Unexpected status code 400 in server response', 'Bad Request')
    with pytest.raises(ConnectionError) as error:
        protocol.parse_polling_handshake(protocol.HttpResult(502, b'<html>'))
    assert error.value.args == ('Unexpected status code 502 in server response', None)


@pytest.mark.parametrize('body', [b'', b'[' * 100_000, b'not json', b'\xff'])
def test_error_body_never_raises(body):
    """CL-03: empty, deeply nested, non-JSON or non-UTF-8 bodies give None."""
    assert protocol.error_body(body) is None


@pytest.mark.parametrize('frame', [None, '', b'0{}', '0nope', '0{"sid":"a"}'])
def test_parse_open_frame_refuses_non_open(frame):
    """CL-03: a WebSocket that does not start with a valid OPEN is an unexpected response."""
    with pytest.raises(ConnectionError, match='^Unexpected response from server$'):
        protocol.parse_open_frame(frame)


def test_probe_and_pong():
    """CL-02, CL-08: upgrade probe texts; a ping is answered with its own data."""
    assert protocol.PROBE == '2probe'
    assert protocol.UPGRADE_PACKET == '5'
    assert protocol.is_probe_reply('3probe')
    assert not protocol.is_probe_reply('3')
    assert not protocol.is_probe_reply(None)
    pong = protocol.pong_for(packet.Packet(packet.PING, 'data'))
    assert pong.encode() == '3data'


def test_timeouts():
    """CL-08: GET/idle wait max(interval, timeout) + 5; WebSocket silence interval + timeout."""
    assert protocol.poll_timeout(25, 20) == 30
    assert protocol.poll_timeout(0.2, 0.4) == pytest.approx(5.4)
    assert protocol.websocket_read_timeout(25, 20) == 45


def test_decode_poll_accepts_up_to_max_decode_packets():
    """B-10: Payload.max_decode_packets bounds a poll answer, not 16."""
    limit = Payload.max_decode_packets
    assert len(protocol.decode_poll(b'\x1e'.join([b'4x'] * limit))) == limit
    with pytest.raises(ValueError):
        protocol.decode_poll(b'\x1e'.join([b'4x'] * (limit + 1)))


def test_polling_bodies_split_on_max_payload():
    """CL-08: bodies stay within maxPayload bytes, separators and UTF-8 counted."""
    texts = ['4' + 'é' * 10] * 5  # 21 bytes each
    bodies, dropped = protocol.polling_bodies(texts, 45, None)
    assert dropped == []
    assert all(len(body) <= 45 for body in bodies)
    assert [len(body) for body in bodies] == [43, 43, 21]
    assert b'\x1e'.join(bodies).split(b'\x1e') == [t.encode() for t in texts]


def test_polling_bodies_split_on_packet_count():
    """CL-08: no body has more packets than the given count."""
    bodies, _ = protocol.polling_bodies(['4a'] * 5, None, 2)
    assert bodies == [b'4a\x1e4a', b'4a\x1e4a', b'4a']


def test_polling_bodies_oversized_packet_goes_alone():
    """CL-08: one packet over maxPayload is still sent, alone."""
    bodies, _ = protocol.polling_bodies(['4a', '4' + 'x' * 50, '4b'], 10, None)
    assert bodies == [b'4a', b'4' + b'x' * 50, b'4b']


def test_polling_bodies_drop_lone_surrogates():
    """K-14: a text that cannot be UTF-8 encoded is dropped; the rest still goes."""
    bodies, dropped = protocol.polling_bodies(['4ok', '4\ud800', '4fine'], None, None)
    assert bodies == [b'4ok\x1e4fine']
    assert dropped == ['4\ud800']


def test_polling_bodies_empty():
    """CL-08: nothing queued, nothing to POST."""
    assert protocol.polling_bodies([], 100, 10) == ([], [])
