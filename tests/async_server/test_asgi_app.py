"""``engineio_fast.ASGIApp`` on real ASGI servers (H-05, H-07..H-09, A-02) and in-process lifespan.

Each server is ``tests/async_server/asgi_app_server.py`` in a child process: an
``AsyncServer`` + ``ASGIApp`` built from a JSON config, served by uvicorn or
hypercorn (every test here runs on both) on a free 127.0.0.1 port.  The
config decides the engineio path, the static files, whether an
``other_asgi_app`` exists (it answers with a JSON description of the request
it got, on http and websocket) and the lifespan hooks, which print lines the
tests wait for.  Requests go through ``http.client``, which sends the path
as given (no ``..`` normalisation), and websocket-client.  Every wait is
bounded; only the child processes started here are stopped.

The site (``site`` fixture) is a ``public`` directory mapped at ``/`` and a
``public/static`` directory mapped at ``/static``, with ``secret`` (and a
symlink to it) outside the mapped directories.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import engineio
import pytest
import websocket
from children import ChildProcess, python_env
from raw_clients import (
    TIMEOUT,
    Response,
    check_handler_timeouts,
    http_request,
    websocket_handshake,
)

import engineio_fast
from engineio_fast.async_drivers import asgi

APP_SCRIPT = Path(__file__).resolve().parent / 'asgi_app_server.py'
ASGI_SERVERS = ['uvicorn', 'hypercorn', 'native']
SECRET = b'TOP SECRET'
#: Sizes around the 64 KiB read size of the file streaming (H-09).
FILE_SIZES = [0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 128 * 1024]
#: uvicorn's exit status when the application's startup fails.
UVICORN_STARTUP_FAILURE = 3
#: Exit statuses of a graceful stop on SIGTERM: uvicorn re-raises the signal
#: once it has shut down, hypercorn (signal handler in the script) returns.
GRACEFUL_EXIT = (0, -signal.SIGTERM)


class AppServerProcess(ChildProcess):
    """``asgi_app_server.py SERVER --config=...`` in a child process; its output lines."""

    def __init__(self, server: str, **config: Any):
        self.server = server
        super().__init__(
            [sys.executable, str(APP_SCRIPT), server, '--config=' + json.dumps(config)],
            env=python_env(),
            name=server,
        )
        try:
            port_line = self.wait_for_line(lambda line: line.startswith('PORT '), timeout=30)
        except AssertionError:
            self.stop()
            raise
        self.port = int(port_line.split()[1])

    def get(self, path: str, headers: dict | None = None) -> Response:
        return http_request(self.port, 'GET', path, headers=headers)

    def websocket(self, path: str) -> websocket.WebSocket:
        return websocket.create_connection(
            'ws://127.0.0.1:%d%s' % (self.port, path), timeout=TIMEOUT
        )


# -- fixtures --------------------------------------------------------------------


@pytest.fixture(scope='module', params=ASGI_SERVERS)
def asgi_server(request) -> str:
    """The ASGI server of this module's processes."""
    return request.param


@pytest.fixture(scope='module')
def site(tmp_path_factory) -> Path:
    """``public`` (mapped at ``/``), ``public/static`` (at ``/static``) and ``secret`` outside."""
    root = tmp_path_factory.mktemp('site')
    public = root / 'public'
    static = public / 'static'
    (static / 'sub').mkdir(parents=True)
    (public / 'index.html').write_text('<html>root index</html>')
    for name in ('app.js', 'style.css', 'data.json', 'notes.txt', 'pic.png', 'pic.jpg', 'pic.gif'):
        (public / name).write_text('content of %s' % name)
    (public / 'blob.xyz').write_bytes(b'\x00\x01blob')
    (static / 'index.html').write_text('<html>static index</html>')
    (static / 'sub' / 'index.html').write_text('<html>sub index</html>')
    (static / 'big.bin').write_bytes(os.urandom(200 * 1024 + 7))
    for size in FILE_SIZES:
        (static / ('size-%d.bin' % size)).write_bytes(os.urandom(size))
    (root / 'exact-file').write_text('exact content')
    (root / 'secret').write_bytes(SECRET)
    os.symlink(root / 'secret', static / 'escape')
    # On POSIX a backslash is no separator: this is a file *inside* static, which a
    # ``..\\secret`` request must still not get (H-08 refuses the segment everywhere).
    (static / '..\\secret').write_bytes(SECRET)
    return root


