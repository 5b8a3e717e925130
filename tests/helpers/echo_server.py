"""An Engine.IO echo server for the tests, started in its own process.

Usage: ``python tests/helpers/echo_server.py MODE [--option=value ...]``; prints
``PORT <n>`` once it listens on 127.0.0.1 and serves until killed.  In
``gevent_uwsgi`` mode the script starts uWSGI, which loads this file again as
its WSGI module with the arguments in ``ECHO_SERVER_ARGV``.  Options
are Server keyword arguments given as JSON values (``--ping_interval=0.3``).
Messages are echoed; a message ``"disconnect me"`` makes the server close the
session, and ``"stats"`` answers with a JSON object of the server's counters
(see ``stats()``).
Send commands (F-03, F-04), each reported as event lines:

- ``"broadcast <text>"`` / ``"broadcastbin <hex>"``: ``send_to_many`` to every
  session plus an unknown sid;
- ``"confirm <text>"``: sends ``<text>`` back with a callback, which prints
  ``{"event": "sent", "sid", "data", "error"}`` (error: exception class name);
- ``"flood <n>"``: sends ``f0`` .. ``f<n-1>`` back with such callbacks, then
  prints ``{"event": "flooded", "sid", "buffered"}`` (``buffered_amount``);
- ``"slow <seconds>"``: the handler sleeps that long (``eio.sleep``), then
  sends ``slept <seconds>`` back (async_handlers: others go on meanwhile);
- with the hook option ``--report_drain=true``, the ``drain`` event prints
  ``{"event": "drain", "sid"}``.

Two commands drive the fault and load tests (tests/server/test_faults.py):
``"push <count> <interval_ms> <size> [<sid>]"`` sends ``count`` numbered
messages ``p<i>`` (padded with ``.`` to ``size`` characters) to the sender, or
to ``<sid>``, one every ``interval_ms`` from a background task, and reports a
``pushed`` event; ``"shutdown"`` closes every session with ``disconnect()``,
then calls ``shutdown()`` (S-14, S-17) and reports a ``shutdown`` event.

Every lifecycle event is also printed as a JSON line on stdout, so tests can
assert disconnect reasons.

Sync modes (threading, eventlet, gevent, gevent_uwsgi) run a ``Server``;
async modes run an ``AsyncServer`` with coroutine handlers: ``asgi`` on
uvicorn, ``hypercorn`` (the asgi mode on hypercorn), ``native`` (the same
``ASGIApp`` on engineio_fast's own transport), ``aiohttp``, ``tornado`` and
``sanic``, each on the framework's own server.

These options are test hooks rather than Server arguments:

- ``--forbid_header=X-Block`` installs an ``allow_request`` (F-01) that
  returns the JSON value of that request header when present (``false`` →
  403 ``"Forbidden"``, ``"text"`` or ``{...}`` → 403 with that body), else None.
- ``--connect_delay=0.5`` makes the connect handler sleep that long after
  reporting the ``connect`` event, so a test can use the sid while the
  handler still runs (P-21).
- ``--worker_idle_timeout=1`` retires idle worker threads (threading mode)
  after that many seconds instead of 10, so a test sees the thread count
  settle back quickly.
- ``--gevent_websocket=true`` (gevent mode) serves with gevent-websocket's
  ``WebSocketHandler``, so websockets arrive as ``wsgi.websocket``.
- ``--uvicorn_ws=wsproto`` (asgi mode) picks uvicorn's websocket
  implementation (its ``ws`` setting; ``auto`` by default).
"""

import gc
import json
import os
import sys
import threading
import time

# tests/helpers: this script's folder, on PYTHONPATH under uWSGI too
from ports import free_port, listening_socket

ARGV = (
    json.loads(os.environ['ECHO_SERVER_ARGV']) if 'ECHO_SERVER_ARGV' in os.environ else sys.argv[1:]
)
MODE = ARGV[0]


