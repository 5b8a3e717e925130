"""A Socket.IO test server on engineio_fast via ``install()``, started in its own process.

Usage: ``python tests/compat/sio_app.py MODE [--admin=true] [--ping_interval=1]``;
prints ``PORT <n>`` once it listens on 127.0.0.1 and serves until killed.

``engineio_fast.install()`` runs first, so python-socketio and Flask-SocketIO
build their servers on engineio_fast; the first event line (``startup``)
reports the classes they really got, and the tests assert it.  Modes:

- ``asgi``: ``socketio.AsyncServer`` + ``socketio.ASGIApp`` on uvicorn;
- ``native``: the same app on engineio_fast's own transport (``engineio_fast.native.serve``);
- ``threading``: ``socketio.Server`` + ``socketio.WSGIApp`` on werkzeug's threaded server;
- ``flask``: Flask + Flask-SocketIO (``async_mode='threading'``) on werkzeug.

``--admin=true`` instruments the server for the Socket.IO Admin UI
(``instrument(auth=False)``, stats every 0.5 s); ``--json="json_fast"``
passes ``json=engineio_fast.json_fast``; other options are JSON values passed
to the server (``ping_interval``).

Namespaces ``/`` and ``/chat`` share one set of handlers.  A connection needs
``auth = {"token": "secret", "name": <tag>}``; any other token is refused with
``ConnectionRefusedError('bad token', {'token': <token>})``.  Events (the ack
value in brackets):

- ``echo *args`` [the same args];
- ``join room`` / ``leave room`` ["joined" / "left"]; ``rooms`` [sorted rooms];
- ``to_room room payload [skip_self]`` emits ``room_msg {from, room, payload}`` to the room;
- ``broadcast payload [skip_self]`` emits ``bcast {from, payload}`` to the namespace ["sent"];
- ``bin_push`` emits ``bin`` with nested binary attachments [``b'\\x01\\x02'``, "tail"];
- ``whoami`` [``{name, transport}``]; ``kick``: the server disconnects the sender;
- ``remember value`` ["saved"] / ``recall`` [the session dict]: the Socket.IO session
  (``save_session`` / ``get_session``, stored in the Engine.IO session).

Lifecycle events are printed as JSON lines: ``connect`` (with auth),
``refused``, ``disconnect`` (with reason).
"""

from __future__ import annotations

import engineio_fast

engineio_fast.install()  # before anything imports socketio / engineio

import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from typing import Any, Callable  # noqa: E402

import engineio  # noqa: E402  (engineio_fast itself, after install())
import socketio  # noqa: E402
from ports import listening_socket  # noqa: E402  (tests/helpers, on PYTHONPATH)

from engineio_fast import json_fast  # noqa: E402

NAMESPACES = ('/', '/chat')
EVENTS = (
    'echo',
    'join',
    'leave',
    'rooms',
    'to_room',
    'broadcast',
    'bin_push',
    'whoami',
    'remember',
    'recall',
    'kick',
)
BIN_PUSH = {'raw': bytes(range(256)), 'nested': [b'\x00\xff', {'deep': b'x'}], 'text': 'ok'}

_print_lock = threading.Lock()


def report(**event: Any) -> None:
    """Print one event line (handlers run on several threads in the sync modes)."""
    with _print_lock:
        print(json.dumps(event), flush=True)


def run_sync(coroutine: Any) -> Any:
    """Run a coroutine that never suspends (the sync API wrappers below) to its result."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError('a sync-mode handler suspended')


class SyncApi:
    """python-socketio's ``Server`` API behind awaitables, so one handler set serves all modes."""

    def __init__(self, sio: socketio.Server):
        self.sio = sio

    async def emit(self, event: str, data: Any, namespace: str, to: Any = None, skip_sid=None):
        self.sio.emit(event, data, to=to, namespace=namespace, skip_sid=skip_sid)

    async def enter_room(self, sid: str, room: str, namespace: str) -> None:
        self.sio.enter_room(sid, room, namespace=namespace)

    async def leave_room(self, sid: str, room: str, namespace: str) -> None:
        self.sio.leave_room(sid, room, namespace=namespace)

    async def disconnect(self, sid: str, namespace: str) -> None:
        self.sio.disconnect(sid, namespace=namespace)

    async def save_session(self, sid: str, session: dict, namespace: str) -> None:
        self.sio.save_session(sid, session, namespace=namespace)

    async def get_session(self, sid: str, namespace: str) -> dict:
        return self.sio.get_session(sid, namespace=namespace)

    def rooms(self, sid: str, namespace: str) -> list:
        return self.sio.rooms(sid, namespace=namespace)

    def transport(self, sid: str, namespace: str) -> str:
        return self.sio.transport(sid, namespace=namespace)