def static_mapping(site: Path) -> dict:
    return {
        '/': str(site / 'public') + '/',
        '/static': str(site / 'public' / 'static'),
        '/exact': {'filename': str(site / 'exact-file'), 'content_type': 'text/x-exact'},
    }


@pytest.fixture(scope='module')
def start_app(asgi_server):
    """``start(**config) -> AppServerProcess`` on this module's server; one process per config."""
    started: dict[str, AppServerProcess] = {}

    def start(**config: Any) -> AppServerProcess:
        key = json.dumps(config, sort_keys=True)
        if key not in started:
            started[key] = AppServerProcess(asgi_server, **config)
        process = started[key]
        assert process.process.poll() is None, 'app server exited: %s' % process.stderr
        return process

    yield start
    for process in started.values():
        process.stop()


@pytest.fixture(scope='module')
def app(start_app, site) -> AppServerProcess:
    """Default engineio path, static files and the other app."""
    return start_app(static_files=static_mapping(site), other_app=True)


@pytest.fixture(scope='module')
def bare_app(start_app, site) -> AppServerProcess:
    """Default engineio path and static files, no other app."""
    return start_app(static_files=static_mapping(site))


def assert_handshake(response: Response) -> dict:
    """A polling OPEN packet (P-01); its data."""
    assert response.status == 200, (response.status, response.body)
    assert response.text.startswith('0{'), response.body
    return json.loads(response.text[1:])


def assert_websocket_open(ws: websocket.WebSocket) -> dict:
    """The OPEN packet a WebSocket-first session starts with (P-43); its data."""
    try:
        first = ws.recv()
    finally:
        ws.close(timeout=1)
    assert isinstance(first, str) and first.startswith('0{'), first
    return json.loads(first[1:])


def assert_other_app(response: Response, path: str) -> None:
    """The request fell through to ``other_asgi_app``."""
    assert response.status == 200, (response.status, response.body)
    assert response.json() == {'app': 'other', 'type': 'http', 'path': path, 'method': 'GET'}


def other_app_websocket_message(ws: websocket.WebSocket) -> dict:
    try:
        return json.loads(ws.recv())
    finally:
        ws.close(timeout=1)


def assert_not_found(response: Response) -> None:
    """H-05: ``not_found()``: 404, ``text/plain``, ``Not Found``."""
    assert response.status == 404
    assert response.headers.get('Content-Type') == 'text/plain'
    assert response.body == b'Not Found'


# -- engineio path (H-05) --------------------------------------------------------


def test_engineio_path_with_trailing_slash_reaches_the_engine(app):
    """H-05, A-02: ``/engine.io/`` polling and WebSocket handshakes reach the AsyncServer."""
    data = assert_handshake(app.get('/engine.io/?EIO=4&transport=polling'))
    assert data['upgrades'] == ['websocket']
    assert assert_websocket_open(app.websocket('/engine.io/?EIO=4&transport=websocket'))['sid']


def test_engineio_path_without_trailing_slash_reaches_the_engine(app):
    """H-05: a missing trailing slash is added when matching, on http and websocket."""
    assert_handshake(app.get('/engine.io?EIO=4&transport=polling'))
    assert assert_websocket_open(app.websocket('/engine.io?EIO=4&transport=websocket'))['sid']


def test_path_merely_starting_with_the_engineio_name_goes_to_the_other_app(app):
    """H-05: ``/engine.iox`` is not the ``/engine.io/`` endpoint."""
    assert_other_app(app.get('/engine.iox?EIO=4&transport=polling'), '/engine.iox')


