"""Server API surface without a network: constructor, registration, constants, sessions."""

from __future__ import annotations

import base64
import gc
import io
import logging
import re
import weakref
from types import SimpleNamespace

import pytest

import engineio_fast
from engineio_fast import base_server, packet, socket
from engineio_fast import json as safe_json
from engineio_fast.server import Server


@pytest.fixture
def server():
    eio = Server(async_mode='threading')
    yield eio
    eio.shutdown()


def test_unknown_keyword_arguments_are_ignored():
    """C-04: python-socketio forwards Flask-SocketIO options such as message_queue."""
    eio = Server(async_mode='threading', message_queue='redis://', channel='x')
    assert eio.async_mode == 'threading'


def test_invalid_async_mode_raises_value_error():
    """S-01: unknown or asyncio modes are refused with upstream's message."""
    with pytest.raises(ValueError, match='^Invalid async_mode specified$'):
        Server(async_mode='bogus')
    with pytest.raises(ValueError, match='^Invalid async_mode specified$'):
        Server(async_mode='asgi')


def test_default_async_mode_follows_upstream_order():
    """S-01: eventlet first when it is installed (it is, for the tests)."""
    assert Server().async_mode == 'eventlet'


def test_transports_are_filtered_and_validated():
    """S-01: a string or list; invalid names dropped; none left is an error."""
    assert Server(async_mode='threading', transports='websocket').transports == ['websocket']
    assert Server(async_mode='threading', transports=['polling', 'x']).transports == ['polling']
    assert Server(async_mode='threading').transports == ['polling', 'websocket']
    with pytest.raises(ValueError, match='^No valid transports provided$'):
        Server(async_mode='threading', transports=['x'])


def test_ping_interval_tuple_sets_grace_period():
    """S-01, P-07: (interval, grace) keeps both, the grace only advertised."""
    eio = Server(async_mode='threading', ping_interval=(0.3, 5))
    assert (eio.ping_interval, eio.ping_interval_grace_period) == (0.3, 5)


def test_constants_match_upstream():
    """C-09, S-40: constants and reasons python-socketio reads."""
    assert Server.compression_methods == ['gzip', 'deflate']
    assert Server.event_names[:3] == ['connect', 'disconnect', 'message']
    assert Server.valid_transports == ['polling', 'websocket']
    assert socket.Socket.upgrade_protocols == ['websocket']
    reasons = Server.reason
    assert (
        reasons.SERVER_DISCONNECT,
        reasons.CLIENT_DISCONNECT,
        reasons.PING_TIMEOUT,
        reasons.TRANSPORT_CLOSE,
        reasons.TRANSPORT_ERROR,
    ) == (
        'server disconnect',
        'client disconnect',
        'ping timeout',
        'transport close',
        'transport error',
    )


def test_on_registers_in_call_and_decorator_form(server):
    """S-10: last registration wins; unknown events are refused."""

    def first(sid, data):
        return None

    server.on('message', first)
    assert server.handlers['message'] is first

    @server.on('message')
    def second(sid, data):
        return None

    assert server.handlers['message'] is second
    with pytest.raises(ValueError, match='^Invalid event$'):
        server.on('bogus', first)


def test_generate_id_is_20_url_safe_characters_with_a_counter(server):
    """P-08: 12 random bytes + a 3-byte counter, base64 with - and _."""
    first, second = server.generate_id(), server.generate_id()
    assert re.fullmatch(r'[A-Za-z0-9_-]{20}', first)
    counter = [
        int.from_bytes(base64.b64decode(s.replace('-', '+').replace('_', '/'))[12:], 'big')
        for s in (first, second)
    ]
    assert counter[1] == (counter[0] + 1) & 0xFFFFFF


def test_json_option_replaces_packet_json():
    """S-01, C-08: json may be a class with static dumps/loads, used for packets."""

    class Custom:
        @staticmethod
        def dumps(*args, **kwargs):
            return '"custom"'

        @staticmethod
        def loads(*args, **kwargs):
            return 'loaded'

    saved = packet.Packet.json
    try:
        Server(async_mode='threading', json=Custom)
        assert packet.Packet.json is Custom
        assert packet.Packet(packet.MESSAGE, {'a': 1}).encode() == '4"custom"'
    finally:
        packet.Packet.json = saved
    assert packet.Packet.json is safe_json


def test_logger_options():
    """S-01, C-05: False → engineio.server at ERROR; a Logger is used as given."""
    assert Server(async_mode='threading').logger.name == 'engineio.server'
    custom = logging.getLogger('custom.eio')
    assert Server(async_mode='threading', logger=custom).logger is custom


def test_sessions_store_and_context_manager(server):
    """S-13, S-15: get/save/session on an open session; KeyError when unknown."""
    sid = server.generate_id()
    server.sockets[sid] = socket.Socket(server, sid)
    server.save_session(sid, {'user': 'alice'})
    with server.session(sid) as session:
        session['n'] = 1
    assert server.get_session(sid) == {'user': 'alice', 'n': 1}
    assert server.transport(sid) == 'polling'
    with pytest.raises(KeyError):
        server.get_session('unknown')
    with pytest.raises(KeyError):
        server.transport('unknown')


