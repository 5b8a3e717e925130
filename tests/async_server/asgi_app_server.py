"""An ``engineio_fast.ASGIApp`` on a real ASGI server, started in its own process by the tests.

Usage: ``python tests/async_server/asgi_app_server.py SERVER --config=JSON`` where SERVER
is ``uvicorn`` or ``hypercorn``.  The script binds a free port on 127.0.0.1,
prints ``PORT <n>`` and serves until SIGTERM, which both servers answer
with a graceful shutdown (lifespan ``shutdown`` included).  The JSON config
(every key optional):

- ``engineio_path``: passed to ``ASGIApp`` (``null`` → every http/websocket
  request goes to the engine); absent → the default ``'engine.io'``.
- ``static_files``: the static file mapping.
- ``other_app``: true → an ``other_asgi_app`` that answers every http
  request with ``200`` and the JSON ``{"app": "other", "type": "http",
  "path": ..., "method": ...}`` and accepts every websocket, sending one
  text message ``{"app": "other", "type": "websocket", "path": ...}``.
- ``other_lifespan``: true → that app also speaks the lifespan protocol,
  printing ``OTHER startup`` / ``OTHER shutdown``; otherwise it ignores
  lifespan scopes by returning (which the servers take as "unsupported").
- ``on_startup`` / ``on_shutdown``: ``"sync"`` or ``"async"`` → a hook of
  that kind printing ``HOOK startup sync`` (etc.) and appending the same
  line to the ``marker_file`` when given; ``"fail"`` → a hook raising
  ``RuntimeError('<phase> hook failed')``.
- ``lifespan``: uvicorn's lifespan setting (default ``'on'``).

The engine is an ``AsyncServer(async_mode='asgi')`` that echoes messages,
except ``"timeout?"`` and ``"timeout now?"``: the handler waits in an
``asyncio.timeout()`` of 50 ms (or 0) and answers ``"timed out"`` when that
raised ``TimeoutError`` in it, else ``"not timed out"``.
Lines are flushed as printed, so the tests can wait for them (bounded).
"""

import asyncio
import json
import signal
import socket
import sys

from ports import listening_socket  # tests/helpers, on PYTHONPATH (children.python_env)

import engineio_fast

SERVER = sys.argv[1]
CONFIG = {}
for arg in sys.argv[2:]:
    if arg.startswith('--config='):
        CONFIG = json.loads(arg[len('--config=') :])


def say(line: str) -> None:
    """Append ``line`` to the marker file (if any), then print it: a printed line is on disk."""
    if CONFIG.get('marker_file'):
        with open(CONFIG['marker_file'], 'a') as marker:
            marker.write(line + '\n')
    print(line, flush=True)


def make_hook(phase: str, kind: str | None):
    if kind is None:
        return None
    if kind == 'fail':

        def failing_hook():
            raise RuntimeError('%s hook failed' % phase)

        return failing_hook
    if kind == 'async':

        async def async_hook():
            await asyncio.sleep(0)
            say('HOOK %s async' % phase)

        return async_hook

    def sync_hook():
        say('HOOK %s sync' % phase)

    return sync_hook


async def other_app(scope, receive, send):
    """The ``other_asgi_app``: describes the request it got."""
    if scope['type'] == 'lifespan':
        if not CONFIG.get('other_lifespan'):
            return
        while True:
            message = await receive()
            phase = message['type'].rpartition('.')[2]
            say('OTHER %s' % phase)
            await send({'type': 'lifespan.%s.complete' % phase})
            if phase == 'shutdown':
                return
    info = {'app': 'other', 'type': scope['type'], 'path': scope['path']}
    if scope['type'] == 'http':
        info['method'] = scope['method']
        body = json.dumps(info).encode()
        await send(
            {
                'type': 'http.response.start',
                'status': 200,
                'headers': [
                    (b'content-type', b'application/json'),
                    (b'content-length', str(len(body)).encode()),
                ],
            }
        )
        await send({'type': 'http.response.body', 'body': body})
    elif scope['type'] == 'websocket':
        await receive()  # websocket.connect
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.send', 'text': json.dumps(info)})
        await send({'type': 'websocket.close', 'code': 1000})


eio = engineio_fast.AsyncServer(async_mode='asgi')


#: The timeout each question waits in.
TIMEOUTS = {'timeout?': 0.05, 'timeout now?': 0}


@eio.on('message')
async def on_message(sid, data):
    if isinstance(data, str) and data in TIMEOUTS:
        try:
            async with asyncio.timeout(TIMEOUTS[data]):
                await asyncio.sleep(5)
            data = 'not timed out'
        except TimeoutError:
            data = 'timed out'
    await eio.send(sid, data)


kwargs = {
    'other_asgi_app': other_app if CONFIG.get('other_app') else None,
    'static_files': CONFIG.get('static_files'),
    'on_startup': make_hook('startup', CONFIG.get('on_startup')),
    'on_shutdown': make_hook('shutdown', CONFIG.get('on_shutdown')),
}
if 'engineio_path' in CONFIG:
    kwargs['engineio_path'] = CONFIG['engineio_path']
app = engineio_fast.ASGIApp(eio, **kwargs)


def serve_uvicorn(sock: socket.socket) -> None:
    import uvicorn

    config = uvicorn.Config(app, log_level='warning', lifespan=CONFIG.get('lifespan', 'on'))
    # Server.run handles SIGTERM/SIGINT and exits with status 3 when startup fails.
    uvicorn.Server(config).run(sockets=[sock])


def serve_hypercorn(sock: socket.socket) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = ['fd://%d' % sock.fileno()]
    config.accesslog = None

    async def main():
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await serve(app, config, shutdown_trigger=stop.wait)

    asyncio.run(main())


def serve_native(sock: socket.socket) -> None:
    from engineio_fast.native import serve

    # serve() handles SIGTERM/SIGINT and returns 3 when startup fails, as uvicorn exits.
    sys.exit(serve(app, sock=sock, lifespan=CONFIG.get('lifespan', 'on')))


if __name__ == '__main__':
    listening = listening_socket()
    print('PORT', listening.getsockname()[1], flush=True)
    servers = {'uvicorn': serve_uvicorn, 'hypercorn': serve_hypercorn, 'native': serve_native}
    servers[SERVER](listening)
