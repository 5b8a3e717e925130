"""One Engine.IO server for the end-to-end benchmark, started by run.py in its own process.

Usage: ``python bench/e2e/server.py --lib fast|upstream|bare --mode asgi|threading|eventlet|native``
[``--ping-interval S``] [``--ping-timeout S``]

Prints ``PORT <n>`` once it listens on 127.0.0.1 and serves until killed.  The
application code is the same for both libraries: ``--lib fast`` imports
``engineio_fast``, ``--lib upstream`` imports python-engineio (``engineio``),
so the only difference measured is the library.

Handlers:

- ``message``: a text starting with ``bcast:`` is sent to every connected
  client (the sender included); anything else is echoed to its sender.
- ``connect`` / ``disconnect`` keep the set of connected sids the broadcast uses.

``--lib bare`` is the ceiling reference: the same server with the least work
that answers the load generator, no Engine.IO.  In asgi mode a plain ASGI
websocket endpoint sends an Engine.IO OPEN packet, then echoes every text
frame (``4bcast:`` frames go to every connection).  In every mode, polling
requests get a handshake with a new sid, a GET waits for that sid's next
POST body and answers it verbatim, and a POST answers ``ok`` (a lone CLOSE
packet ends the sid).

``--mode native`` serves the asgi mode's ``AsyncServer`` app with
engineio_fast's own HTTP/1.1 + WebSocket transport (``engineio_fast.native``,
issue 17) instead of uvicorn: ``--lib fast`` only, python-engineio has none.
``--ping-interval`` / ``--ping-timeout`` (seconds) go to the server's
constructor in every mode (the idle scenario pings every second).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import queue as queue_module
import sys
from typing import Any, Callable

PARSER = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
PARSER.add_argument('--lib', choices=('fast', 'upstream', 'bare'), required=True)
PARSER.add_argument('--mode', choices=('asgi', 'threading', 'eventlet', 'native'), required=True)
PARSER.add_argument(
    '--ws',
    default='websockets-sansio',
    help='uvicorn websocket implementation (asgi mode); the same for every library',
)
PARSER.add_argument(
    '--broadcast',
    choices=('loop', 'many'),
    default='loop',
    help='loop: one send() per sid (both libraries); many: engineio_fast send_to_many (F-03)',
)
PARSER.add_argument('--ping-interval', type=float, help="seconds (the library's default: 25)")
PARSER.add_argument('--ping-timeout', type=float, help="seconds (the library's default: 20)")
ARGS = PARSER.parse_args()
if ARGS.mode == 'native' and ARGS.lib != 'fast':
    PARSER.error('--mode native is engineio_fast only (--lib fast)')

if ARGS.mode == 'eventlet':
    # Must run before anything imports socket/threading, the engine.io library included.
    import eventlet

    eventlet.monkey_patch()

# The library is picked at run time, so these imports cannot sit at the top.
if ARGS.lib == 'fast':
    import engineio_fast as eio_lib
elif ARGS.lib == 'upstream':
    import engineio as eio_lib
else:
    eio_lib = None

BCAST_PREFIX = 'bcast:'
#: Sids currently connected, in connection order: the broadcast's targets.
CONNECTED: dict[str, None] = {}


def on_connect(sid: str, environ: dict) -> None:
    """Remember the sid for broadcasts."""
    CONNECTED[sid] = None


def on_disconnect(sid: str, reason: Any = None) -> None:
    """Forget the sid."""
    CONNECTED.pop(sid, None)


def many_sender(eio: Any) -> Callable[[list[str], Any], Any] | None:
    """The F-03 pre-encoded broadcast of engineio_fast, when asked for with ``--broadcast many``.

    This is the hook for F-03: once ``send_to_many`` lands, ``--broadcast many``
    measures it against python-engineio's send loop (which has no such API).
    """
    if ARGS.broadcast == 'loop':
        return None
    if ARGS.lib != 'fast' or not hasattr(eio, 'send_to_many'):
        sys.exit('--broadcast many needs engineio_fast with send_to_many (F-03)')
    return eio.send_to_many


def server_options() -> dict[str, Any]:
    """Constructor options from the command line (the library's defaults otherwise)."""
    options = {}
    if ARGS.ping_interval is not None:
        options['ping_interval'] = ARGS.ping_interval
    if ARGS.ping_timeout is not None:
        options['ping_timeout'] = ARGS.ping_timeout
    return options


def build_async_server() -> Any:
    """AsyncServer with coroutine handlers (asgi and native modes)."""
    eio = eio_lib.AsyncServer(async_mode='asgi', **server_options())
    send_many = many_sender(eio)

    @eio.on('connect')
    async def connect(sid: str, environ: dict) -> None:
        on_connect(sid, environ)

    @eio.on('disconnect')
    async def disconnect(sid: str, reason: Any = None) -> None:
        on_disconnect(sid, reason)

    @eio.on('message')
    async def message(sid: str, data: Any) -> None:
        if isinstance(data, str) and data.startswith(BCAST_PREFIX):
            if send_many is not None:
                await send_many(list(CONNECTED), data)
            else:
                for target in list(CONNECTED):
                    await eio.send(target, data)
        else:
            await eio.send(sid, data)

    return eio


def build_sync_server(mode: str) -> Any:
    """Server with plain handlers (threading and eventlet modes)."""
    eio = eio_lib.Server(async_mode=mode, **server_options())
    send_many = many_sender(eio)
    eio.on('connect', on_connect)
    eio.on('disconnect', on_disconnect)

    @eio.on('message')
    def message(sid: str, data: Any) -> None:
        if isinstance(data, str) and data.startswith(BCAST_PREFIX):
            if send_many is not None:
                send_many(list(CONNECTED), data)
            else:
                for target in list(CONNECTED):
                    eio.send(target, data)
        else:
            eio.send(sid, data)

    return eio


def bare_open(sid: str) -> str:
    """The OPEN packet the bare endpoints send, so the load generator sees Engine.IO."""
    return '0' + json.dumps(
        {'sid': sid, 'upgrades': [], 'pingInterval': 25000, 'pingTimeout': 20000}
    )


BARE_OPEN = bare_open('bare')
BARE_PEERS: set[Callable] = set()
#: The bare polling sids and what each has to collect: a queue (one per library style).
BARE_POLLS: dict[str, Any] = {}
BARE_SIDS = itertools.count()


def bare_poll(method: str, query: str, body: bytes, new_queue: Callable) -> tuple[Any, bytes]:
    """One bare polling request: ``(queue, b'')`` to wait on for a GET, else ``(None, answer)``."""
    sid = None
    for pair in query.split('&'):
        if pair.startswith('sid='):
            sid = pair[4:]
    if sid is None:
        sid = str(next(BARE_SIDS))
        BARE_POLLS[sid] = new_queue()
        return None, bare_open(sid).encode()
    if method == 'GET':
        return BARE_POLLS[sid], b''
    if body == b'1':
        BARE_POLLS.pop(sid).put_nowait(b'6')
    else:
        BARE_POLLS[sid].put_nowait(body)
    return None, b'ok'


async def bare_http(scope: dict, receive: Callable, send: Callable) -> None:
    """Bare polling on ASGI."""
    body = b''
    more = True
    while more:
        event = await receive()
        body += event.get('body', b'')
        more = event.get('more_body', False)
    queue, answer = bare_poll(scope['method'], scope['query_string'].decode(), body, asyncio.Queue)
    if queue is not None:
        answer = await queue.get()
    await send(
        {
            'type': 'http.response.start',
            'status': 200,
            'headers': [
                (b'content-type', b'text/plain; charset=UTF-8'),
                (b'content-length', str(len(answer)).encode()),
            ],
        }
    )
    await send({'type': 'http.response.body', 'body': answer})


def bare_wsgi(environ: dict, start_response: Callable) -> list[bytes]:
    """Bare polling on WSGI (threading, and eventlet: its monkey-patched queue)."""
    length = int(environ.get('CONTENT_LENGTH') or 0)
    body = environ['wsgi.input'].read(length) if length else b''
    queue, answer = bare_poll(
        environ['REQUEST_METHOD'], environ.get('QUERY_STRING', ''), body, queue_module.Queue
    )
    if queue is not None:
        answer = queue.get()
    start_response(
        '200 OK',
        [('Content-Type', 'text/plain; charset=UTF-8'), ('Content-Length', str(len(answer)))],
    )
    return [answer]


async def bare_app(scope: dict, receive: Callable, send: Callable) -> None:
    """ASGI websocket echo and polling without Engine.IO: the ceiling for the asgi numbers."""
    if scope['type'] != 'websocket':
        await bare_http(scope, receive, send)
        return
    await receive()  # websocket.connect
    await send({'type': 'websocket.accept'})
    await send({'type': 'websocket.send', 'text': BARE_OPEN})
    BARE_PEERS.add(send)
    try:
        while True:
            event = await receive()
            if event['type'] != 'websocket.receive':
                break
            text = event.get('text')
            if text is None:
                continue
            if text.startswith('4' + BCAST_PREFIX):
                for peer in list(BARE_PEERS):
                    await peer({'type': 'websocket.send', 'text': text})
            else:
                await send({'type': 'websocket.send', 'text': text})
    finally:
        BARE_PEERS.discard(send)


def listening_socket() -> Any:
    """A socket listening on a free loopback port (backlog 1024), TCP_NODELAY set."""
    import socket

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it. uvloop sets TCP_NODELAY on connections of servers it
    # binds itself, not on a socket handed in: without this, keep-alive polling responses
    # (headers and body written separately) wait ~40 ms for the client's delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(('127.0.0.1', 0))
    sock.listen(1024)
    return sock


def serve_asgi() -> None:
    """uvicorn on uvloop + httptools, one worker, access log off."""
    # Each process serves one mode, so only that mode's framework is imported.
    import uvicorn

    app = bare_app if eio_lib is None else eio_lib.ASGIApp(build_async_server())
    sock = listening_socket()
    config = uvicorn.Config(
        app,
        loop='uvloop',
        http='httptools',
        ws=ARGS.ws,
        lifespan='off',
        log_level='warning',
        access_log=False,
        backlog=1024,
    )
    print('PORT', sock.getsockname()[1], flush=True)
    # run() (not asyncio.run(serve())) sets up the configured loop: uvloop.
    uvicorn.Server(config).run(sockets=[sock])


def serve_native() -> None:
    """The asgi mode's app on engineio_fast's own transport (uvloop when installed)."""
    from engineio_fast import native

    app = eio_lib.ASGIApp(build_async_server())
    sock = listening_socket()
    print('PORT', sock.getsockname()[1], flush=True)
    native.serve(app, sock=sock, backlog=1024, lifespan='off')


def serve_threading() -> None:
    """werkzeug's threaded WSGI server, as in tests/helpers/echo_server.py."""
    # Each process serves one mode, so only that mode's framework is imported.
    from werkzeug.serving import WSGIRequestHandler, make_server

    WSGIRequestHandler.log_request = lambda *args, **kwargs: None
    app = bare_wsgi if eio_lib is None else eio_lib.WSGIApp(build_sync_server('threading'))
    server = make_server('127.0.0.1', 0, app, threaded=True)
    print('PORT', server.server_port, flush=True)
    server.serve_forever()


def serve_eventlet() -> None:
    """eventlet's WSGI server with room for the 1,000-connection memory scenario."""
    # Each process serves one mode, so only that mode's framework is imported.
    from eventlet import wsgi

    app = bare_wsgi if eio_lib is None else eio_lib.WSGIApp(build_sync_server('eventlet'))
    sock = eventlet.listen(('127.0.0.1', 0), backlog=1024)
    print('PORT', sock.getsockname()[1], flush=True)
    wsgi.server(sock, app, log_output=False, max_size=4096)


if __name__ == '__main__':
    {
        'asgi': serve_asgi,
        'threading': serve_threading,
        'eventlet': serve_eventlet,
        'native': serve_native,
    }[ARGS.mode]()
