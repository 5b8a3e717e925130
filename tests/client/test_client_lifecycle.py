"""Client lifecycle and options: restart cycles, SIGINT, URLs, headers, sessions (CL-01..CL-10)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import aiohttp
import pytest
import requests
from client_harness import TIMEOUT, open_payload

import engineio_fast
from engineio_fast import base_client


def open_fds() -> int:
    return len(os.listdir('/proc/self/fd'))


# -- restartable, no leaks ---------------------------------------------------------------------------


@pytest.mark.parametrize('transports', [None, ['polling'], ['websocket']])
def test_100_connect_disconnect_cycles_leak_nothing(driver, server, transports):
    """CL-10: 100 cycles on one instance; threads, tasks and file descriptors stay level."""
    # One cycle first, so lazily created pools and loops are part of the baseline.
    driver.connect(server.url, transports=transports)
    driver.disconnect()
    threads = threading.active_count()
    tasks = len(driver.tasks()) if driver.kind == 'async' else 0
    fds = open_fds()
    for _ in range(100):
        driver.connect(server.url, transports=transports)
        assert driver.state == 'connected'
        driver.disconnect()
        assert driver.state == 'disconnected'
    assert threading.active_count() == threads
    if driver.kind == 'async':
        assert len(driver.tasks()) == tasks
    # A leak of one socket per cycle would show as 100.
    assert open_fds() <= fds + 5
    assert driver.client not in base_client.connected_clients
    assert [e[0] for e in driver.recorder.events].count('disconnect') == 101
    assert {e[1] for e in driver.recorder.named('disconnect')} == {'client disconnect'}


# -- SIGINT ------------------------------------------------------------------------------------------

SIGINT_SCRIPT = """
import asyncio, os, signal, sys, time
import engineio_fast

url, kind = sys.argv[1], sys.argv[2]


def report(*words):
    print(*words, flush=True)


if kind == 'sync':
    client = engineio_fast.Client()
    client.on('disconnect', lambda reason: report('disconnect', reason, client.state))
    client.connect(url)
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
        report('not interrupted')
    except KeyboardInterrupt:
        report('KeyboardInterrupt', client.state)
else:
    holder = []

    async def main():
        client = engineio_fast.AsyncClient()
        holder.append(client)

        async def on_disconnect(reason):
            report('disconnect', reason, client.state)

        client.on('disconnect', on_disconnect)
        await client.connect(url)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(5)
        report('not interrupted')

    try:
        asyncio.run(main())
    except BaseException as exc:
        report('ended', type(exc).__name__)
    report('state', holder[0].state)
"""


@pytest.mark.parametrize('kind', ['sync', 'async'])
def test_sigint_disconnects_then_chains(server, kind):
    """CL-09: SIGINT disconnects connected clients first (sync: then KeyboardInterrupt)."""
    proc = subprocess.run(
        [sys.executable, '-c', SIGINT_SCRIPT, server.url, kind],
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
    )
    lines = proc.stdout.splitlines()
    assert 'not interrupted' not in lines, proc.stderr
    assert lines[0] == 'disconnect client disconnect disconnecting', proc.stdout + proc.stderr
    if kind == 'sync':
        assert lines[1:] == ['KeyboardInterrupt disconnected']
    else:
        assert lines[1].startswith('ended ')
        assert lines[2:] == ['state disconnected']


# -- URLs, headers and options -----------------------------------------------------------------------


def polling_script(closed: threading.Event):
    """Handshake, then GETs held until the client's ``1`` arrives."""

    def script(request):
        if request.method == 'POST':
            if request.body.endswith(b'1'):
                closed.set()
            return (200, b'ok')
        if 'sid=' not in request.path:
            return (200, open_payload())
        closed.wait(TIMEOUT)
        return (200, b'6')

    return script


def test_request_urls_and_headers(driver, scripted):
    """CL-02: query string kept, custom path, transport/EIO/t/sid parameters, headers sent."""
    server = scripted(polling_script(threading.Event()))
    driver.connect(
        server.url + '/?token=abc',
        headers={'X-Test': 'yes'},
        engineio_path='/custom/path/',
    )
    driver.disconnect()
    handshake, *rest = server.requests
    assert handshake.method == 'GET'
    assert handshake.path.startswith('/custom/path/?token=abc&transport=polling&EIO=4&t=')
    assert handshake.headers['X-Test'] == 'yes'
    later = [request.path for request in rest]
    assert later and all(
        path.startswith('/custom/path/?token=abc&transport=polling&EIO=4&sid=scripted-sid')
        for path in later
    )
    posts = [request for request in rest if request.method == 'POST']
    assert posts[-1].body == b'1'
    assert posts[-1].headers['Content-Type'] == 'text/plain;charset=UTF-8'


