"""The ``sanic`` async mode: sanic requests and websockets.

``create_route`` registers a streaming route, so sanic does not read the body
before the server: the server reads ``max_http_buffer_size + 1`` bytes at
most, with no size limit of sanic's answering first.  A route the
application registers itself gets its body read by sanic, within sanic's
``REQUEST_MAX_SIZE``.  Websockets need ``app.enable_websocket()``, which
``create_route`` calls.
"""
# A-11..A-14, H-41

from __future__ import annotations

import asyncio
import re
from typing import Any, Awaitable, Callable

from sanic.exceptions import SanicException
from sanic.response import HTTPResponse
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from .._constants import ABNORMAL_CLOSURE, MESSAGE_TOO_BIG, NORMAL_CLOSURE
from ..exceptions import ContentTooLongError
from ._body import PulledBody
from ._close_codes import check_close_code
from ._environ import build_environ
from ._shielded import serve_shielded

_TEXT = [('Content-Type', 'text/plain; charset=utf-8')]

_METHODS = ['GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH']


class _Body(PulledBody):
    """``wsgi.input`` over a sanic request: its stream when unread, else its body."""

    def __init__(self, request: Any):
        stream = request.stream
        if stream is not None and stream.request_body:
            self._stream = stream
            self._body = b''
        else:
            self._stream = None
            self._body = bytes(request.body or b'')

    async def pull(self, size_hint: int) -> bytes:
        """What sanic received next (it takes no size), or the body it read whole."""
        stream = self._stream
        if stream is None:
            body, self._body = self._body, b''
            return body
        chunk = await stream.read()
        if not chunk:
            self._stream = None
            return b''
        if getattr(stream, 'request_bytes_left', None) == 0:
            if stream.request_body is not None and stream.request_body != 'chunked':
                # Every byte of a Content-Length body is here: one more read (it
                # returns None at once) marks it consumed, or sanic logs
                # "body not consumed" at ERROR after the response.
                await stream.read()
                self._stream = None
        return chunk


def create_route(app: Any, engineio_server: Any, engineio_endpoint: str) -> None:
    """Serve ``engineio_endpoint`` of ``app`` with the server (``AsyncServer.attach``)."""

    # sanic marks its route handlers with attributes, which a bound method
    # cannot take: route a function.
    async def engineio_route(request: Any) -> Any:
        return await engineio_server.handle_request(request)

    # A websocket session returns no response: sanic accepts that from a
    # handler marked as a websocket one.
    engineio_route.is_websocket = True  # type: ignore[attr-defined]
    name = 'engineio' + re.sub(r'\W', '_', engineio_endpoint)
    # Every method goes to the server, so others than GET, POST and OPTIONS
    # get the protocol's 400 rather than sanic's 405 (P-05).
    app.add_route(engineio_route, engineio_endpoint, methods=_METHODS, stream=True, name=name)
    app.enable_websocket()


def translate_request(request: Any) -> dict:
    """The environ of a sanic request, with the peer's address and scheme."""
    # A-11..A-13
    environ = build_environ(
        'sanic',
        request.method,
        request.path,
        request.query_string,
        request.headers.items(),
        _Body(request),
        request.scheme,
        (request.ip or None, request.port or None),
        'HTTP/' + request.version,
    )
    environ['sanic.request'] = request
    return environ


def make_response(
    status: str, headers: list[tuple[str, str]], payload: bytes, environ: dict
) -> HTTPResponse:
    """A sanic response; on a refused websocket request it is the refusal itself."""
    # sanic writes the content_type argument as the header, even None.
    content_type = 'application/octet-stream'
    others = []
    for name, value in headers:
        if name.lower() == 'content-type':
            content_type = value
        else:
            others.append((name, value))
    return HTTPResponse(
        body=payload,
        status=int(status.split(' ', 1)[0]),
        headers=others,  # type: ignore[arg-type]  # Header() takes pairs; typed as dict only
        content_type=content_type,
    )


def _cancelled() -> bool:
    """True while the current task is being cancelled (Python 3.11+ can tell)."""
    task = asyncio.current_task()
    cancelling = getattr(task, 'cancelling', None)
    return bool(cancelling and cancelling())


def _abandon(sock: Any) -> None:
    """Timer callback: drop a connection whose peer never answered our close frame."""
    if sock.ws_proto.state is not State.CLOSED:
        sock.fail_connection(ABNORMAL_CLOSURE)  # sanic then closes the transport
        recv_cancel = getattr(sock, 'recv_cancel', None)
        if recv_cancel is not None and not recv_cancel.done():
            recv_cancel.cancel()  # wakes a waiting recv(), as sanic does on EOF