def test_engine_answers_its_own_errors_on_the_engineio_path(app):
    """H-05, A-02: a bad engine request under the path is the engine's 400, not the other app."""
    response = app.get('/engine.io/?EIO=4&transport=carrier-pigeon')
    assert response.status == 400
    assert response.json() == 'Invalid transport'


def test_custom_engineio_path_is_served_and_the_default_is_not(start_app):
    """H-05: ``engineio_path='custom/eio'`` serves ``/custom/eio/`` (slash optional) only."""
    assert engineio.AsyncClient.__module__ == 'engineio.async_client', (
        'engineio is not python-engineio here (engineio_fast.install() was called?)'
    )
    custom = start_app(engineio_path='custom/eio', other_app=True)
    assert_handshake(custom.get('/custom/eio/?EIO=4&transport=polling'))
    assert_handshake(custom.get('/custom/eio?EIO=4&transport=polling'))
    assert assert_websocket_open(custom.websocket('/custom/eio?EIO=4&transport=websocket'))['sid']
    assert_other_app(custom.get('/engine.io/?EIO=4&transport=polling'), '/engine.io/')


def test_reference_async_client_upgrades_and_echoes_on_a_custom_path(start_app):
    """H-05, A-02: python-engineio's ``AsyncClient`` on ``engineio_path='custom/eio'``.

    The handshake, the polling GET/POST with a sid and the WebSocket upgrade
    all go to ``/custom/eio/``; a message is echoed on the upgraded transport.
    """
    assert engineio.AsyncClient.__module__ == 'engineio.async_client', (
        'engineio is not python-engineio here (engineio_fast.install() was called?)'
    )
    custom = start_app(engineio_path='custom/eio', other_app=True)

    async def scenario():
        client = engineio.AsyncClient(handle_sigint=False, request_timeout=TIMEOUT)
        messages: asyncio.Queue = asyncio.Queue()
        client.on('message', messages.put_nowait)
        try:
            await asyncio.wait_for(
                client.connect('http://127.0.0.1:%d' % custom.port, engineio_path='custom/eio'),
                TIMEOUT,
            )
            assert client.transport() == 'websocket'
            await client.send({'via': 'custom path'})
            return await asyncio.wait_for(messages.get(), TIMEOUT)
        finally:
            await asyncio.wait_for(client.disconnect(abort=True), TIMEOUT)

    assert asyncio.run(asyncio.wait_for(scenario(), 3 * TIMEOUT)) == {'via': 'custom path'}


@pytest.mark.parametrize('question', ['timeout?', 'timeout now?'])
def test_a_timeout_expiring_in_a_message_handler_raises_in_the_handler(app, question):
    """A message handler's ``asyncio.timeout()`` cancels the handler only.

    Over websocket and polling the handler gets ``TimeoutError`` and the session
    goes on; the server logs no error (the timeout must not cancel the session's
    reader or a request).
    """
    for transport in ('websocket', 'polling'):
        check_handler_timeouts(app, transport, question, rounds=2)
    assert 'Traceback' not in app.stderr, app.stderr


def test_engineio_path_none_sends_every_http_and_websocket_request_to_the_engine(start_app, site):
    """H-05: with ``engineio_path=None`` no request reaches static files or the other app."""
    everything = start_app(engineio_path=None, static_files=static_mapping(site), other_app=True)
    assert_handshake(everything.get('/any/where?EIO=4&transport=polling'))
    assert_handshake(everything.get('/?EIO=4&transport=polling'))
    # A static file's path is an engine request without a transport.
    response = everything.get('/index.html')
    assert (response.status, response.json()) == (400, 'Invalid transport')
    ws = everything.websocket('/some/socket?EIO=4&transport=websocket')
    assert assert_websocket_open(ws)['sid']


# -- static files (H-07..H-09) ---------------------------------------------------


def test_exact_static_key_is_served_with_its_content_type(app):
    """H-07: an exact key mapped to a dict uses its ``filename`` and ``content_type``."""
    response = app.get('/exact')
    assert response.status == 200
    assert response.headers.get('Content-Type') == 'text/x-exact'
    assert response.body == b'exact content'


