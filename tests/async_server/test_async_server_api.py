"""AsyncServer's public API in-process (A-01, A-02, S-13, S-14, S-17, S-33).

Protocol behaviour over real sockets is in tests/server (every test there
runs on the async modes too); here are the coroutine methods and factories
that need no network, plus a handshake made by calling the ASGI app directly.
"""

from __future__ import annotations

import asyncio
import gc
import json
import weakref

import pytest

import engineio_fast
from engineio_fast import AsyncServer, Server


def run(coro, timeout: float = 5.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def asgi_request(
    eio: AsyncServer,
    scheme: str = 'http',
    headers: list | None = None,
    sid: str | None = None,
    body: bytes | None = None,
) -> tuple[int, bytes]:
    """A polling request through the ASGI app (a handshake, or a POST of ``body``
    to ``sid``); its status and body."""
    sent: list[dict] = []

    async def receive():
        return {'type': 'http.request', 'body': body or b'', 'more_body': False}

    async def send(message):
        sent.append(message)

    query = b'EIO=4&transport=polling' + (b'&sid=' + sid.encode() if sid else b'')
    scope = {
        'type': 'http',
        'method': 'GET' if body is None else 'POST',
        'path': '/engine.io/',
        'query_string': query,
        'headers': (headers or [])
        + ([] if body is None else [(b'content-length', b'%d' % len(body))]),
        'client': ('127.0.0.9', 4321),
        'scheme': scheme,
    }
    await engineio_fast.ASGIApp(eio)(scope, receive, send)
    return sent[0]['status'], sent[1]['body']


async def asgi_handshake(eio: AsyncServer) -> str:
    """A successful polling handshake through the ASGI app; the new sid."""
    status, body = await asgi_request(eio)
    assert status == 200
    return json.loads(body[1:])['sid']


def test_async_mode_selection_follows_upstream_order():
    """A-01: aiohttp → sanic → tornado → asgi; a sync mode is refused."""
    assert AsyncServer().async_mode == 'aiohttp'
    assert AsyncServer(async_mode='asgi').async_mode == 'asgi'
    with pytest.raises(ValueError, match='^Invalid async_mode specified$'):
        AsyncServer(async_mode='threading')
    with pytest.raises(ValueError, match='^Invalid async_mode specified$'):
        AsyncServer(async_mode='bogus')


def test_attach_needs_a_routing_framework():
    """A-02: ``attach`` exists for aiohttp and sanic; other modes raise KeyError."""
    with pytest.raises(KeyError, match='create_route'):
        AsyncServer(async_mode='asgi').attach(object())


def test_reasons_match_the_sync_server():
    """S-40: the same reason strings on both servers."""
    for name in ('SERVER_DISCONNECT', 'CLIENT_DISCONNECT', 'PING_TIMEOUT', 'TRANSPORT_CLOSE'):
        assert getattr(AsyncServer.reason, name) == getattr(Server.reason, name)


def test_disconnect_without_clients_returns_cleanly():
    """S-14: no sessions, or an unknown sid, is a no-op (python-engineio raises ValueError)."""
    eio = AsyncServer(async_mode='asgi')
    assert run(eio.disconnect()) is None
    assert run(eio.disconnect('unknown')) is None


def test_factories_and_background_tasks_are_asyncio():
    """A-01: tasks, queues and events are asyncio objects; ``sleep`` is a coroutine."""
    eio = AsyncServer(async_mode='asgi')
    assert isinstance(eio.create_queue(), asyncio.Queue)
    assert eio.get_queue_empty_exception() is asyncio.QueueEmpty
    assert isinstance(eio.create_event(), asyncio.Event)

    async def scenario():
        async def work(a, b=0):
            await eio.sleep(0)
            return a + b

        task = eio.start_background_task(work, 1, b=2)
        assert isinstance(task, asyncio.Task)
        return await task

    assert run(scenario()) == 3


def test_shutdown_is_idempotent():
    """S-17: ``shutdown`` twice is fine."""
    eio = AsyncServer(async_mode='asgi')

    async def scenario():
        await eio.shutdown()
        await eio.shutdown()

    run(scenario())


def test_session_methods_and_context_manager():
    """S-13, A-01: get/save session and ``async with session(sid)`` saving on exit."""
    eio = AsyncServer(async_mode='asgi')

    async def scenario():
        sid = await asgi_handshake(eio)
        assert await eio.get_session(sid) == {}
        await eio.save_session(sid, {'a': 1})
        async with eio.session(sid) as session:
            session['b'] = 2
        assert await eio.get_session(sid) == {'a': 1, 'b': 2}
        with pytest.raises(KeyError):
            await eio.get_session('unknown')
        await eio.disconnect(sid)
        with pytest.raises(KeyError):
            await eio.get_session(sid)
        await eio.shutdown()

    run(scenario())


def test_sync_and_async_handlers_both_run_and_connect_gets_the_peer():
    """S-30, S-33, A-13: plain and coroutine handlers; the environ has the ASGI client."""
    eio = AsyncServer(async_mode='asgi')
    seen = []

    @eio.on('connect')
    async def connect(sid, environ):
        seen.append(('connect', environ['REMOTE_ADDR'], environ['REMOTE_PORT']))

    @eio.on('disconnect')
    def disconnect(sid):  # legacy signature, no reason
        seen.append(('disconnect', sid))

    async def scenario():
        sid = await asgi_handshake(eio)
        await eio.disconnect(sid)
        await eio.shutdown()
        return sid

    sid = run(scenario())
    assert seen == [('connect', '127.0.0.9', '4321'), ('disconnect', sid)]


def test_refusing_connect_handler_answers_401_without_disconnect():
    """S-31: an async handler returning False refuses; no disconnect event follows."""
    eio = AsyncServer(async_mode='asgi')
    events = []

    async def connect(sid, environ):
        return False

    eio.on('connect', connect)
    eio.on('disconnect', lambda sid, reason: events.append(reason))

    async def scenario():
        assert await asgi_request(eio) == (401, b'"Unauthorized"')
        await eio.shutdown()

    run(scenario())
    assert events == []
    assert eio.clients_count == 0


def test_send_to_unknown_sid_is_dropped_with_a_warning(caplog):
    """S-11: an unknown sid logs a warning and raises nothing."""
    eio = AsyncServer(async_mode='asgi', logger=False)
    with caplog.at_level('WARNING', logger='engineio.server'):
        run(eio.send('nope', 'hello'))
    assert 'Cannot send to sid nope' in caplog.text


def test_same_origin_follows_the_asgi_scheme():
    """B-14, A-12: behind direct TLS (``scope['scheme'] == 'https'``) the page's own
    https origin is accepted and the http one refused, without X-Forwarded-Proto."""
    eio = AsyncServer(async_mode='asgi')
    host = [(b'host', b'chat.example')]

    async def scenario():
        secure = await asgi_request(eio, 'https', host + [(b'origin', b'https://chat.example')])
        plain = await asgi_request(eio, 'https', host + [(b'origin', b'http://chat.example')])
        await eio.disconnect()
        await eio.shutdown()
        return secure, plain

    secure, plain = run(scenario())
    assert secure[0] == 200
    assert plain == (400, b'"http://chat.example is not an accepted origin."')


def test_a_closed_session_is_freed_at_once():
    """B-18: a session the client closes (a CLOSE packet POSTed) has its ping timer
    cancelled on the event loop, so the loop's timer heap does not keep it alive
    until ping_interval."""

    async def scenario():
        eio = AsyncServer(async_mode='asgi')
        sid = await asgi_handshake(eio)
        freed = weakref.ref(eio.sockets[sid])
        assert await asgi_request(eio, sid=sid, body=b'1') == (200, b'ok')
        gc.collect()
        assert sid not in eio.sockets
        assert freed() is None
        await eio.shutdown()

    run(scenario())