def serve_uwsgi() -> None:
    """Run this file under uWSGI's gevent loop on a free port, until terminated.

    ``PORT`` is printed once uWSGI accepts connections; SIGTERM stops uWSGI
    (and its worker) before this process exits.
    """
    import signal
    import socket
    import subprocess

    port = free_port()
    uwsgi = os.path.join(os.path.dirname(sys.executable), 'uwsgi')
    child = subprocess.Popen(
        [
            uwsgi,
            '--http-socket',
            '127.0.0.1:%d' % port,
            '--gevent',
            '100',
            '--http-websockets',
            '--wsgi-file',
            os.path.abspath(__file__),
            '--callable',
            'application',
            '--disable-logging',
            '--die-on-term',
            '--need-app',
            '--master',
            '--processes',
            '1',
            '--worker-reload-mercy',
            '1',
            '--gevent-monkey-patch',
        ],
        env=dict(os.environ, ECHO_SERVER_ARGV=json.dumps(ARGV)),
    )
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and child.poll() is None:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    print('PORT', port, flush=True)
    sys.exit(child.wait())


if MODE == 'gevent_uwsgi' and __name__ == '__main__':
    serve_uwsgi()
elif MODE == 'eventlet':
    import eventlet

    eventlet.monkey_patch()
elif MODE == 'gevent':
    from gevent import monkey

    monkey.patch_all()

import engineio_fast  # noqa: E402

#: Async modes: the async_mode of the AsyncServer each one runs.
ASYNC_MODES = {
    'asgi': 'asgi',
    'hypercorn': 'asgi',
    'native': 'asgi',
    'aiohttp': 'aiohttp',
    'tornado': 'tornado',
    'sanic': 'sanic',
}
IS_ASYNC = MODE in ASYNC_MODES


def _options() -> dict:
    options = {'async_mode': ASYNC_MODES.get(MODE, MODE)}
    for arg in ARGV[1:]:
        name, _, value = arg[2:].partition('=')
        options[name] = json.loads(value)
    if isinstance(options.get('ping_interval'), list):
        options['ping_interval'] = tuple(options['ping_interval'])
    return options


def report(**event) -> None:
    # One write per line: print() writes the text and the newline separately,
    # so lines reported by two threads at once could merge and be lost.
    sys.stdout.write(json.dumps(event) + '\n')
    sys.stdout.flush()


OPTIONS = _options()
FORBID_HEADER = OPTIONS.pop('forbid_header', None)
CONNECT_DELAY = OPTIONS.pop('connect_delay', 0)
REPORT_DRAIN = OPTIONS.pop('report_drain', False)
WORKER_IDLE_TIMEOUT = OPTIONS.pop('worker_idle_timeout', None)
GEVENT_WEBSOCKET = OPTIONS.pop('gevent_websocket', False)
UVICORN_WS = OPTIONS.pop('uvicorn_ws', 'auto')


def allow_request(environ):
    value = environ.get('HTTP_' + FORBID_HEADER.upper().replace('-', '_'))
    return None if value is None else json.loads(value)


if FORBID_HEADER:
    OPTIONS['allow_request'] = allow_request


def on_disconnect(sid, reason):
    report(event='disconnect', sid=sid, reason=reason)


def on_drain(sid):
    report(event='drain', sid=sid)


def confirmation(sid, data):
    """A send callback printing the outcome of sending ``data`` to ``sid``."""

    def callback(error):
        report(event='sent', sid=sid, data=data, error=error and type(error).__name__)

    return callback


def parse_command(data):
    """``(name, argument)`` of a send command message, or None."""
    if isinstance(data, str):
        name, _, argument = data.partition(' ')
        if name in ('broadcast', 'broadcastbin', 'confirm', 'flood', 'slow'):
            if name == 'broadcastbin':
                argument = bytes.fromhex(argument)
            return name, argument
    return None


def connect_event(sid, environ):
    """Report a connection; False when the query asks to refuse it."""
    report(
        event='connect',
        sid=sid,
        remote=environ.get('REMOTE_ADDR'),
        scheme=environ.get('wsgi.url_scheme'),
    )
    return False if 'refuse=1' in environ.get('QUERY_STRING', '') else None


def _greenlets() -> int:
    """Live greenlets (eventlet and gevent tasks)."""
    import greenlet  # only installed with eventlet or gevent

    return sum(1 for obj in gc.get_objects() if isinstance(obj, greenlet.greenlet) and obj)