class AsyncApi(SyncApi):
    """The same API on a ``socketio.AsyncServer``."""

    async def emit(self, event: str, data: Any, namespace: str, to: Any = None, skip_sid=None):
        await self.sio.emit(event, data, to=to, namespace=namespace, skip_sid=skip_sid)

    async def enter_room(self, sid: str, room: str, namespace: str) -> None:
        await self.sio.enter_room(sid, room, namespace=namespace)

    async def leave_room(self, sid: str, room: str, namespace: str) -> None:
        await self.sio.leave_room(sid, room, namespace=namespace)

    async def disconnect(self, sid: str, namespace: str) -> None:
        await self.sio.disconnect(sid, namespace=namespace)

    async def save_session(self, sid: str, session: dict, namespace: str) -> None:
        await self.sio.save_session(sid, session, namespace=namespace)

    async def get_session(self, sid: str, namespace: str) -> dict:
        return await self.sio.get_session(sid, namespace=namespace)


class FlaskApi(SyncApi):
    """Flask-SocketIO's own helpers (they need the request context its handlers run in)."""

    def __init__(self, socketio_ext: Any):
        import flask_socketio  # deferred: only the flask mode needs Flask

        self.ext = socketio_ext
        self.fs = flask_socketio
        self.sio = socketio_ext.server

    async def emit(self, event: str, data: Any, namespace: str, to: Any = None, skip_sid=None):
        self.ext.emit(event, data, to=to, namespace=namespace, skip_sid=skip_sid)

    async def enter_room(self, sid: str, room: str, namespace: str) -> None:
        self.fs.join_room(room, sid=sid, namespace=namespace)

    async def leave_room(self, sid: str, room: str, namespace: str) -> None:
        self.fs.leave_room(room, sid=sid, namespace=namespace)

    async def disconnect(self, sid: str, namespace: str) -> None:
        self.fs.disconnect(sid, namespace=namespace)

    def rooms(self, sid: str, namespace: str) -> list:
        return self.fs.rooms(sid, namespace=namespace)


class Handlers:
    """The application: coroutines over an API object, wrapped per mode in ``build_*``."""

    def __init__(self, api: SyncApi):
        self.api = api
        self.names: dict[tuple[str, str], str] = {}

    async def connect(self, ns: str, sid: str, auth: Any) -> None:
        token = auth.get('token') if isinstance(auth, dict) else None
        if token != 'secret':
            report(event='refused', ns=ns, auth=auth)
            raise socketio.exceptions.ConnectionRefusedError('bad token', {'token': token})
        self.names[ns, sid] = auth.get('name')
        report(event='connect', ns=ns, name=auth.get('name'), auth=auth)

    async def disconnect(self, ns: str, sid: str, reason: Any) -> None:
        report(event='disconnect', ns=ns, name=self.names.pop((ns, sid), None), reason=reason)

    async def event(self, ns: str, sid: str, name: str, *args: Any) -> Any:
        api, me = self.api, self.names.get((ns, sid))
        if name == 'echo':
            return args
        if name == 'join':
            await api.enter_room(sid, args[0], ns)
            return 'joined'
        if name == 'leave':
            await api.leave_room(sid, args[0], ns)
            return 'left'
        if name == 'rooms':
            return sorted(room for room in api.rooms(sid, ns) if room != sid)
        if name == 'to_room':
            skip = sid if len(args) > 2 and args[2] else None
            data = {'from': me, 'room': args[0], 'payload': args[1]}
            await api.emit('room_msg', data, ns, to=args[0], skip_sid=skip)
            return 'sent'
        if name == 'broadcast':
            skip = sid if len(args) > 1 and args[1] else None
            await api.emit('bcast', {'from': me, 'payload': args[0]}, ns, skip_sid=skip)
            return 'sent'
        if name == 'bin_push':
            await api.emit('bin', BIN_PUSH, ns, to=sid)
            return b'\x01\x02', 'tail'
        if name == 'whoami':
            return {'name': me, 'transport': api.transport(sid, ns)}
        if name == 'remember':
            await api.save_session(sid, {'value': args[0]}, ns)
            return 'saved'
        if name == 'recall':
            return await api.get_session(sid, ns)
        if name == 'kick':
            await api.disconnect(sid, ns)
            return None
        raise ValueError(name)


