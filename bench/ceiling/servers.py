"""Bare servers for the ceiling survey (issue 17): no Engine.IO, one per library.

Usage: ``python bench/ceiling/servers.py NAME`` with NAME one of ``SERVERS``.

Prints ``PORT <n>`` once it answers on 127.0.0.1 and serves until killed.
Every server answers bench/e2e/loadgen.js's bare scenarios the same way as
bench/e2e/server.py's ``--lib bare`` (the e2e ceiling):

- websocket (any path): send the Engine.IO OPEN text frame ``BARE_OPEN``,
  then echo every text frame verbatim;
- polling (any path): a GET without ``sid`` gets a handshake (an OPEN packet
  with a new sid); a GET with a sid waits for that sid's next POST body and
  answers it verbatim; a POST answers ``ok`` (a lone CLOSE packet ``1``
  answers the pending GET with ``6`` and ends the sid).

The servers:

- ``uvicorn``: the ASGI app below on uvicorn (uvloop, httptools, ws
  ``websockets-sansio``: the fastest of uvicorn's three, bench/e2e/run.py);
- ``granian-asgi`` / ``granian-rsgi``: granian, one worker process with one
  runtime thread (single-threaded runtime), uvloop, HTTP/1 only;
- ``picows``: websocket only (it answers nothing but GET upgrade requests);
- ``socketify``: socketify.py's App (uWebSockets), websocket and HTTP;
- ``own``: an ``asyncio.Protocol`` on uvloop, httptools for HTTP and a
  minimal websocket framing in Python, just enough for the echo;
- ``own-aiofastnet``: the same protocol on aiofastnet's transports (the
  Cython transports picows uses by default) instead of uvloop's.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import socket
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
SERVERS = (
    'uvicorn',
    'granian-asgi',
    'granian-rsgi',
    'picows',
    'socketify',
    'own',
    'own-aiofastnet',
)
HOST = '127.0.0.1'


def open_packet(sid: str) -> str:
    """The Engine.IO OPEN packet the bare endpoints send, so the load generator sees Engine.IO."""
    return '0' + json.dumps(
        {'sid': sid, 'upgrades': [], 'pingInterval': 25000, 'pingTimeout': 20000}
    )


BARE_OPEN = open_packet('bare')
BARE_OPEN_BYTES = BARE_OPEN.encode()
TEXT_PLAIN = 'text/plain; charset=UTF-8'


class Mailbox:
    """One polling sid: POST bodies not yet collected, and the GET waiting for one."""

    __slots__ = ('bodies', 'waiter')

    def __init__(self) -> None:
        self.bodies: deque[bytes] = deque()
        self.waiter: Callable[[bytes], Any] | None = None

    def put(self, body: bytes) -> None:
        waiter = self.waiter
        if waiter is None:
            self.bodies.append(body)
        else:
            self.waiter = None
            waiter(body)


class Polls:
    """The bare polling protocol, independent of the server: answers go through a callback."""

    def __init__(self) -> None:
        self.boxes: dict[str, Mailbox] = {}
        self.sids = itertools.count()

    def request(self, method: str, query: str, body: bytes, reply: Callable[[bytes], Any]) -> None:
        """Answer one request through ``reply(answer)``, now or (a GET) on the next POST."""
        sid = None
        for pair in query.split('&'):
            if pair.startswith('sid='):
                sid = pair[4:]
        if sid is None:
            sid = str(next(self.sids))
            self.boxes[sid] = Mailbox()
            reply(open_packet(sid).encode())
        elif method == 'GET':
            box = self.boxes[sid]
            if box.bodies:
                reply(box.bodies.popleft())
            else:
                box.waiter = reply
        else:
            if body == b'1':
                self.boxes.pop(sid).put(b'6')
            else:
                self.boxes[sid].put(body)
            reply(b'ok')

    async def answer(self, method: str, query: str, body: bytes) -> bytes:
        """``request`` for async servers: the answer, awaited."""
        future = asyncio.get_running_loop().create_future()
        self.request(method, query, body, future.set_result)
        return await future


POLLS = Polls()


# -- ASGI (uvicorn, granian-asgi) -------------------------------------------------------------

ASGI_HEADERS = [(b'content-type', TEXT_PLAIN.encode())]


async def asgi_app(scope: dict, receive: Callable, send: Callable) -> None:
    """ASGI websocket echo and polling, as bench/e2e/server.py's bare_app (no broadcast)."""
    if scope['type'] == 'websocket':
        await receive()  # websocket.connect
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.send', 'text': BARE_OPEN})
        while True:
            event = await receive()
            if event['type'] != 'websocket.receive':
                break
            text = event.get('text')
            if text is not None:
                await send({'type': 'websocket.send', 'text': text})
        return
    if scope['type'] != 'http':
        return
    body = b''
    more = True
    while more:
        event = await receive()
        body += event.get('body', b'')
        more = event.get('more_body', False)
    answer = await POLLS.answer(scope['method'], scope['query_string'].decode(), body)
    await send(
        {
            'type': 'http.response.start',
            'status': 200,
            'headers': [*ASGI_HEADERS, (b'content-length', str(len(answer)).encode())],
        }
    )
    await send({'type': 'http.response.body', 'body': answer})


