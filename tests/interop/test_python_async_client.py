"""python-engineio's own asyncio client (4.15.1, the reference) against the server in every mode.

The client is ``engineio.AsyncClient`` from the python-engineio distribution
(aiohttp underneath), not ``engineio_fast``'s: it talks to an echo-server
process over loopback on each transport (polling only, websocket only,
polling upgraded to websocket), in every mode of ``SERVER_MODES``.  Each test
is a plain sync function running one coroutine with ``asyncio.run``; the
coroutine as a whole and every single wait inside it are bounded by
``asyncio.wait_for``.

Habits of the reference client that decide what the server may report:

- ``AsyncClient.disconnect()`` queues its ``1`` packet, then, on WebSocket,
  closes the socket *before* its write loop ever runs (nothing in between
  yields to the event loop), and aiohttp refuses to write a data frame once
  the close frame is out.  The ``1`` never reaches the server, which then
  rightly reports ``transport close`` (P-44), as python-engineio's own
  server does.  On polling the write loop POSTs the ``1`` while
  ``disconnect()`` waits for the read loop, so the reason is
  ``client disconnect`` (P-27).  :class:`ReferenceClient` can wrap
  ``ws.close`` so that it first lets the write loop flush (bounded): then
  the ``1`` is written and the server reports ``client disconnect`` on every
  transport.
- Its write loop leaves as soon as it sees the state change after a send,
  so a pong POST in flight when ``disconnect()`` starts swallows the
  ``1``; the disconnect tests therefore use a server with a 5 s heartbeat.
- On a refused polling handshake it closes its own aiohttp session and only
  then reads the JSON body for the ``ConnectionError``; when the body has
  not arrived with the headers (werkzeug, gevent and hypercorn write them
  separately, as for python-engineio's server) that read fails with
  ``RuntimeError: Connection closed.``.  The refusal test hands the client
  an ``http_session`` of its own, which the client does not close.
- A refused WebSocket handshake surfaces as ``ConnectionError('Connection
  error')`` without the status; the status is on the aiohttp
  ``WSServerHandshakeError`` it was raised from (``__context__``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

import aiohttp
import engineio
import engineio.exceptions
import pytest
from raw_clients import EXPECTED_TRANSPORT, TIMEOUT, TRANSPORTS, events_for, next_event

#: Upper bound, in seconds, of one test's whole coroutine.
SCENARIO_TIMEOUT = 30.0


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``scenario()`` in a fresh event loop, bounded by ``SCENARIO_TIMEOUT``."""

    async def bounded():
        return await asyncio.wait_for(scenario(), SCENARIO_TIMEOUT)

    return asyncio.run(bounded())