def test_root_serves_index_html(app):
    """H-07: ``/`` mapped to a directory serves its ``index.html`` as ``text/html``."""
    response = app.get('/')
    assert response.status == 200
    assert response.headers.get('Content-Type') == 'text/html'
    assert response.body == b'<html>root index</html>'


@pytest.mark.parametrize(
    'path, body',
    [
        ('/static/', b'<html>static index</html>'),
        ('/static/sub/', b'<html>sub index</html>'),
        ('/static/sub/index.html', b'<html>sub index</html>'),
    ],
)
def test_directory_prefix_maps_the_rest_of_the_path(app, path, body):
    """H-07: the longest prefix ``/static`` maps a directory; ``.../`` gets ``index.html``."""
    response = app.get(path)
    assert response.status == 200
    assert response.headers.get('Content-Type') == 'text/html'
    assert response.body == body


@pytest.mark.parametrize(
    'name, content_type',
    [
        ('app.js', 'application/javascript'),
        ('style.css', 'text/css'),
        ('data.json', 'application/json'),
        ('notes.txt', 'text/plain'),
        ('pic.png', 'image/png'),
        ('pic.jpg', 'image/jpeg'),
        ('pic.gif', 'image/gif'),
        ('blob.xyz', 'application/octet-stream'),
    ],
)
def test_static_content_type_follows_the_extension(app, site, name, content_type):
    """H-07: the content type comes from the extension; unknown → ``application/octet-stream``."""
    response = app.get('/' + name)
    assert response.status == 200
    assert response.headers.get('Content-Type') == content_type
    assert response.body == (site / 'public' / name).read_bytes()


def test_file_larger_than_64_kib_is_streamed_intact_with_content_length(app, site):
    """H-09: a 200 KiB + 7 B file arrives whole, with ``Content-Length`` and no chunking."""
    expected = (site / 'public' / 'static' / 'big.bin').read_bytes()
    response = app.get('/static/big.bin')
    assert response.status == 200
    assert response.headers.get('Content-Length') == str(len(expected))
    assert response.headers.get('Transfer-Encoding') is None
    assert response.headers.get('Content-Type') == 'application/octet-stream'
    assert response.body == expected


@pytest.mark.parametrize('size', FILE_SIZES)
def test_file_of_any_size_around_the_chunk_size_arrives_whole(app, site, size):
    """H-09: empty, one-byte and chunk-boundary sizes: exact ``Content-Length`` and body."""
    expected = (site / 'public' / 'static' / ('size-%d.bin' % size)).read_bytes()
    response = app.get('/static/size-%d.bin' % size)
    assert response.status == 200
    assert response.headers.get('Content-Length') == str(size)
    assert response.body == expected


def test_query_string_does_not_change_the_static_file(app):
    """H-07: the lookup uses the path only; ``?v=2`` still serves the file."""
    response = app.get('/static/sub/index.html?v=2')
    assert response.status == 200
    assert response.body == b'<html>sub index</html>'


def test_missing_static_file_falls_through_to_the_other_app(app, bare_app):
    """H-07: a mapped path without a file goes on to the other app, else 404."""
    assert_other_app(app.get('/static/nothing.txt'), '/static/nothing.txt')
    assert_not_found(bare_app.get('/static/nothing.txt'))


TRAVERSALS = [
    ('/static/../secret', '/static/../secret'),
    ('/static/%2e%2e/secret', '/static/../secret'),
    ('/static/%2E%2E/secret', '/static/../secret'),
    ('/static/..%2fsecret', '/static/../secret'),
    ('/static/..%5csecret', '/static/..\\secret'),
    ('/static/..\\secret', '/static/..\\secret'),
    ('/%2e%2e/secret', '/../secret'),
    ('/static/escape', '/static/escape'),
]


@pytest.mark.parametrize('path, decoded', TRAVERSALS)
def test_traversal_is_refused_and_falls_through_to_the_other_app(app, path, decoded):
    """H-08: ``..`` (literal, percent-encoded, backslash) or a symlink out → the other app.

    The other app sees the server's percent-decoded path.
    """
    response = app.get(path)
    assert SECRET not in response.body
    assert_other_app(response, decoded)