def test_timestamp_requests_false(make_driver, scripted):
    """CL-01: timestamp_requests=False leaves out the t= parameter."""
    server = scripted(polling_script(threading.Event()))
    driver = make_driver(timestamp_requests=False)
    driver.connect(server.url)
    driver.disconnect()
    assert server.requests
    assert not [request for request in server.requests if '&t=' in request.path]


def test_websocket_extra_options_and_headers(make_driver, scripted, client_kind):
    """CL-07: extra WebSocket headers merge with connect() headers, on every connect."""
    server = scripted(lambda request: (400, b'"no"', 'application/json'))
    key = 'header' if client_kind == 'sync' else 'headers'
    options = {key: {'X-Extra': 'extra'}}
    driver = make_driver(websocket_extra_options=options)
    for _ in range(2):
        with pytest.raises(engineio_fast.exceptions.ConnectionError):
            driver.connect(server.url, transports=['websocket'], headers={'X-Test': 'yes'})
    assert len(server.requests) == 2
    for request in server.requests:
        assert request.headers['X-Extra'] == 'extra'
        assert request.headers['X-Test'] == 'yes'
    assert driver.client.websocket_extra_options == options


def test_session_cookies_and_cookie_header_reach_the_websocket(scripted):
    """CL-07: the requests session's cookies and a Cookie header go to the WebSocket."""
    server = scripted(lambda request: (400, b'"no"', 'application/json'))
    session = requests.Session()
    session.cookies.set('from_session', 'one')
    client = engineio_fast.Client(http_session=session, handle_sigint=False)
    with pytest.raises(engineio_fast.exceptions.ConnectionError):
        client.connect(server.url, transports=['websocket'], headers={'Cookie': 'from_header=two'})
    cookie = server.requests[0].headers['Cookie']
    assert 'from_session=one' in cookie
    assert 'from_header=two' in cookie


def test_basic_auth_goes_to_the_websocket(scripted):
    """CL-07: a session's basic auth becomes the WebSocket Authorization header."""
    server = scripted(lambda request: (400, b'"no"', 'application/json'))
    session = requests.Session()
    session.auth = ('user', 'secret')
    client = engineio_fast.Client(http_session=session, handle_sigint=False)
    with pytest.raises(engineio_fast.exceptions.ConnectionError):
        client.connect(server.url, transports=['websocket'])
    assert server.requests[0].headers['Authorization'] == 'Basic dXNlcjpzZWNyZXQ='


def test_non_basic_auth_is_refused(scripted):
    """CL-07: other authentication objects cannot be carried to the WebSocket."""
    server = scripted(lambda request: (400, b'"no"', 'application/json'))
    session = requests.Session()
    session.auth = requests.auth.HTTPDigestAuth('user', 'secret')
    client = engineio_fast.Client(http_session=session, handle_sigint=False)
    with pytest.raises(ValueError, match='^Only basic authentication is supported$'):
        client.connect(server.url, transports=['websocket'])
    assert server.requests == []


class CountingSession(requests.Session):
    closes = 0

    def close(self):
        type(self).closes += 1
        super().close()


def test_external_requests_session_is_kept(server):
    """CL-01: a session given by the caller is used and never closed by the client."""
    session = CountingSession()
    client = engineio_fast.Client(http_session=session, handle_sigint=False)
    before = CountingSession.closes
    client.connect(server.url, transports=['polling'])
    client.disconnect()
    assert client.http is session
    assert CountingSession.closes == before


def test_requests_session_factory_is_client_owned(server):
    """CL-01: a session factory is called lazily; its sessions are closed on reset."""
    made = []

    def factory():
        made.append(CountingSession())
        return made[-1]

    client = engineio_fast.Client(http_session=factory, handle_sigint=False)
    assert made == []
    before = CountingSession.closes
    client.connect(server.url, transports=['polling'])
    assert client.http is made[0]
    client.disconnect()
    assert client.http is None
    assert CountingSession.closes == before + 1