class ReferenceClient:
    """An ``engineio.AsyncClient`` recording its messages and disconnect reasons."""

    def __init__(self, **options: Any) -> None:
        assert engineio.AsyncClient.__module__ == 'engineio.async_client', (
            'engineio is not python-engineio here (engineio_fast.install() was called?)'
        )
        self.client = engineio.AsyncClient(handle_sigint=False, request_timeout=TIMEOUT, **options)
        self.messages: asyncio.Queue = asyncio.Queue()
        self.disconnects: asyncio.Queue = asyncio.Queue()
        self.client.on('message', self.messages.put_nowait)

        @self.client.on('disconnect')
        async def on_disconnect(reason):
            self.disconnects.put_nowait(reason)

        self.sid: str | None = None

    async def connect(self, url: str, transport: str) -> None:
        await asyncio.wait_for(self.client.connect(url, transports=TRANSPORTS[transport]), TIMEOUT)
        self.sid = self.client.sid
        assert self.client.transport() == EXPECTED_TRANSPORT[transport]

    def flush_before_websocket_close(self) -> None:
        """Make ``ws.close()`` wait (bounded) until the write loop has sent every queued packet."""
        ws = self.client.ws
        if ws is None:
            return
        close = ws.close
        queue = self.client.queue

        async def flushing_close(**kwargs):
            deadline = time.monotonic() + 2.0
            while queue._unfinished_tasks and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            return await close(**kwargs)

        ws.close = flushing_close

    async def disconnect(self, flush: bool = True) -> None:
        """``AsyncClient.disconnect()``, started with the write loop idle; bounded."""
        deadline = time.monotonic() + 2.0
        while self.client.queue._unfinished_tasks and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if flush:
            self.flush_before_websocket_close()
        await asyncio.wait_for(self.client.disconnect(), TIMEOUT)

    async def receive(self, timeout: float = TIMEOUT) -> Any:
        try:
            return await asyncio.wait_for(self.messages.get(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError('no message within %.1fs' % timeout) from None

    async def echo(self, data: Any) -> Any:
        await self.client.send(data)
        return await self.receive()

    async def wait_disconnect(self, timeout: float = TIMEOUT) -> str:
        try:
            return await asyncio.wait_for(self.disconnects.get(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError('the client did not disconnect within %.1fs' % timeout) from None

    async def wait_state(self, state: str, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while self.client.state != state:
            if time.monotonic() > deadline:
                raise AssertionError(
                    'client state %r, not %r, after %.1fs' % (self.client.state, state, timeout)
                )
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        """Leave nothing behind: disconnect without waiting, close the HTTP session."""
        if self.client.state == 'connected':
            await asyncio.wait_for(self.client.disconnect(abort=True), TIMEOUT)
        if self.client.http is not None and not self.client.http.closed:
            await self.client.http.close()


async def with_client(url: str, transport: str, body: Callable[[ReferenceClient], Awaitable]):
    """Connect a :class:`ReferenceClient`, run ``body(client)``, always clean up."""
    client = ReferenceClient()
    try:
        await client.connect(url, transport)
        return await body(client)
    finally:
        await client.close()


def test_text_binary_and_json_are_echoed_on_each_transport(server, transport):
    """A-01, S-32, P-10..P-12: str, bytes and a JSON dict come back with their types."""

    async def body(client: ReferenceClient):
        assert await client.echo('hello') == 'hello'
        assert await client.echo('é€😀 \\ "q"') == 'é€😀 \\ "q"'
        assert await client.echo(b'\x00\x01\xfe\xff') == b'\x00\x01\xfe\xff'
        assert await client.echo({'a': [1, 2.5, None, True], 'b': 'x'}) == {
            'a': [1, 2.5, None, True],
            'b': 'x',
        }
        assert client.client.transport() == EXPECTED_TRANSPORT[transport]
        return client.sid

    sid = run(lambda: with_client(server.url, transport, body))
    server.wait_for_event(event='connect', sid=sid)


def test_100_kb_messages_are_echoed(server, transport):
    """P-50, H-30: a 100 KB text message (compressed on polling) and a 100 KB binary one."""
    text = ('abcdé€😀' * 20_000)[:100_000]
    binary = bytes(range(256)) * 400

    async def body(client: ReferenceClient):
        assert await client.echo(text) == text
        assert await client.echo(binary) == binary

    run(lambda: with_client(server.url, transport, body))


def test_server_disconnect_runs_the_client_handler(server, transport):
    """S-14, P-28: ``disconnect(sid)`` → the client's handler gets ``server disconnect``."""

    async def body(client: ReferenceClient):
        assert await client.echo('before') == 'before'
        await client.client.send('disconnect me')
        assert await client.wait_disconnect() == 'server disconnect'
        await client.wait_state('disconnected')
        return client.sid

    sid = run(lambda: with_client(server.url, transport, body))
    server.wait_for_event(event='disconnect', sid=sid, reason='server disconnect')


def test_client_disconnect_is_reported_as_client_disconnect(quiet_server, transport):
    """S-33, P-27: a ``disconnect()`` whose ``1`` reaches the server → ``client disconnect``.

    The WebSocket close is held back until the write loop has sent the ``1``
    (see the module docstring); on polling nothing needs holding back.
    """

    async def body(client: ReferenceClient):
        assert await client.echo('before') == 'before'
        await client.disconnect(flush=True)
        assert await client.wait_disconnect() == 'client disconnect'
        return client.sid

    sid = run(lambda: with_client(quiet_server.url, transport, body))
    quiet_server.wait_for_event(event='disconnect', sid=sid, reason='client disconnect')


def test_plain_client_disconnect_is_reported_once_for_the_session(quiet_server, transport):
    """S-33, P-27, P-44: the reference client's own ``disconnect()`` ends the session once.

    On polling its ``1`` is POSTed: ``client disconnect``.  On WebSocket it
    closes the socket before writing the ``1`` (module docstring), so the
    server sees the connection drop: ``transport close``.
    """
    expected = 'client disconnect' if transport == 'polling' else 'transport close'

    async def body(client: ReferenceClient):
        assert await client.echo('before') == 'before'
        await client.disconnect(flush=False)
        assert await client.wait_disconnect() == 'client disconnect'
        return client.sid

    sid = run(lambda: with_client(quiet_server.url, transport, body))
    quiet_server.wait_for_event(event='disconnect', sid=sid, reason=expected)
    assert [e['reason'] for e in events_for(quiet_server, sid) if e['event'] == 'disconnect'] == [
        expected
    ]


def test_refused_connection_raises_connection_error_with_401(quiet_server, transport):
    """S-31: the connect handler returns False → ``ConnectionError`` carrying status 401.

    Polling handshakes report the status in the message and the JSON body
    as the second argument; a refused WebSocket handshake only in the
    aiohttp error the reference client raised from.  The client gets its own
    ``http_session`` (module docstring).  The refused session never gets a
    ``disconnect`` event.
    """
    seen = len(quiet_server.events)

    async def refused():
        async with aiohttp.ClientSession() as http_session:
            client = ReferenceClient(http_session=http_session)
            try:
                with pytest.raises(engineio.exceptions.ConnectionError) as info:
                    await client.connect(quiet_server.url + '/?refuse=1', transport)
                assert client.client.state == 'disconnected'
                return info.value
            finally:
                await client.close()

    error = run(refused)
    if TRANSPORTS[transport][0] == 'polling':
        assert error.args == ('Unexpected status code 401 in server response', 'Unauthorized')
    else:
        assert error.args == ('Connection error',)
        assert isinstance(error.__context__, aiohttp.WSServerHandshakeError)
        assert error.__context__.status == 401
    refused_sid = next_event(quiet_server, seen, event='connect')['sid']

    # A later session's disconnect shows that none came for the refused one.
    async def body(client: ReferenceClient):
        await client.disconnect()
        return client.sid

    sid = run(lambda: with_client(quiet_server.url, transport, body))
    quiet_server.wait_for_event(event='disconnect', sid=sid)
    assert [e['event'] for e in events_for(quiet_server, refused_sid)] == ['connect']


def test_session_survives_several_ping_cycles(server, transport):
    """P-30, P-31: over two and more 300 ms ping cycles the client's pongs keep the session open."""

    async def body(client: ReferenceClient):
        assert await client.echo('start') == 'start'
        await asyncio.sleep(0.8)
        assert await client.echo('still here') == 'still here'
        assert client.client.state == 'connected'
        assert client.disconnects.empty()
        assert [e for e in events_for(server, client.sid) if e['event'] == 'disconnect'] == []

    run(lambda: with_client(server.url, transport, body))