@pytest.mark.parametrize('path', [path for path, _ in TRAVERSALS])
def test_traversal_is_refused_with_404_without_other_app(bare_app, path):
    """H-08, H-05: the refused path ends in ``not_found()`` when there is no other app."""
    response = bare_app.get(path)
    assert SECRET not in response.body
    assert_not_found(response)


def test_static_files_are_not_served_to_websockets(app):
    """H-05: static files only for http: a WebSocket to a file's path reaches the other app."""
    message = other_app_websocket_message(app.websocket('/app.js'))
    assert message == {'app': 'other', 'type': 'websocket', 'path': '/app.js'}


# -- other app and 404 (H-05) ----------------------------------------------------


def test_other_app_receives_non_engine_http_requests(app):
    """H-05: a path that is neither the engine nor a static file reaches ``other_asgi_app``."""
    assert_other_app(app.get('/api/items?x=1'), '/api/items')


def test_other_app_receives_non_engine_websockets(app):
    """H-05: a WebSocket outside the engineio path reaches ``other_asgi_app``."""
    message = other_app_websocket_message(app.websocket('/chat/room'))
    assert message == {'app': 'other', 'type': 'websocket', 'path': '/chat/room'}


def test_without_other_app_unknown_http_path_is_404_not_found(bare_app):
    """H-05: no engine path, no static file, no other app → 404 ``text/plain`` ``Not Found``."""
    assert_not_found(bare_app.get('/api/items'))


def test_without_other_app_unknown_websocket_is_refused(bare_app):
    """H-05: a WebSocket outside the engineio path is closed before it is accepted.

    Both servers answer a close before ``websocket.accept`` with a 403.
    """
    response = websocket_handshake(bare_app.port, '/chat/room')
    assert response.status == 403


# -- lifespan over real servers (H-05) -------------------------------------------


@pytest.fixture
def spawn(asgi_server):
    """``spawn(**config)``: a fresh app server process for one test, stopped at teardown."""
    processes: list[AppServerProcess] = []

    def start(**config: Any) -> AppServerProcess:
        process = AppServerProcess(asgi_server, **config)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.stop()


@pytest.mark.parametrize('kind', ['sync', 'async'])
def test_lifespan_hooks_run_at_startup_and_shutdown(spawn, tmp_path, kind):
    """H-05: sync and async ``on_startup``/``on_shutdown`` run once each, around serving."""
    marker = tmp_path / 'marker'
    process = spawn(on_startup=kind, on_shutdown=kind, marker_file=str(marker))
    # The server takes requests only once startup has completed.
    assert_handshake(process.get('/engine.io/?EIO=4&transport=polling'))
    process.wait_for_line('HOOK startup %s' % kind)
    assert marker.read_text() == 'HOOK startup %s\n' % kind
    assert process.stop() in GRACEFUL_EXIT
    assert marker.read_text() == 'HOOK startup %s\nHOOK shutdown %s\n' % (kind, kind)
    assert 'HOOK shutdown %s' % kind in process.lines


def test_lifespan_hooks_take_precedence_over_the_other_app(spawn, tmp_path):
    """H-05: with a hook given, lifespan is handled by ASGIApp and not forwarded."""
    marker = tmp_path / 'marker'
    process = spawn(
        other_app=True, other_lifespan=True, on_startup='async', marker_file=str(marker)
    )
    assert_other_app(process.get('/hello'), '/hello')
    assert process.stop() in GRACEFUL_EXIT
    # Only the startup hook; shutdown completed without one; the other app saw no lifespan.
    assert marker.read_text() == 'HOOK startup async\n'
    assert not [line for line in process.lines if line.startswith('OTHER')]


def test_lifespan_is_forwarded_to_the_other_app_without_hooks(spawn):
    """H-05: no hooks and an other app → the other app runs the lifespan protocol."""
    process = spawn(other_app=True, other_lifespan=True)
    assert_other_app(process.get('/hello'), '/hello')
    process.wait_for_line('OTHER startup')
    assert process.stop() in GRACEFUL_EXIT
    lines = process.lines
    assert [line for line in lines if line.startswith('OTHER')] == [
        'OTHER startup',
        'OTHER shutdown',
    ]