def test_aiohttp_sessions_external_and_awaitable_factory(server):
    """CL-01: an external ClientSession stays open; an awaitable factory's session is closed."""

    async def scenario():
        external = aiohttp.ClientSession()
        client = engineio_fast.AsyncClient(http_session=external, handle_sigint=False)
        await client.connect(server.url, transports=['polling'])
        await client.disconnect()
        assert client.http is external
        assert not external.closed
        await external.close()

        made = []

        async def factory():
            made.append(aiohttp.ClientSession())
            return made[-1]

        client = engineio_fast.AsyncClient(http_session=factory, handle_sigint=False)
        await client.connect(server.url)
        assert client.transport() == 'websocket'
        assert client.http is made[0]
        await client.disconnect()
        assert made[0].closed
        assert client.http is None

    asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))


def test_async_coroutine_handlers(server):
    """CL-06: AsyncClient awaits coroutine handlers; wait() returns after a server close.

    Polling, because the Node.js server closes a WebSocket without a ``1``.
    """

    async def scenario():
        client = engineio_fast.AsyncClient(handle_sigint=False)
        events = []
        got_message = asyncio.Event()

        @client.on('connect')
        async def on_connect():
            events.append(('connect', client.state))
            await client.send('from connect handler')

        @client.on('message')
        async def on_message(data):
            events.append(('message', data))
            got_message.set()

        @client.on('disconnect')
        async def on_disconnect(reason):
            events.append(('disconnect', reason, client.state))

        await client.connect(server.url, transports=['polling'])
        await asyncio.wait_for(got_message.wait(), TIMEOUT)
        await client.send('disconnect me')
        await asyncio.wait_for(client.wait(), TIMEOUT)
        assert client.state == 'disconnected'
        return events

    events = asyncio.run(asyncio.wait_for(scenario(), TIMEOUT * 2))
    assert events == [
        ('connect', 'connected'),
        ('message', 'from connect handler'),
        ('disconnect', 'server disconnect', 'disconnecting'),
    ]


def test_sync_utilities(server):
    """CL-06: start_background_task, sleep, create_queue and create_event on Client."""
    client = engineio_fast.Client(handle_sigint=False)
    event = client.create_event()
    queue = client.create_queue()
    task = client.start_background_task(lambda a, b=0: (queue.put(a + b), event.set()), 1, b=2)
    assert event.wait(TIMEOUT)
    task.join(TIMEOUT)
    assert queue.get(timeout=TIMEOUT) == 3
    start = time.monotonic()
    client.sleep(0.01)
    assert time.monotonic() > start
    with pytest.raises(client.get_queue_empty_exception()):
        queue.get_nowait()


def test_async_utilities():
    """CL-06: start_background_task, sleep, create_queue and create_event on AsyncClient."""

    async def scenario():
        client = engineio_fast.AsyncClient(handle_sigint=False)
        event = client.create_event()
        queue = client.create_queue()

        async def job(a, b=0):
            await client.sleep(0)
            await queue.put(a + b)
            event.set()

        task = client.start_background_task(job, 1, b=2)
        await asyncio.wait_for(event.wait(), TIMEOUT)
        await task
        assert await queue.get() == 3
        with pytest.raises(client.get_queue_empty_exception()):
            queue.get_nowait()

    asyncio.run(scenario())


def test_reason_constants_and_kwargs_ignored():
    """CL-06, C-04: Client.reason values; unknown keyword arguments are ignored."""
    client = engineio_fast.Client(handle_sigint=False, message_queue='redis://', channel='x')
    assert client.reason.CLIENT_DISCONNECT == 'client disconnect'
    assert engineio_fast.AsyncClient.reason.SERVER_DISCONNECT == 'server disconnect'
    assert engineio_fast.Client.reason.TRANSPORT_ERROR == 'transport error'
    assert client.state == 'disconnected'
    assert client.transport() is None


def test_importing_engineio_fast_loads_no_client_library():
    """C-01: requests, websocket-client and aiohttp load only when a client uses them."""
    code = (
        'import sys, engineio_fast; '
        "print(sorted(m for m in ('requests', 'websocket', 'aiohttp') if m in sys.modules)); "
        'import engineio_fast.client as c; '
        'print(c.websocket.__name__, c.requests.__name__)'
    )
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.splitlines() == ['[]', 'websocket requests'], proc.stderr
