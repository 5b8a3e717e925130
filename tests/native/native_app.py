"""An Engine.IO echo app on the native server, started in its own process by tests/native.

Usage: ``python tests/native/native_app.py --config=JSON``.  The script binds a
free 127.0.0.1 port, prints ``PORT <n>`` and serves it with
``engineio_fast.native.serve`` until SIGINT or SIGTERM, then exits with
``serve()``'s status.  Imported as a module (``python -m engineio_fast serve
native_app:app``) it builds the same ``app`` from the ``NATIVE_APP_CONFIG``
environment variable.  The JSON config (every key optional):

- ``limits``: ``Limits`` fields (``header_timeout``, ``keep_alive_timeout``, ...);
- ``eio``: ``AsyncServer`` keyword arguments (``ping_interval``, ``ping_timeout``, ...);
- ``certfile`` / ``keyfile``: serve TLS with that certificate and key;
- ``proxy_headers`` / ``forwarded_allow_ips``: ``serve()``'s proxy options;
- ``root_path``: ``serve()``'s ``root_path`` (a proxy's path prefix);
- ``graceful``: ``Limits.graceful_shutdown_timeout`` (shortcut).

Every line it prints is flushed.  Event lines (JSON) on stdout:

- ``{"event": "connect", "sid", "remote", "scheme", "transport", "in_task", "marked",
  "timed_out"}`` (REMOTE_ADDR and ``wsgi.url_scheme`` of the handshake's environ;
  whether the handler ran in a task, with ``asyncio.timeout()`` working; whether
  the environ already held the key the handler then adds to it; with an
  ``X-Timeout-Probe`` request header, whether an ``asyncio.timeout()`` that
  expires while the handler waits raised ``TimeoutError`` in it, else null);
- ``{"event": "disconnect", "sid", "reason"}``;
- ``{"event": "pushed", "sid", "sent", "error"}`` at the end of a push;
- ``{"event": "body", "size", "sha256"}`` for each POST the other app read;
- lifespan hooks print ``HOOK startup`` and ``HOOK shutdown``.

Engine.IO messages are echoed, except these commands:

- ``"push <count> <size>"``: a background task sends ``count`` messages of
  ``size`` characters to the sender as fast as ``send`` returns, then reports
  ``pushed`` (``sent``: how many were sent; ``error``: why it stopped, if it did);
- ``"in task?"``: answers ``"in task: True"`` when the message handler runs in a
  task (``asyncio.timeout()`` works there), else ``"in task: False"``;
- ``"timeout?"``: answers ``"timed out"`` when an ``asyncio.timeout()`` that expires
  while the message handler waits raises ``TimeoutError`` in it, else ``"not timed out"``;
  ``"timeout now?"`` does the same with a timeout that expires at once (``0``);
- ``"marker?"``: answers ``"marker: <value>"``, the ``MARKER`` context variable
  as the message handler sees it (the connect handler sets it to the sid);
- ``"confirm <text>"``: sends ``<text>`` back with a callback, which reports
  ``{"event": "sent", "sid", "data", "error"}`` (error: exception class name or null);
- ``"stats [<sid>]"``: answers the JSON object of ``stats()``: RSS, open
  connections, and for ``<sid>`` (default: the sender) its connection's
  write buffer size and whether reading and writing are paused.

The ``other_asgi_app`` answers everything that is not Engine.IO:

- ``GET /info``: JSON of the scope (type, method, path, query, scheme,
  client, http_version);
- ``GET /stream?n=K``: a streamed (chunked) body of K chunks ``chunk <i>\\n``;
- ``GET /slow?s=X``: answers ``slept`` after X seconds;
- ``POST /echo``: reads the whole body, answers ``{"size", "sha256"}``;
- a websocket on any path: accepted, text and bytes echoed, ``"close"`` closes with 1000;
- anything else: 200 ``other <path>``.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import os
import sys
from urllib.parse import parse_qs

import engineio_fast
from engineio_fast.native import Limits, serve

if __name__ == '__main__':
    CONFIG: dict = {}
    for arg in sys.argv[1:]:
        if arg.startswith('--config='):
            CONFIG = json.loads(arg[len('--config=') :])
else:
    CONFIG = json.loads(os.environ.get('NATIVE_APP_CONFIG', '{}'))


def say(line: str) -> None:
    # One write per line, so lines of two tasks never merge.
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def report(**event) -> None:
    say(json.dumps(event))


#: Set by the connect handler, read by the ``marker?`` message.
MARKER: contextvars.ContextVar[str] = contextvars.ContextVar('MARKER', default='unset')
eio = engineio_fast.AsyncServer(async_mode='asgi', **CONFIG.get('eio', {}))
#: The native connection each session's handshake (or websocket) arrived on.
connections: dict = {}


def stats(sid: str | None) -> dict:
    with open('/proc/self/status') as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith('VmRSS:'))
    result: dict = {'rss': rss * 1024, 'clients': eio.clients_count}
    connection = connections.get(sid)
    if connection is not None:
        transport = connection.transport
        result.update(
            connections=len(connection.service.connections),
            write_buffer=transport.get_write_buffer_size() if transport is not None else None,
            write_paused=connection.write_paused,
            reading_paused=connection.reading_paused,
        )
    return result


@eio.on('connect')
async def on_connect(sid, environ):
    connections[sid] = environ.get('engineio_fast.connection')
    report(
        event='connect',
        sid=sid,
        remote=environ.get('REMOTE_ADDR'),
        scheme=environ.get('wsgi.url_scheme'),
        transport=parse_qs(environ.get('QUERY_STRING', '')).get('transport', [None])[0],
        in_task=await in_a_task(),
        marked='native_app.mark' in environ,
        timed_out=await timeout_fires() if 'HTTP_X_TIMEOUT_PROBE' in environ else None,
    )
    environ['native_app.mark'] = True  # must not reach another request's environ
    MARKER.set(sid)


async def in_a_task() -> bool:
    """Whether this handler runs in a task: ``asyncio.timeout()`` needs one."""
    if asyncio.current_task() is None:
        return False
    async with asyncio.timeout(5):
        await asyncio.sleep(0)
    return True


async def timeout_fires(delay: float = 0.05) -> bool:
    """Whether an ``asyncio.timeout()`` expiring while this handler waits raises in it."""
    try:
        async with asyncio.timeout(delay):
            await asyncio.sleep(5)
    except TimeoutError:
        return True
    return False


@eio.on('disconnect')
async def on_disconnect(sid, reason):
    report(event='disconnect', sid=sid, reason=reason)


async def push(sid: str, count: int, size: int) -> None:
    sent, error = 0, None
    message = 'x' * size
    try:
        while sent < count and sid in eio.sockets:
            await eio.send(sid, message)
            sent += 1
            if sent % 16 == 0:
                await asyncio.sleep(0)  # let the writer run
    except Exception as exc:
        error = type(exc).__name__
    report(event='pushed', sid=sid, sent=sent, error=error)


@eio.on('message')
async def on_message(sid, data):
    if isinstance(data, str) and data.startswith('push '):
        count, size = data.split()[1:]
        eio.start_background_task(push, sid, int(count), int(size))
    elif isinstance(data, str) and data.startswith('confirm '):
        text = data[len('confirm ') :]

        def callback(error):
            report(event='sent', sid=sid, data=text, error=error and type(error).__name__)

        await eio.send(sid, text, callback=callback)
    elif data == 'timeout?':
        await eio.send(sid, 'timed out' if await timeout_fires() else 'not timed out')
    elif data == 'timeout now?':
        await eio.send(sid, 'timed out' if await timeout_fires(0) else 'not timed out')
    elif data == 'marker?':
        await eio.send(sid, 'marker: %s' % MARKER.get())
    elif data == 'in task?':
        await eio.send(sid, 'in task: %s' % await in_a_task())
    elif isinstance(data, str) and (data == 'stats' or data.startswith('stats ')):
        target = data.split()[1] if ' ' in data else sid
        await eio.send(sid, json.dumps(stats(target)))
    else:
        await eio.send(sid, data)


async def respond(send, status: int, body: bytes, content_type: bytes = b'text/plain') -> None:
    await send(
        {
            'type': 'http.response.start',
            'status': status,
            'headers': [
                (b'content-type', content_type),
                (b'content-length', str(len(body)).encode()),
            ],
        }
    )
    await send({'type': 'http.response.body', 'body': body})


async def other_app(scope, receive, send):
    """The ``other_asgi_app`` (see the module docstring)."""
    if scope['type'] == 'websocket':
        await receive()  # websocket.connect
        await send({'type': 'websocket.accept'})
        while True:
            message = await receive()
            if message['type'] == 'websocket.disconnect':
                return
            if message.get('text') == 'close':
                await send({'type': 'websocket.close', 'code': 1000})
                return
            if message.get('text') is not None:
                await send({'type': 'websocket.send', 'text': message['text']})
            else:
                await send({'type': 'websocket.send', 'bytes': message['bytes']})
    if scope['type'] != 'http':
        return
    path = scope['path']
    query = parse_qs(scope['query_string'].decode())
    if path == scope['root_path'] + '/info':
        info = {
            key: scope[key]
            for key in ('type', 'method', 'path', 'scheme', 'client', 'http_version')
        }
        if scope['root_path']:
            info['root_path'] = scope['root_path']
        info['query'] = scope['query_string'].decode()
        await respond(send, 200, json.dumps(info).encode(), b'application/json')
    elif path == '/stream':
        await send(
            {
                'type': 'http.response.start',
                'status': 200,
                'headers': [(b'content-type', b'text/plain')],
            }
        )
        for i in range(int(query.get('n', ['3'])[0])):
            await send({'type': 'http.response.body', 'body': b'chunk %d\n' % i, 'more_body': True})
            await asyncio.sleep(0.01)
        await send({'type': 'http.response.body', 'body': b''})
    elif path == '/slow':
        await asyncio.sleep(float(query.get('s', ['1'])[0]))
        await respond(send, 200, b'slept')
    elif path == '/echo' and scope['method'] == 'POST':
        digest, size, more = hashlib.sha256(), 0, True
        while more:
            message = await receive()
            if message['type'] != 'http.request':
                return
            digest.update(message.get('body', b''))
            size += len(message.get('body', b''))
            more = message.get('more_body', False)
        report(event='body', size=size, sha256=digest.hexdigest())
        body = json.dumps({'size': size, 'sha256': digest.hexdigest()}).encode()
        await respond(send, 200, body, b'application/json')
    else:
        await respond(send, 200, b'other ' + path.encode())


def on_startup():
    say('HOOK startup')


def on_shutdown():
    say('HOOK shutdown')


app = engineio_fast.ASGIApp(
    eio, other_asgi_app=other_app, on_startup=on_startup, on_shutdown=on_shutdown
)


def main() -> int:
    from ports import listening_socket  # tests/helpers, on PYTHONPATH (children.python_env)

    limits = dict(CONFIG.get('limits', {}))
    if 'graceful' in CONFIG:
        limits['graceful_shutdown_timeout'] = CONFIG['graceful']
    options: dict = {'limits': Limits(**limits), 'lifespan': 'on'}
    if CONFIG.get('certfile'):
        options['ssl_certfile'] = CONFIG['certfile']
        options['ssl_keyfile'] = CONFIG.get('keyfile')
    for name in ('proxy_headers', 'forwarded_allow_ips', 'root_path'):
        if name in CONFIG:
            options[name] = CONFIG[name]
    sock = listening_socket(nodelay=True)
    say('PORT %d' % sock.getsockname()[1])
    return serve(app, sock=sock, **options)


if __name__ == '__main__':
    sys.exit(main())