def startup_line(mode: str, sio: Any) -> None:
    eio_type = type(sio.eio)
    report(
        event='startup',
        mode=mode,
        eio_class='%s.%s' % (eio_type.__module__, eio_type.__qualname__),
        engineio=engineio.__name__,
        socket_class=engineio.socket.Socket.__module__,
        async_mode=sio.async_mode,
        json=[sio.packet_class.json.__name__, engineio.packet.Packet.json.__name__],
    )


def wrap_sync(make: Callable) -> Callable:
    """A sync handler running the coroutine ``make(*args)`` returns."""

    def handler(*args: Any) -> Any:
        return run_sync(make(*args))

    return handler


def wrap_async(make: Callable) -> Callable:
    """A coroutine handler awaiting ``make(*args)``."""

    async def handler(*args: Any) -> Any:
        return await make(*args)

    return handler


def register(sio: Any, handlers: Handlers, wrap: Callable) -> None:
    """Register the handlers on a python-socketio server, for both namespaces."""
    for ns in NAMESPACES:

        def on_connect(sid, environ, auth=None, ns=ns):
            return handlers.connect(ns, sid, auth)

        def on_disconnect(sid, reason, ns=ns):
            return handlers.disconnect(ns, sid, reason)

        sio.on('connect', wrap(on_connect), namespace=ns)
        sio.on('disconnect', wrap(on_disconnect), namespace=ns)
        for name in EVENTS:

            def on_event(sid, *args, ns=ns, name=name):
                return handlers.event(ns, sid, name, *args)

            sio.on(name, wrap(on_event), namespace=ns)


def register_flask(ext: Any, handlers: Handlers) -> None:
    """Register the handlers through Flask-SocketIO's decorators (sid from ``request``)."""
    from flask import request  # deferred: only the flask mode needs Flask

    for ns in NAMESPACES:

        def on_connect(auth=None, ns=ns):
            return run_sync(handlers.connect(ns, request.sid, auth))

        def on_disconnect(reason=None, ns=ns):
            return run_sync(handlers.disconnect(ns, request.sid, reason))

        ext.on('connect', namespace=ns)(on_connect)
        ext.on('disconnect', namespace=ns)(on_disconnect)
        for name in EVENTS:

            def on_event(*args, ns=ns, name=name):
                return run_sync(handlers.event(ns, request.sid, name, *args))

            ext.on(name, namespace=ns)(on_event)


def serve_wsgi(app: Any) -> None:
    from werkzeug.serving import WSGIRequestHandler, make_server

    WSGIRequestHandler.log_request = lambda *args, **kwargs: None
    server = make_server('127.0.0.1', 0, app, threaded=True)
    print('PORT', server.server_port, flush=True)
    server.serve_forever()


def serve_asgi(app: Any) -> None:
    import uvicorn

    sock = listening_socket()
    config = uvicorn.Config(app, log_level='warning', lifespan='off')
    print('PORT', sock.getsockname()[1], flush=True)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def serve_native(app: Any) -> None:
    from engineio_fast.native import serve

    sock = listening_socket()
    print('PORT', sock.getsockname()[1], flush=True)
    serve(app, sock=sock, lifespan='off')


def parse_options(argv: list[str]) -> dict:
    options = {}
    for arg in argv:
        name, _, value = arg[2:].partition('=')
        options[name] = json.loads(value)
    return options


def main() -> None:
    mode, options = sys.argv[1], parse_options(sys.argv[2:])
    admin = options.pop('admin', False)
    if options.get('json') == 'json_fast':
        options['json'] = json_fast
    if mode in ('asgi', 'native'):
        sio = socketio.AsyncServer(async_mode='asgi', **options)
        register(sio, Handlers(AsyncApi(sio)), wrap_async)
        app, serve = socketio.ASGIApp(sio), serve_asgi if mode == 'asgi' else serve_native
    elif mode == 'threading':
        sio = socketio.Server(async_mode='threading', **options)
        register(sio, Handlers(SyncApi(sio)), wrap_sync)
        app, serve = socketio.WSGIApp(sio), serve_wsgi
    elif mode == 'flask':
        from flask import Flask  # deferred: only the flask mode needs Flask
        from flask_socketio import SocketIO

        app = Flask(__name__)
        ext = SocketIO(app, async_mode='threading', **options)
        register_flask(ext, Handlers(FlaskApi(ext)))
        sio, serve = ext.server, serve_wsgi
    else:
        raise SystemExit('unknown mode %r' % mode)
    if admin:
        sio.instrument(auth=False, server_stats_interval=0.5)
    startup_line(mode, sio)
    serve(app)


if __name__ == '__main__':
    main()