def test_lifespan_without_hooks_or_other_app_completes(spawn):
    """H-05: lifespan handled here with nothing to run: startup and shutdown complete."""
    process = spawn()
    assert_handshake(process.get('/engine.io/?EIO=4&transport=polling'))
    assert process.stop() in GRACEFUL_EXIT
    assert 'Traceback' not in process.stderr
    assert 'failed' not in process.stderr.lower()


def test_failing_startup_hook_sends_startup_failed_and_the_server_exits(spawn, asgi_server):
    """H-05: an exception in ``on_startup`` → ``lifespan.startup.failed``; the server exits non-zero.

    uvicorn logs the failure message and exits with its STARTUP_FAILURE status
    (3); hypercorn raises ``LifespanFailureError`` naming the startup phase.
    """
    process = spawn(on_startup='fail', other_app=True)
    status = process.wait_exit()
    assert status != 0
    stderr = process.stderr
    assert "RuntimeError('startup hook failed')" in stderr
    if asgi_server in ('uvicorn', 'native'):  # native exits as uvicorn does
        assert status == UVICORN_STARTUP_FAILURE
        assert 'Application startup failed' in stderr
    else:
        assert 'Lifespan failure in startup' in stderr


def test_failing_shutdown_hook_sends_shutdown_failed(spawn, asgi_server):
    """H-05: an exception in ``on_shutdown`` → ``lifespan.shutdown.failed`` with its message."""
    process = spawn(on_startup='sync', on_shutdown='fail')
    assert_handshake(process.get('/engine.io/?EIO=4&transport=polling'))
    process.stop()
    stderr = process.stderr
    assert "RuntimeError('shutdown hook failed')" in stderr
    if asgi_server in ('uvicorn', 'native'):
        assert 'Application shutdown failed' in stderr
    else:
        assert 'Lifespan failure in shutdown' in stderr


# -- lifespan and dispatch in process (H-05) -------------------------------------


class FakeChannel:
    """Hand-made ``receive``/``send`` for one ASGI call: scripted input, recorded output."""

    def __init__(self, *incoming: dict):
        self.incoming = list(incoming)
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        assert self.incoming, 'the app asked for more input than the script has'
        return self.incoming.pop(0)

    async def send(self, message: dict) -> None:
        self.sent.append(message)


LIFESPAN_SCOPE = {'type': 'lifespan', 'asgi': {'version': '3.0'}}
STARTUP = {'type': 'lifespan.startup'}
SHUTDOWN = {'type': 'lifespan.shutdown'}


def call(app: engineio_fast.ASGIApp, scope: dict, channel: FakeChannel) -> None:
    asyncio.run(asyncio.wait_for(app(scope, channel.receive, channel.send), TIMEOUT))


def make_app(**kwargs) -> engineio_fast.ASGIApp:
    return engineio_fast.ASGIApp(engineio_fast.AsyncServer(async_mode='asgi'), **kwargs)


def test_lifespan_runs_sync_startup_and_async_shutdown_hooks_in_process():
    """H-05: hooks may be sync or async; each phase answers ``.complete``."""
    calls = []

    async def on_shutdown():
        await asyncio.sleep(0)
        calls.append('shutdown')

    app = make_app(on_startup=lambda: calls.append('startup'), on_shutdown=on_shutdown)
    channel = FakeChannel(STARTUP, SHUTDOWN)
    call(app, LIFESPAN_SCOPE, channel)
    assert calls == ['startup', 'shutdown']
    assert [m['type'] for m in channel.sent] == [
        'lifespan.startup.complete',
        'lifespan.shutdown.complete',
    ]