def test_disconnect_is_a_no_op_without_sessions(server):
    """S-14: unknown sid or no sessions → nothing happens."""
    server.disconnect('unknown')
    server.disconnect()
    assert server.sockets == {}


def test_disconnect_handler_runs_once_with_legacy_signature(server):
    """S-33, B-16: a one-argument handler works; a TypeError inside it is not retried."""
    calls = []

    @server.on('disconnect')
    def legacy(sid):
        calls.append(sid)
        raise TypeError('inside the handler')

    sid = server.generate_id()
    server.sockets[sid] = socket.Socket(server, sid)
    server.disconnect(sid)
    server.disconnect(sid)
    assert calls == [sid]
    assert sid not in server.sockets


def test_send_to_unknown_sid_warns_and_drops(server, caplog):
    """S-11: no exception for an unknown or closed session."""
    with caplog.at_level(logging.WARNING, logger='engineio.server'):
        server.send('unknown', 'data')
    assert 'Cannot send to sid unknown' in caplog.text


def test_public_names():
    """C-01: the names that exist so far are exported."""
    assert engineio_fast.Server is Server
    assert engineio_fast.WSGIApp is engineio_fast.middleware.WSGIApp
    assert issubclass(engineio_fast.Middleware, engineio_fast.WSGIApp)
    assert engineio_fast.ENGINEIO_COMPAT_VERSION == '4.15.1'
    assert isinstance(engineio_fast.USE_EXTENSIONS, bool)


def test_a_closed_session_is_freed_at_once(server):
    """B-18: the heartbeat timer of a session the client closed is cancelled, so the
    session is not kept alive until its next ping (ping_interval) by the timer service."""
    sid = server.generate_id()
    session = socket.Socket(server, sid)
    server.sockets[sid] = session
    session.schedule_ping()
    freed = weakref.ref(session)
    session.close(wait=False, reason=server.reason.CLIENT_DISCONNECT)
    del session
    gc.collect()
    assert sid not in server.sockets
    assert freed() is None


def _wsgi(eio, method: str, query: str, body: bytes = b'') -> tuple:
    """One in-process WSGI request: ``(status, body)``."""
    started = []
    environ = {
        'REQUEST_METHOD': method,
        'PATH_INFO': '/engine.io/',
        'QUERY_STRING': query,
        'CONTENT_LENGTH': str(len(body)),
        'wsgi.input': io.BytesIO(body),
        'wsgi.url_scheme': 'http',
        'HTTP_HOST': 'localhost',
    }
    result = b''.join(eio.handle_request(environ, lambda s, h: started.append(s)))
    return started[0], result


def test_polling_session_works_while_packet_json_lacks_dumps_and_loads(server, monkeypatch):
    """Issue 15: like python-engineio, the server reads ``Packet.json`` only for JSON data.

    A ``Packet.json`` left unusable (python-socketio's suite leaves ``'foo'``)
    must not break str/bytes messages, pongs and binary POSTs.
    """
    received = []
    server.async_handlers = False  # delivered before the POST returns
    server.on('message', lambda sid, data: received.append(data))
    status, body = _wsgi(server, 'GET', 'EIO=4&transport=polling')
    assert status.startswith('200')
    sid = re.search(r'"sid":"([^"]+)"', body.decode()).group(1)
    monkeypatch.setattr(packet.Packet, 'json', 'foo')
    status, body = _wsgi(server, 'POST', 'EIO=4&transport=polling&sid=' + sid, b'4123\x1ebAQI=')
    assert (status[:3], body) == ('200', b'ok')
    assert received == ['123', b'\x01\x02']
    server.send(sid, 'text')
    server.send(sid, b'\x03')
    status, body = _wsgi(server, 'GET', 'EIO=4&transport=polling&sid=' + sid)
    assert (status[:3], body) == ('200', b'4text\x1ebAw==')


def test_recent_sids_are_taken_once_and_forgotten_after_their_lifetime():
    """P-27, B-18: the sids of client-closed sessions answer one late GET, then never again."""
    recent = base_server.RecentSids(60)
    recent.add('a')
    assert recent.take('a') is True
    assert recent.take('a') is False
    assert recent.take('unknown') is False
    expired = base_server.RecentSids(-1)  # every entry is past its lifetime at once
    for sid in ('b', 'c'):
        expired.add(sid)
    assert list(expired._added) == ['c']  # 'b' was forgotten when 'c' came
    assert expired.take('c') is False


def test_recent_sids_forget_every_expired_sid_at_the_next_add(monkeypatch):
    """B-18: however many sids outlived their lifetime, the next add forgets them, in order."""
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(base_server, 'time', SimpleNamespace(monotonic=lambda: clock.now))
    recent = base_server.RecentSids(0.5)
    for i in range(1000):  # a burst of closes
        clock.now = i / 100_000
        recent.add('s%d' % i)
    assert recent.take('s700') is True  # taken from the middle
    clock.now = 0.3
    recent.add('later')
    assert len(recent._added) == 1000  # nothing expired yet
    clock.now = 0.6
    recent.add('last')
    assert list(recent._added) == ['later', 'last']
    assert recent.take('s999') is False and recent.take('later') is True