# -- RSGI (granian-rsgi) ----------------------------------------------------------------------

RSGI_HEADERS = [('content-type', TEXT_PLAIN)]


async def rsgi_app(scope: Any, proto: Any) -> None:
    """RSGI websocket echo and polling."""
    if scope.proto == 'http':
        body = await proto()
        answer = await POLLS.answer(scope.method, scope.query_string, body)
        proto.response_bytes(200, RSGI_HEADERS, answer)
        return
    if scope.proto != 'ws':
        return
    transport = await proto.accept()
    await transport.send_str(BARE_OPEN)
    try:
        while True:
            message = await transport.receive()
            kind = message.kind
            if kind == 2:  # WebsocketMessageType.string
                await transport.send_str(message.data)
            elif kind == 0:  # close
                break
    finally:
        proto.close(None)


# -- own: asyncio.Protocol + httptools + minimal websocket framing ------------------------

WS_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
HTTP_OK = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: '


def ws_frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final server frame."""
    n = len(payload)
    if n < 126:
        return bytes((0x80 | opcode, n)) + payload
    if n < 65536:
        return bytes((0x80 | opcode, 126)) + n.to_bytes(2, 'big') + payload
    return bytes((0x80 | opcode, 127)) + n.to_bytes(8, 'big') + payload


def unmask(key: bytes, data: bytes) -> bytes:
    """XOR ``data`` with the repeated 4-byte ``key``, as one big integer."""
    n = len(data)
    if not n:
        return data
    mask = (key * ((n >> 2) + 1))[:n]
    return (int.from_bytes(data, 'big') ^ int.from_bytes(mask, 'big')).to_bytes(n, 'big')


class OwnProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive (no pipelining) for polling, upgraded to a websocket echo."""

    def __init__(self) -> None:
        import httptools

        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.websocket = False
        self.buffer = b''
        self.url = b''
        self.body = b''
        self.ws_key = b''

    # asyncio.Protocol
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        sock = transport.get_extra_info('socket')
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        if self.websocket:
            self.ws_received(data)
            return
        import httptools

        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.upgrade(data[exc.args[0] :])
        except httptools.HttpParserError:
            self.transport.write(b'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b''
        self.body = b''
        self.ws_key = b''

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b'sec-websocket-key':
            self.ws_key = value

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        if self.parser.should_upgrade():
            return  # feed_data raises HttpParserUpgrade next
        url = self.url
        mark = url.find(b'?')
        query = url[mark + 1 :].decode('latin-1') if mark >= 0 else ''
        POLLS.request(self.parser.get_method().decode(), query, self.body, self.respond)

    def respond(self, answer: bytes) -> None:
        if self.transport is not None:
            self.transport.write(b'%s%d\r\n\r\n%s' % (HTTP_OK, len(answer), answer))

    # websocket
    def upgrade(self, rest: bytes) -> None:
        if not self.ws_key:
            self.transport.write(b'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')
            self.transport.close()
            return
        accept = base64.b64encode(hashlib.sha1(self.ws_key + WS_GUID).digest())
        self.transport.write(
            b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            b'Sec-WebSocket-Accept: %s\r\n\r\n%s' % (accept, ws_frame(1, BARE_OPEN_BYTES))
        )
        self.websocket = True
        if rest:
            self.ws_received(rest)

    def ws_received(self, data: bytes) -> None:
        """Parse every complete frame; text frames are echoed (fragments are not supported)."""
        buf = self.buffer + data if self.buffer else data
        size = len(buf)
        pos = 0
        out = []
        while size - pos >= 2:
            first = buf[pos]
            length = buf[pos + 1] & 0x7F
            head = pos + 2
            if length == 126:
                if size - head < 2:
                    break
                length = int.from_bytes(buf[head : head + 2], 'big')
                head += 2
            elif length == 127:
                if size - head < 8:
                    break
                length = int.from_bytes(buf[head : head + 8], 'big')
                head += 8
            end = head + 4 + length  # clients always mask
            if end > size:
                break
            payload = unmask(buf[head : head + 4], buf[head + 4 : end])
            pos = end
            opcode = first & 0x0F
            if opcode == 1:
                out.append(ws_frame(1, payload))
            elif opcode == 9:
                out.append(ws_frame(10, payload))
            elif opcode == 8:
                self.transport.write(b''.join(out) + ws_frame(8, payload[:2]))
                self.transport.close()
                return
        self.buffer = buf[pos:]
        if out:
            self.transport.write(out[0] if len(out) == 1 else b''.join(out))


# -- the servers ------------------------------------------------------------------------


def listening_socket() -> socket.socket:
    """A bound, listening 127.0.0.1 socket on a free port, TCP_NODELAY inherited by connections."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((HOST, 0))
    sock.listen(1024)
    return sock


def free_port() -> int:
    """A port free right now, for servers that bind their own socket."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def announce_when_answering(port: int, polling: bool = True) -> None:
    """Print ``PORT`` once a polling handshake (or a TCP connect) succeeds: a thread."""

    def probe() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((HOST, port), timeout=2) as sock:
                    if polling:
                        sock.sendall(
                            b'GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\n'
                            b'Host: 127.0.0.1\r\n\r\n'
                        )
                        if b' 200 ' not in sock.recv(4096):
                            raise OSError('no answer yet')
                print('PORT', port, flush=True)
                return
            except OSError:
                time.sleep(0.1)
        print('no answer on port %d' % port, file=sys.stderr, flush=True)

    threading.Thread(target=probe, daemon=True).start()


def serve_uvicorn() -> None:
    import uvicorn

    sock = listening_socket()
    config = uvicorn.Config(
        asgi_app,
        loop='uvloop',
        http='httptools',
        ws='websockets-sansio',
        lifespan='off',
        log_level='warning',
        access_log=False,
        backlog=1024,
    )
    print('PORT', sock.getsockname()[1], flush=True)
    uvicorn.Server(config).run(sockets=[sock])


def serve_granian(interface: str) -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops, RuntimeModes

    port = free_port()
    server = Granian(
        'servers:%s_app' % ('asgi' if interface == 'asgi' else 'rsgi'),
        address=HOST,
        port=port,
        # asginl: ASGI without the lifespan protocol, as uvicorn's lifespan='off'.
        interface=Interfaces.ASGINL if interface == 'asgi' else Interfaces.RSGI,
        workers=1,
        runtime_threads=1,
        runtime_mode=RuntimeModes.st,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=True,
        log_level='warning',
        working_dir=HERE,
    )
    announce_when_answering(port)
    server.serve()


def serve_picows() -> None:
    import uvloop
    from picows import WSListener, WSMsgType, ws_create_server

    class Echo(WSListener):
        def on_ws_connected(self, transport: Any) -> None:
            transport.send(WSMsgType.TEXT, BARE_OPEN_BYTES)

        def on_ws_frame(self, transport: Any, frame: Any) -> None:
            kind = frame.msg_type
            if kind == WSMsgType.TEXT:
                transport.send(WSMsgType.TEXT, frame.get_payload_as_bytes())
            elif kind == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

    async def main() -> None:
        server = await ws_create_server(lambda request: Echo(), HOST, 0, backlog=1024)
        print('PORT', server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    uvloop.run(main())


def serve_socketify() -> None:
    from socketify import App, AppListenOptions, CompressOptions, OpCode

    app = App()
    reading: set[Any] = set()  # responses whose request body is still coming

    def on_open(ws: Any) -> None:
        ws.send(BARE_OPEN_BYTES, OpCode.TEXT)

    def on_message(ws: Any, message: Any, opcode: Any) -> None:
        if opcode == OpCode.TEXT:
            ws.send(message, OpCode.TEXT)

    def on_http(res: Any, req: Any) -> None:
        method = req.get_method().upper()
        url = req.get_full_url()
        mark = url.find('?')
        query = url[mark + 1 :] if mark >= 0 else ''

        def end(res: Any, answer: bytes) -> None:
            res.write_header('Content-Type', TEXT_PLAIN)
            res.end(answer)

        def reply(answer: bytes) -> None:
            if res.aborted:
                return
            if inside:
                end(res, answer)
            else:  # answered after the handler returned (a waiting GET, a POST's body)
                res.cork(lambda res: end(res, answer))

        inside = True
        if method != 'POST':
            res.on_aborted(lambda res: None)  # the GET may be answered later
            POLLS.request(method, query, b'', reply)
            inside = False
            return
        chunks: list[bytes] = []
        # Nothing else holds the response while its body arrives: without this, the garbage
        # collector may free it and socketify's data callback then aborts the process.
        reading.add(res)

        def on_data(res: Any, chunk: bytes | None, is_end: bool) -> None:
            if chunk:
                chunks.append(chunk)
            if is_end:
                reading.discard(res)
                POLLS.request(method, query, b''.join(chunks), reply)

        inside = False  # on_data runs after this handler returned: cork to answer
        res.on_data(on_data)

    app.ws(
        '/*',
        {
            'compression': CompressOptions.DISABLED,
            'max_payload_length': 16 * 1024,
            'idle_timeout': 120,
            'open': on_open,
            'message': on_message,
        },
    )
    app.any('/*', on_http)
    port = free_port()
    app.listen(AppListenOptions(port=port, host=HOST), lambda config: None)
    announce_when_answering(port)
    app.run()


def serve_own(fastnet: bool = False) -> None:
    import uvloop

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if fastnet:
            import aiofastnet

            server = await aiofastnet.create_server(loop, OwnProtocol, HOST, 0, backlog=1024)
        else:
            server = await loop.create_server(OwnProtocol, HOST, 0, backlog=1024)
        print('PORT', server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    uvloop.run(main())


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in SERVERS:
        sys.exit('usage: servers.py {%s}' % ','.join(SERVERS))
    name = argv[0]
    if name.startswith('granian-'):
        serve_granian(name.split('-', 1)[1])
    elif name == 'own-aiofastnet':
        serve_own(fastnet=True)
    else:
        globals()['serve_' + name]()


if __name__ == '__main__':
    main(sys.argv[1:])