def stats(tasks: int | None = None) -> dict:
    """The server's counters: sessions, OS threads, tasks, open fds and RSS bytes.

    ``tasks`` counts asyncio tasks in async modes and live greenlets under
    eventlet and gevent (0 in threading mode, where threads are the tasks).
    Garbage is collected first: a socket in a reference cycle keeps its fd
    until then, which is not a leak.
    """
    gc.collect()
    with open('/proc/self/status') as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith('VmRSS:'))
    if tasks is None:
        tasks = 0 if MODE == 'threading' else _greenlets()
    return {
        'clients': eio.clients_count,
        'threads': threading.active_count(),
        'tasks': tasks,
        'fds': len(os.listdir('/proc/self/fd')),
        'rss': rss * 1024,
        'pid': os.getpid(),
    }


def push_command(data, sid):
    """``(count, interval in s, size, target sid)`` of a push command, else None."""
    if not isinstance(data, str) or not data.startswith('push '):
        return None
    count, interval_ms, size, *target = data.split()[1:]
    return int(count), int(interval_ms) / 1000, int(size), target[0] if target else sid


def pushed_message(i: int, size: int) -> str:
    text = 'p%d' % i
    return text + '.' * (size - len(text))


if IS_ASYNC:
    import asyncio

    eio = engineio_fast.AsyncServer(**OPTIONS)

    async def push(sid, count, interval, size):
        """Send numbered messages to ``sid`` until ``count`` or its session ends."""
        sent = 0
        while sent < count and sid in eio.sockets:
            await eio.send(sid, pushed_message(sent, size))
            sent += 1
            await asyncio.sleep(interval)
        report(event='pushed', sid=sid, sent=sent)

    async def shutdown():
        await eio.disconnect()
        await eio.shutdown()
        report(event='shutdown', clients=eio.clients_count)

    @eio.on('connect')
    async def on_connect(sid, environ):
        verdict = connect_event(sid, environ)
        if CONNECT_DELAY:
            await asyncio.sleep(CONNECT_DELAY)
        return verdict

    @eio.on('message')
    async def on_message(sid, data):
        if data == 'disconnect me':
            await eio.disconnect(sid)
        elif data == 'stats':
            await eio.send(sid, stats(len(asyncio.all_tasks())))
        elif data == 'shutdown':
            await shutdown()
        elif push_command(data, sid):
            count, interval, size, target = push_command(data, sid)
            eio.start_background_task(push, target, count, interval, size)
        elif parse_command(data):
            await run_command(sid, *parse_command(data))
        else:
            await eio.send(sid, data)

    async def run_command(sid, name, argument):
        if name.startswith('broadcast'):
            await eio.send_to_many(list(eio.sockets) + ['no-such-sid'], argument)
        elif name == 'confirm':
            report_sent = confirmation(sid, argument)

            async def callback(error):  # a coroutine callback runs as a task
                report_sent(error)

            await eio.send(sid, argument, callback=callback)
        elif name == 'slow':
            await eio.sleep(float(argument))
            await eio.send(sid, 'slept ' + argument)
        else:
            for i in range(int(argument)):
                await eio.send(sid, 'f%d' % i, callback=confirmation(sid, 'f%d' % i))
            buffered = eio.buffered_amount(sid) if sid in eio.sockets else None
            report(event='flooded', sid=sid, buffered=buffered)

else:
    eio = engineio_fast.Server(**OPTIONS)
    if WORKER_IDLE_TIMEOUT is not None and eio._workers is not None:
        eio._workers._idle_timeout = WORKER_IDLE_TIMEOUT

    def push(sid, count, interval, size):
        """Send numbered messages to ``sid`` until ``count`` or its session ends."""
        sent = 0
        while sent < count and sid in eio.sockets:
            eio.send(sid, pushed_message(sent, size))
            sent += 1
            eio.sleep(interval)
        report(event='pushed', sid=sid, sent=sent)

    def shutdown():
        eio.disconnect()
        eio.shutdown()
        report(event='shutdown', clients=eio.clients_count)

    @eio.on('connect')
    def on_connect(sid, environ):
        verdict = connect_event(sid, environ)
        if CONNECT_DELAY:
            time.sleep(CONNECT_DELAY)
        return verdict

    @eio.on('message')
    def on_message(sid, data):
        if data == 'disconnect me':
            eio.disconnect(sid)
        elif data == 'stats':
            eio.send(sid, stats())
        elif data == 'shutdown':
            shutdown()
        elif push_command(data, sid):
            count, interval, size, target = push_command(data, sid)
            eio.start_background_task(push, target, count, interval, size)
        elif parse_command(data):
            run_command(sid, *parse_command(data))
        else:
            eio.send(sid, data)

    def run_command(sid, name, argument):
        if name.startswith('broadcast'):
            eio.send_to_many(list(eio.sockets) + ['no-such-sid'], argument)
        elif name == 'confirm':
            eio.send(sid, argument, callback=confirmation(sid, argument))
        elif name == 'slow':
            eio.sleep(float(argument))
            eio.send(sid, 'slept ' + argument)
        else:
            for i in range(int(argument)):
                eio.send(sid, 'f%d' % i, callback=confirmation(sid, 'f%d' % i))
            buffered = eio.buffered_amount(sid) if sid in eio.sockets else None
            report(event='flooded', sid=sid, buffered=buffered)