class WebSocket:
    """A sanic websocket carrying one Engine.IO session.

    The connection's ``websocket_max_size`` is twice the server's
    ``max_http_buffer_size``: a message over the limit but within that is
    read whole and the server closes with 1009.  The websockets
    library refuses a larger one from its header, also with 1009, and
    ``wait()`` raises ``ContentTooLongError`` for the session; the client
    may then miss the close frame in the reset of a socket closed with data
    pending.  Reading a message whole is what lets the client see 1009,
    hence the margin.
    """

    # H-43

    def __init__(self, handler: Callable[[Any], Awaitable[Any]], server: Any):
        self.handler = handler
        self.server = server
        self.environ: dict | None = None
        self._sock: Any = None
        self._closed_here = False

    async def __call__(self, environ: dict) -> Any:
        """Accept the websocket, serve the session on it; sanic needs no response after."""
        self.environ = environ
        request = environ['sanic.request']
        protocol = request.transport.get_protocol()
        refusal = None
        if not hasattr(protocol, 'websocket_handshake'):
            refusal = make_response(
                '400 BAD REQUEST', _TEXT, b'Websockets are not enabled on this app', environ
            )
        else:
            # Per connection: the protocol object serves this socket only.
            protocol.websocket_max_size = 2 * self.server.max_http_buffer_size
            try:
                self._sock = await protocol.websocket_handshake(request)
            except SanicException as exc:
                refusal = make_response('%d' % exc.status_code, _TEXT, str(exc).encode(), environ)
        # On a refusal the session still runs, sees a closed websocket and
        # ends; the client gets the refusal.
        await serve_shielded(self, self._wake_reader)
        return refusal

    def _wake_reader(self) -> None:
        """The connection is lost: end the reader's wait for a frame."""
        recv_cancel = getattr(self._sock, 'recv_cancel', None)
        if recv_cancel is not None and not recv_cancel.done():
            recv_cancel.cancel()

    async def wait(self) -> str | bytes | None:
        """The next message, or None once the websocket is closed.

        Raises ``ContentTooLongError`` when the peer sent a message over the
        size limit.
        """
        sock = self._sock
        while sock is not None:
            # Once the peer's close frame is parsed only what already arrived
            # is left: take it without waiting.
            is_open = sock.ws_proto.state is State.OPEN
            try:
                message = await sock.recv(None if is_open else 0)
            except asyncio.CancelledError:
                # sanic cancels a waiting recv() when the peer's close frame
                # or EOF arrives: that is the end, not our cancellation.
                if _cancelled() or sock.ws_proto.state is State.OPEN:
                    raise
                continue
            except (ConnectionClosed, SanicException):
                break
            if message is not None:
                return message
            if not is_open:
                break
        if sock is not None and not self._closed_here:
            sent = getattr(sock.ws_proto, 'close_sent', None)
            if sent is not None and sent.code == MESSAGE_TOO_BIG:
                raise ContentTooLongError()
            if sent is not None:
                check_close_code(sent.code)  # sanic's answer to an invalid frame
        return None

    async def send(self, message: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message; OSError once closed."""
        if self._sock is None:
            raise OSError('websocket is closed')
        try:
            await self._sock.send(message)
        except (ConnectionClosed, SanicException) as exc:
            raise OSError('websocket is closed') from exc

    async def close(self, code: int | None = None) -> None:
        """Close the websocket with ``code`` (default 1000); nothing once closed."""
        sock = self._sock
        if sock is None or sock.ws_proto.state is not State.OPEN:
            return
        self._closed_here = True
        try:
            await sock.close(NORMAL_CLOSURE if code is None else code)
        except (OSError, ConnectionClosed, SanicException):
            return  # the peer went away meanwhile
        # sanic waits for the peer's closing frame with no deadline: a silent
        # peer would hold the request and the session's reader for good.
        asyncio.get_running_loop().call_later(sock.close_timeout or 10, _abandon, sock)

    def abort(self) -> None:
        """Drop the connection: blocked sends and receives end."""
        # P-31
        transport = getattr(getattr(self._sock, 'io_proto', None), 'transport', None)
        if transport is not None:
            transport.abort()


_async = {
    'asyncio': True,
    'create_route': create_route,
    'translate_request': translate_request,
    'make_response': make_response,
    'websocket': WebSocket,
}