def test_lifespan_startup_exception_answers_startup_failed_in_process():
    """H-05: an exception in ``on_startup`` → ``lifespan.startup.failed``; the call returns."""

    async def on_startup():
        raise ValueError('no database')

    app = make_app(on_startup=on_startup)
    channel = FakeChannel(STARTUP, SHUTDOWN)
    call(app, LIFESPAN_SCOPE, channel)
    assert [m['type'] for m in channel.sent] == ['lifespan.startup.failed']
    assert 'no database' in channel.sent[0].get('message', '')
    assert channel.incoming == [SHUTDOWN]


def test_lifespan_shutdown_exception_answers_shutdown_failed_in_process():
    """H-05: an exception in ``on_shutdown`` → ``lifespan.shutdown.failed``."""

    def on_shutdown():
        raise RuntimeError('flush failed')

    app = make_app(on_shutdown=on_shutdown)
    channel = FakeChannel(STARTUP, SHUTDOWN)
    call(app, LIFESPAN_SCOPE, channel)
    assert [m['type'] for m in channel.sent] == [
        'lifespan.startup.complete',
        'lifespan.shutdown.failed',
    ]


def test_lifespan_is_forwarded_to_the_other_app_only_without_hooks_in_process():
    """H-05: the other app gets the lifespan scope unless a hook is given."""
    seen = []

    async def other(scope, receive, send):
        seen.append(scope['type'])
        await receive()
        await send({'type': 'lifespan.startup.complete'})

    channel = FakeChannel(STARTUP)
    call(make_app(other_asgi_app=other), LIFESPAN_SCOPE, channel)
    assert seen == ['lifespan']
    assert channel.sent == [{'type': 'lifespan.startup.complete'}]

    channel = FakeChannel(STARTUP, SHUTDOWN)
    call(make_app(other_asgi_app=other, on_shutdown=lambda: None), LIFESPAN_SCOPE, channel)
    assert seen == ['lifespan']
    assert [m['type'] for m in channel.sent] == [
        'lifespan.startup.complete',
        'lifespan.shutdown.complete',
    ]


def test_serve_static_file_sends_the_file_or_404_in_process(tmp_path):
    """H-05, H-09: ``serve_static_file`` streams a found file, answers 404 for a missing one."""
    page = tmp_path / 'page.txt'
    page.write_bytes(b'x' * 70_000)
    app = make_app()

    async def serve(static_file: dict) -> list[dict]:
        channel = FakeChannel()
        await asyncio.wait_for(
            app.serve_static_file(static_file, channel.receive, channel.send), TIMEOUT
        )
        return channel.sent

    sent = asyncio.run(serve({'filename': str(page), 'content_type': 'text/x-page'}))
    assert sent[0]['status'] == 200
    assert (b'content-type', b'text/x-page') in sent[0]['headers']
    assert (b'content-length', b'70000') in sent[0]['headers']
    assert b''.join(m['body'] for m in sent[1:]) == b'x' * 70_000
    assert [m.get('more_body', False) for m in sent[1:]][-1] is False
    sent = asyncio.run(
        serve({'filename': str(tmp_path / 'gone.txt'), 'content_type': 'text/plain'})
    )
    assert sent[0]['status'] == 404


def test_unknown_websocket_without_other_app_is_closed_in_process():
    """H-05: a WebSocket outside the engineio path, no other app → ``websocket.close``."""
    channel = FakeChannel({'type': 'websocket.connect'})
    scope = {'type': 'websocket', 'path': '/chat', 'query_string': b'', 'headers': []}
    call(make_app(), scope, channel)
    assert [m['type'] for m in channel.sent] == ['websocket.close']


def test_unknown_http_path_without_other_app_is_not_found_in_process():
    """H-05: ``not_found()`` sends 404 ``text/plain`` ``Not Found``."""
    channel = FakeChannel({'type': 'http.request', 'body': b'', 'more_body': False})
    scope = {
        'type': 'http',
        'method': 'GET',
        'path': '/nowhere',
        'query_string': b'',
        'headers': [],
    }
    call(make_app(), scope, channel)
    assert channel.sent[0]['type'] == 'http.response.start'
    assert channel.sent[0]['status'] == 404
    # python-engineio's exact header list (C-12: its test compares the message)
    assert channel.sent[0]['headers'] == [(b'Content-Type', b'text/plain')]
    assert b''.join(m.get('body', b'') for m in channel.sent[1:]) == b'Not Found'