eio.on('disconnect', on_disconnect)
if REPORT_DRAIN:
    eio.on('drain', on_drain)


#: Listen backlog of every server: the load tests open 1,000 connections at once.
BACKLOG = 1024


def server_socket():
    """A socket listening on a free loopback port, TCP_NODELAY inherited by connections."""
    sock = listening_socket(BACKLOG, nodelay=True)
    sock.set_inheritable(True)
    return sock


def announce(sock) -> None:
    print('PORT', sock.getsockname()[1], flush=True)


def serve_threading(app):
    from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler, make_server

    WSGIRequestHandler.log_request = lambda *args, **kwargs: None
    ThreadedWSGIServer.request_queue_size = BACKLOG
    server = make_server('127.0.0.1', 0, app, threaded=True)
    print('PORT', server.server_port, flush=True)
    server.serve_forever()


def serve_eventlet(app):
    from eventlet import wsgi

    sock = eventlet.listen(('127.0.0.1', 0), backlog=BACKLOG)
    print('PORT', sock.getsockname()[1], flush=True)
    wsgi.server(sock, app, log_output=False)


def serve_gevent(app):
    from gevent.pywsgi import WSGIServer

    handler = {}
    if GEVENT_WEBSOCKET:
        from geventwebsocket.handler import WebSocketHandler

        handler['handler_class'] = WebSocketHandler
    server = WSGIServer(('127.0.0.1', 0), app, log=None, backlog=BACKLOG, **handler)
    server.start()
    print('PORT', server.server_port, flush=True)
    server.serve_forever()


def serve_asgi(_):
    import uvicorn

    sock = server_socket()
    config = uvicorn.Config(
        engineio_fast.ASGIApp(eio), log_level='warning', lifespan='off', ws=UVICORN_WS
    )
    announce(sock)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def serve_native(_):
    from engineio_fast.native import serve

    sock = server_socket()
    announce(sock)
    serve(engineio_fast.ASGIApp(eio), sock=sock, lifespan='off')


def serve_hypercorn(_):
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    sock = server_socket()
    config = Config()
    config.bind = ['fd://%d' % sock.fileno()]
    config.accesslog = None
    config.errorlog = None
    announce(sock)
    asyncio.run(serve(engineio_fast.ASGIApp(eio), config))


def serve_aiohttp(_):
    from aiohttp import web

    app = web.Application()
    eio.attach(app)
    sock = server_socket()
    announce(sock)
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


def serve_tornado(_):
    import tornado.httpserver
    import tornado.web

    async def main():
        app = tornado.web.Application([(r'/engine.io/', engineio_fast.get_tornado_handler(eio))])
        server = tornado.httpserver.HTTPServer(app)
        sock = server_socket()
        sock.setblocking(False)  # tornado's accept loop expects bind_sockets' non-blocking sockets
        server.add_sockets([sock])
        announce(sock)
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_sanic(_):
    from sanic import Sanic

    app = Sanic('echo_server')
    eio.attach(app)
    sock = server_socket()
    announce(sock)
    app.run(sock=sock, single_process=True, access_log=False, motd=False)


application = eio.handle_request

if __name__ == '__main__':
    servers = {
        'threading': serve_threading,
        'eventlet': serve_eventlet,
        'gevent': serve_gevent,
        'asgi': serve_asgi,
        'hypercorn': serve_hypercorn,
        'native': serve_native,
        'aiohttp': serve_aiohttp,
        'tornado': serve_tornado,
        'sanic': serve_sanic,
    }
    servers[MODE](application)
