"""``WSGIApp`` and ``Middleware`` behind a real werkzeug server (H-01, H-02, H-07..H-09, C-08).

One threaded werkzeug server runs for the module; each test installs the app
under test on it and talks HTTP/1.1 to it over loopback with ``http.client``.
The Engine.IO server is a stand-in that records the paths it receives: the
WSGI app only needs its ``handle_request(environ, start_response)``.
"""

from __future__ import annotations

import http.client
import inspect
import os
import threading
import wsgiref.util

import pytest
from werkzeug.serving import make_server

from engineio_fast import middleware
from engineio_fast.middleware import Middleware, WSGIApp

TIMEOUT = 10  # seconds; bounds every wait on the server


class RecordingEngine:
    """Engine.IO stand-in: records each request path and answers 200 ``engine``."""

    def __init__(self):
        self.paths = []

    def handle_request(self, environ, start_response):
        self.paths.append(environ['PATH_INFO'])
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'engine']


def fallback_app(environ, start_response):
    """The other WSGI app: answers 200 ``fallback:<path>``."""
    body = ('fallback:' + environ['PATH_INFO']).encode('latin-1')
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]


def other_app(environ, start_response):
    """A replacement WSGI app, to check that ``wsgi_app`` is read per request."""
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'other']


class Switch:
    """The WSGI app the server runs: forwards to whichever app the current test set."""

    def __init__(self):
        self.app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


class Client:
    """``http.client`` requests to the module's server."""

    def __init__(self, port):
        self.port = port

    def get(self, path, method='GET'):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=TIMEOUT)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            body = resp.read()
            return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
        finally:
            conn.close()