class ChannelWithTransport(FakeChannel):
    """A channel shaped like uvicorn's protocol: ``send`` is a method of an
    object holding the connection's transport, which counts its aborts."""

    def __init__(self, *incoming: dict):
        super().__init__(*incoming)
        self.aborts = 0
        self.transport = self

    def abort(self) -> None:
        self.aborts += 1


@pytest.mark.parametrize(
    ('bound_send', 'http_version', 'aborts'),
    [(True, '1.1', 1), (True, '2', 0), (False, '1.1', 0)],
    ids=['uvicorn-like', 'http2-stream', 'unknown-server'],
)
def test_websocket_abort_drops_only_a_connection_of_its_own_in_process(
    bound_send, http_version, aborts
):
    """P-31: ``abort()`` drops the transport found under ``send`` when the
    server is a known one; a websocket over HTTP/2 shares its connection, and
    a plain ``send`` function reveals nothing: no abort, and no error."""
    channel = ChannelWithTransport()

    async def plain_send(message: dict) -> None:
        await channel.send(message)

    async def handler(ws) -> None:
        ws.abort()

    environ = {
        'asgi.scope': {'type': 'websocket', 'http_version': http_version},
        'asgi.receive': channel.receive,
        'asgi.send': channel.send if bound_send else plain_send,
    }
    asyncio.run(asyncio.wait_for(asgi.WebSocket(handler, None)(environ), TIMEOUT))
    assert [m['type'] for m in channel.sent] == ['websocket.accept']
    assert channel.aborts == aborts


def _read_body(events: list, sizes: list) -> list:
    """Read an ASGI request body of ``events`` in ``read(n)`` calls of ``sizes``;
    each result, or the exception class it raised."""
    channel = FakeChannel(*events)
    body = asgi._RequestBody(channel.receive)

    async def run() -> list:
        results = []
        for size in sizes:
            try:
                results.append(await body.read(size))
            except Exception as exc:
                results.append(type(exc))
        return results

    return asyncio.run(asyncio.wait_for(run(), TIMEOUT))


def _request(body: bytes, more: bool = False) -> dict:
    return {'type': 'http.request', 'body': body, 'more_body': more}


DISCONNECT = {'type': 'http.disconnect'}


@pytest.mark.parametrize(
    ('events', 'sizes', 'expected'),
    [
        # Empty bodies: one event, or empty chunks before the last.
        ([_request(b'')], [5, 5], [b'', b'']),
        ([_request(b'', True), _request(b'', True), _request(b'')], [-1], [b'']),
        # A chunked body: one event's bytes per read (empty events skipped), at most n.
        (
            [_request(b'abc', True), _request(b'', True), _request(b'defg', True), _request(b'h')],
            [5, 3, 5, 5, 5],
            [b'abc', b'def', b'g', b'h', b''],
        ),
        ([_request(b'abc', True), _request(b'def')], [-1, 1], [b'abcdef', b'']),
        ([_request(b'abcdef')], [2, None, 1], [b'ab', b'cdef', b'']),
        # Reading stops at n: the events after it are not consumed (H-41).
        ([_request(b'abcd', True)], [3, 1], [b'abc', b'd']),
        # A client gone mid-body: the read fails, and the body then ends.
        ([_request(b'abc', True), DISCONNECT], [10, 10, 10], [b'abc', ConnectionResetError, b'']),
        ([DISCONNECT], [-1, -1], [ConnectionResetError, b'']),
    ],
    ids=[
        'empty',
        'empty-chunks',
        'chunked',
        'read-all',
        'one-event',
        'stops-at-n',
        'disconnect-mid-body',
        'disconnect-first',
    ],
)
def test_request_body_reads_at_most_n_bytes_and_b_only_at_the_end_in_process(
    events, sizes, expected
):
    """A-14: ``wsgi.input.read(n)`` of an ASGI request, on the shared pulled body."""
    assert _read_body(events, sizes) == expected