@pytest.fixture(scope='module')
def server():
    """A threaded werkzeug server on an ephemeral loopback port, stopped at teardown."""
    switch = Switch()
    srv = make_server('127.0.0.1', 0, switch, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, kwargs={'poll_interval': 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield switch, srv.server_port
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(TIMEOUT)
        assert not thread.is_alive()


@pytest.fixture
def serve(server):
    """Install a WSGI app on the module's server and return a client for it."""
    switch, port = server

    def install(app):
        switch.app = app
        return Client(port)

    yield install
    switch.app = None


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """``public`` directory with files, ``secret`` next to it, and a large file."""
    root = tmp_path_factory.mktemp('site')
    public = root / 'public'
    (public / 'css').mkdir(parents=True)
    (public / 'docs').mkdir()
    (public / 'empty').mkdir()
    (public / 'index.html').write_bytes(b'<html>root</html>')
    (public / 'app.js').write_bytes(b'app()')
    (public / 'data.bin').write_bytes(b'\x00\x01\x02')
    (public / 'css' / 'site.css').write_bytes(b'body {}')
    (public / 'docs' / 'index.html').write_bytes(b'<html>docs</html>')
    (public / 'docs' / 'start.htm').write_bytes(b'start')
    (public / 'leak.txt').symlink_to(root / 'secret')
    (public / 'up').symlink_to(root)
    (root / 'secret').write_bytes(b'TOP SECRET')
    # Several chunks, not a multiple of the chunk size.
    (public / 'big.bin').write_bytes(os.urandom(5 * middleware.CHUNK_SIZE + 12345))
    return root


def test_engineio_path_is_normalised():
    """H-01: leading and trailing slashes are added to ``engineio_path``."""
    engine = RecordingEngine()
    for given in ('socket', '/socket', 'socket/', '/socket/'):
        assert WSGIApp(engine, engineio_path=given).engineio_path == '/socket/'
    assert WSGIApp(engine).engineio_path == '/engine.io/'


def test_constructor_keeps_upstream_argument_order():
    """H-01, C-07: ``(engineio_app, wsgi_app, static_files, engineio_path)`` positionally."""
    engine = RecordingEngine()
    app = WSGIApp(engine, fallback_app, {'/': 'index.html'}, 'eio')
    assert app.engineio_app is engine
    assert app.wsgi_app is fallback_app
    assert app.static_files == {'/': 'index.html'}
    assert app.engineio_path == '/eio/'
    assert WSGIApp(engine).static_files == {}
    assert WSGIApp(engine).wsgi_app is None


@pytest.mark.parametrize(
    'path', ['/engine.io/', '/engine.io/?EIO=4&transport=polling', '/engine.io/x/y', '/engine.io']
)
def test_engine_path_goes_to_the_engine(serve, path):
    """H-01, H-02: the prefix with trailing slash, and the bare path, reach the engine."""
    engine = RecordingEngine()
    client = serve(WSGIApp(engine, fallback_app))
    resp = client.get(path)
    assert (resp.status, resp.body) == (200, b'engine')
    assert engine.paths == [path.split('?')[0]]


@pytest.mark.parametrize('path', ['/engine.iox', '/engine.io.js', '/x/engine.io/', '/'])
def test_other_paths_do_not_reach_the_engine(serve, path):
    """H-01: only whole-segment matches of the engine path go to the engine."""
    engine = RecordingEngine()
    client = serve(WSGIApp(engine, fallback_app))
    resp = client.get(path)
    assert (resp.status, resp.body) == (200, b'fallback:' + path.encode())
    assert engine.paths == []


@pytest.mark.parametrize('given', ['socket', '/socket', 'socket/', '/socket/'])
def test_custom_engineio_path(serve, given):
    """H-01, H-02: a custom path, however slashed, replaces ``/engine.io/``."""
    engine = RecordingEngine()
    client = serve(WSGIApp(engine, fallback_app, engineio_path=given))
    assert client.get('/socket/?EIO=4').body == b'engine'
    assert client.get('/socket').body == b'engine'
    assert client.get('/engine.io/').body == b'fallback:/engine.io/'
    assert engine.paths == ['/socket/', '/socket']


def test_nested_custom_engineio_path(serve):
    """H-01: a multi-segment engine path matches as a whole."""
    engine = RecordingEngine()
    client = serve(WSGIApp(engine, fallback_app, engineio_path='api/eio'))
    assert client.get('/api/eio/').body == b'engine'
    assert client.get('/api/').body == b'fallback:/api/'


def test_engine_wins_over_static_files(serve, site):
    """H-01: the engine comes before static files, even for a mapped path."""
    engine = RecordingEngine()
    index = str(site / 'public' / 'index.html')
    app = WSGIApp(engine, fallback_app, static_files={'/engine.io/': index, '/engine.io': index})
    client = serve(app)
    assert client.get('/engine.io/').body == b'engine'
    assert client.get('/engine.io').body == b'engine'


def test_static_files_win_over_the_wsgi_app(serve, site):
    """H-01: a mapped, existing file is served before the other WSGI app."""
    index = str(site / 'public' / 'index.html')
    client = serve(WSGIApp(RecordingEngine(), fallback_app, static_files={'/': index}))
    resp = client.get('/')
    assert (resp.status, resp.body) == (200, b'<html>root</html>')
    assert resp.headers['content-type'] == 'text/html'
    assert client.get('/other').body == b'fallback:/other'


def test_missing_static_file_falls_through_to_the_wsgi_app(serve, site):
    """H-07: a mapped path whose file does not exist goes to the WSGI app."""
    app = WSGIApp(RecordingEngine(), fallback_app, static_files={'/static': str(site / 'public')})
    client = serve(app)
    assert client.get('/static/nope.js').body == b'fallback:/static/nope.js'


def test_missing_static_file_without_wsgi_app_is_404(serve, site):
    """H-01, H-07: nothing to serve and no WSGI app → 404 text/plain ``Not Found``."""
    client = serve(WSGIApp(RecordingEngine(), static_files={'/static': str(site / 'public')}))
    resp = client.get('/static/nope.js')
    assert (resp.status, resp.body) == (404, b'Not Found')
    assert resp.headers['content-type'] == 'text/plain'


def test_mapped_directory_without_index_falls_through(serve, site):
    """H-07: a directory is not a file; an absent index falls through."""
    app = WSGIApp(RecordingEngine(), fallback_app, static_files={'/static': str(site / 'public')})
    client = serve(app)
    assert client.get('/static/empty/').body == b'fallback:/static/empty/'
    assert client.get('/static/css').body == b'fallback:/static/css'


def test_unmatched_request_without_wsgi_app_is_404(serve):
    """H-01: no engine, no static file, no WSGI app → ``not_found()``."""
    client = serve(WSGIApp(RecordingEngine()))
    resp = client.get('/nothing/here')
    assert (resp.status, resp.body) == (404, b'Not Found')
    assert resp.headers['content-type'] == 'text/plain'


def test_not_found_is_a_public_method_that_can_be_overridden(serve):
    """H-01: the 404 comes from ``self.not_found(start_response)``."""

    class Custom(WSGIApp):
        def not_found(self, start_response):
            start_response('404 Not Found', [('Content-Type', 'text/html')])
            return [b'<h1>gone</h1>']

    resp = serve(Custom(RecordingEngine())).get('/x')
    assert (resp.status, resp.body) == (404, b'<h1>gone</h1>')


def test_static_exact_keys(serve, site):
    """H-07: exact keys with string and dict values, dict ``content_type`` applied."""
    public = site / 'public'
    app = WSGIApp(
        RecordingEngine(),
        static_files={
            '/': str(public / 'index.html'),
            '/main.js': str(public / 'app.js'),
            '/raw': {'filename': str(public / 'index.html'), 'content_type': 'text/plain'},
            '/blob': {'filename': str(public / 'data.bin')},
        },
    )
    client = serve(app)
    cases = {
        '/': (b'<html>root</html>', 'text/html'),
        '/main.js': (b'app()', 'application/javascript'),
        '/raw': (b'<html>root</html>', 'text/plain'),
        '/blob': (b'\x00\x01\x02', 'application/octet-stream'),
    }
    for path, (body, content_type) in cases.items():
        resp = client.get(path)
        assert (resp.status, resp.body) == (200, body), path
        assert resp.headers['content-type'] == content_type, path
        assert resp.headers['content-length'] == str(len(body)), path


@pytest.mark.parametrize('key', ['/static', '/static/'])
def test_static_directory_prefix(serve, site, key):
    """H-07: a prefix key maps a directory; subdirectories and index files follow."""
    client = serve(WSGIApp(RecordingEngine(), static_files={key: str(site / 'public')}))
    cases = {
        '/static/app.js': (b'app()', 'application/javascript'),
        '/static/css/site.css': (b'body {}', 'text/css'),
        '/static/docs/': (b'<html>docs</html>', 'text/html'),
    }
    for path, (body, content_type) in cases.items():
        resp = client.get(path)
        assert (resp.status, resp.body, resp.headers['content-type']) == (
            200,
            body,
            content_type,
        ), path


def test_static_directory_root_serves_its_index(serve, site):
    """H-07: ``/static/`` on a ``/static`` key, or on a key whose directory ends in ``/``."""
    public = str(site / 'public')
    for mapping in ({'/static': public}, {'/static/': public + '/'}):
        resp = serve(WSGIApp(RecordingEngine(), static_files=mapping)).get('/static/')
        assert (resp.status, resp.body) == (200, b'<html>root</html>'), mapping


def test_exact_key_naming_a_directory_falls_through(serve, site):
    """H-07: ``'/static/': 'public'`` maps that URL to the directory itself, which is
    no file: the request falls through (python-engineio tries to read it and fails)."""
    app = WSGIApp(RecordingEngine(), fallback_app, static_files={'/static/': str(site / 'public')})
    assert serve(app).get('/static/').body == b'fallback:/static/'


def test_root_directory_mapping_with_an_index_entry(serve, site):
    """H-07: ``'/'`` mapping a directory plus a ``''`` index entry serves both."""
    public = str(site / 'public') + '/'
    client = serve(WSGIApp(RecordingEngine(), static_files={'/': public, '': 'start.htm'}))
    assert client.get('/css/site.css').body == b'body {}'
    assert client.get('/docs/').body == b'start'


@pytest.mark.parametrize(
    'index, body, content_type',
    [
        ('start.htm', b'start', 'application/octet-stream'),
        ({'filename': 'start.htm'}, b'start', 'application/octet-stream'),
        ({'filename': 'start.htm', 'content_type': 'text/html'}, b'start', 'text/html'),
        (
            {'filename': 'index.html', 'content_type': 'image/gif'},
            b'<html>docs</html>',
            'image/gif',
        ),
    ],
)
def test_empty_key_names_the_index_file(serve, site, index, body, content_type):
    """H-07: the ``''`` entry (string or dict, its ``content_type`` applies) for ``/`` names."""
    app = WSGIApp(RecordingEngine(), static_files={'/static': str(site / 'public'), '': index})
    resp = serve(app).get('/static/docs/')
    assert (resp.status, resp.body, resp.headers['content-type']) == (200, body, content_type)


def test_static_files_mapping_is_read_per_request(serve, site):
    """H-01: changing ``app.static_files`` takes effect on the next request."""
    app = WSGIApp(RecordingEngine(), static_files={'/static': str(site / 'public')})
    client = serve(app)
    assert client.get('/static/app.js').status == 200
    app.static_files = {}
    assert client.get('/static/app.js').status == 404


@pytest.mark.parametrize(
    'path',
    [
        '/static/../secret',
        '/static/%2e%2e/secret',
        '/static/%2E%2E/secret',
        '/static/..%2fsecret',
        '/static/%252e%252e/secret',
        '/static/..\\secret',
        '/static/%2e%2e%5csecret',
        '/static/leak.txt',
        '/static/up/secret',
        '/static/app.js%00',
        '/static/app.js%00.png',
    ],
)
def test_traversal_is_not_served(serve, site, path):
    """H-08: ``..`` (literal, percent-encoded, backslashed), symlink escapes and NUL
    never serve a file: the request falls through to the WSGI app, or 404 without one."""
    public = str(site / 'public')
    with_fallback = serve(
        WSGIApp(RecordingEngine(), fallback_app, static_files={'/static': public})
    )
    resp = with_fallback.get(path)
    assert resp.status == 200
    assert resp.body.startswith(b'fallback:')
    assert b'TOP SECRET' not in resp.body

    without = serve(WSGIApp(RecordingEngine(), static_files={'/static': public}))
    resp = without.get(path)
    assert (resp.status, resp.body) == (404, b'Not Found')


def test_traversal_target_exists_so_the_refusal_is_what_protects_it(site):
    """H-08: the files the traversal tests aim at are really reachable by name."""
    public = site / 'public'
    assert (public / '..' / 'secret').read_bytes() == b'TOP SECRET'
    assert (public / 'leak.txt').read_bytes() == b'TOP SECRET'
    assert (public / 'up' / 'secret').read_bytes() == b'TOP SECRET'


def test_large_file_is_streamed_with_content_length(serve, site):
    """H-09: a multi-chunk file arrives whole, with its exact Content-Length."""
    big = site / 'public' / 'big.bin'
    client = serve(WSGIApp(RecordingEngine(), static_files={'/static': str(site / 'public')}))
    resp = client.get('/static/big.bin')
    assert resp.status == 200
    assert resp.headers['content-length'] == str(big.stat().st_size)
    assert 'transfer-encoding' not in resp.headers
    assert resp.body == big.read_bytes()


def test_large_file_is_chunked_without_file_wrapper(site):
    """H-09: without ``wsgi.file_wrapper`` the body is an iterable of bounded chunks."""
    big = site / 'public' / 'big.bin'
    app = WSGIApp(RecordingEngine(), static_files={'/static': str(site / 'public')})
    started = []
    body = app({'PATH_INFO': '/static/big.bin'}, lambda s, h: started.append((s, h)))
    try:
        chunks = list(body)
    finally:
        body.close()
    assert started == [
        (
            '200 OK',
            [
                ('Content-Type', 'application/octet-stream'),
                ('Content-Length', str(big.stat().st_size)),
            ],
        )
    ]
    assert len(chunks) > 1
    assert all(0 < len(c) <= middleware.CHUNK_SIZE for c in chunks)
    assert b''.join(chunks) == big.read_bytes()


def test_large_file_uses_the_servers_file_wrapper(serve, site):
    """H-09: ``wsgi.file_wrapper`` is used when the server offers one."""
    wrapped = []

    class RecordingFileWrapper(wsgiref.util.FileWrapper):
        def __init__(self, filelike, blksize=8192):
            wrapped.append(blksize)
            super().__init__(filelike, blksize)

    app = WSGIApp(RecordingEngine(), static_files={'/static': str(site / 'public')})

    def with_file_wrapper(environ, start_response):
        environ['wsgi.file_wrapper'] = RecordingFileWrapper
        return app(environ, start_response)

    big = site / 'public' / 'big.bin'
    resp = serve(with_file_wrapper).get('/static/big.bin')
    assert resp.status == 200
    assert resp.headers['content-length'] == str(big.stat().st_size)
    assert resp.body == big.read_bytes()
    assert wrapped == [middleware.CHUNK_SIZE]


def test_head_request_gets_headers_only(serve, site):
    """H-09: HEAD on a static file gets its Content-Length and no body."""
    big = site / 'public' / 'big.bin'
    client = serve(WSGIApp(RecordingEngine(), static_files={'/static': str(site / 'public')}))
    resp = client.get('/static/big.bin', method='HEAD')
    assert resp.status == 200
    assert resp.headers['content-length'] == str(big.stat().st_size)
    assert resp.body == b''


def test_wsgi_app_replaced_after_construction_is_used(serve):
    """C-08: ``WSGIApp.wsgi_app`` is read on every request (Flask-SocketIO swaps it)."""
    app = WSGIApp(RecordingEngine(), fallback_app)
    client = serve(app)
    assert client.get('/x').body == b'fallback:/x'
    app.wsgi_app = other_app
    assert client.get('/x').body == b'other'
    app.wsgi_app = None
    assert client.get('/x').status == 404


def test_wsgi_app_receives_the_same_environ(serve):
    """C-08: the other app gets the very environ dict the server passed in."""
    seen = []

    def outer(environ, start_response):
        seen.append(environ)
        return app(environ, start_response)

    def inner(environ, start_response):
        seen.append(environ)
        return fallback_app(environ, start_response)

    app = WSGIApp(RecordingEngine(), inner)
    serve(outer).get('/x')
    assert len(seen) == 2 and seen[0] is seen[1]


def test_gunicorn_socket_is_exposed_as_eventlet_input():
    """H-01: ``gunicorn.socket`` is copied into ``eventlet.input`` with ``get_socket()``."""
    sock = object()
    engine = RecordingEngine()
    environ = {'PATH_INFO': '/engine.io/', 'gunicorn.socket': sock}
    WSGIApp(engine)(environ, lambda s, h: None)
    assert environ['eventlet.input'].get_socket() is sock
    assert engine.paths == ['/engine.io/']


@pytest.mark.parametrize('environ', [{}, {'PATH_INFO': ''}, {'PATH_INFO': None}])
def test_empty_or_missing_path_info_is_not_the_engine(environ):
    """H-01: without a path the request is the app root: not the engine, 404 here."""
    engine = RecordingEngine()
    started = []
    body = WSGIApp(engine, engineio_path='/')(environ, lambda s, h: started.append(s))
    assert (started, body, engine.paths) == (['404 Not Found'], [b'Not Found'], [])


def test_no_eventlet_input_without_gunicorn_socket():
    """H-01: other servers' environ is left alone."""
    environ = {'PATH_INFO': '/engine.io/'}
    WSGIApp(RecordingEngine())(environ, lambda s, h: None)
    assert 'eventlet.input' not in environ


def test_middleware_routes_like_wsgi_app(serve):
    """H-01: the deprecated ``Middleware`` routes engine and other traffic the same way."""
    engine = RecordingEngine()
    m = Middleware(engine, fallback_app, 'eio')
    assert isinstance(m, WSGIApp)
    assert m.engineio_path == '/eio/'
    client = serve(m)
    assert client.get('/eio/').body == b'engine'
    assert client.get('/eio').body == b'engine'
    assert client.get('/x').body == b'fallback:/x'
    m.wsgi_app = None
    assert client.get('/x').status == 404


def test_middleware_has_no_static_files(serve, site):
    """H-01: ``Middleware`` takes no ``static_files``; its mapping is empty."""
    params = list(inspect.signature(Middleware).parameters)
    assert params == ['engineio_app', 'wsgi_app', 'engineio_path']
    assert inspect.signature(Middleware).parameters['engineio_path'].default == 'engine.io'
    m = Middleware(RecordingEngine())
    assert m.static_files == {}
    assert m.wsgi_app is None
    assert m.engineio_path == '/engine.io/'
    with pytest.raises(TypeError):
        Middleware(RecordingEngine(), None, static_files={'/': 'index.html'})
    assert serve(m).get('/').status == 404


def test_public_signatures_match_upstream():
    """C-02, C-07: names, order and defaults as in python-engineio."""
    sig = inspect.signature(WSGIApp)
    assert [(p.name, p.default) for p in sig.parameters.values()] == [
        ('engineio_app', inspect.Parameter.empty),
        ('wsgi_app', None),
        ('static_files', None),
        ('engineio_path', 'engine.io'),
    ]
    assert list(inspect.signature(WSGIApp.not_found).parameters) == ['self', 'start_response']
