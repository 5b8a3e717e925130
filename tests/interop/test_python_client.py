"""python-engineio's own client (4.15.1, the reference) against the sync server.

The client is ``engineio.Client`` from the python-engineio distribution, not
``engineio_fast``: it talks to an echo-server process over loopback on each
transport (polling only, websocket only, polling upgraded to websocket) with
the protocol-suite heartbeat (pingInterval 300 ms, pingTimeout 200 ms) and
the default ``async_handlers``.  Every wait is bounded.

Habits of the reference client are worked around in :class:`ReferenceClient`
(python-engineio's own server sees the same): ``Client.disconnect()`` may
drop its ``1`` packet (the write loop stops once the state changes after a
send) or close the WebSocket before writing it, and the server then rightly
reports ``ping timeout`` or ``transport close`` (P-31, P-44) instead of
``client disconnect``; and its read loop consumes the server's close reply,
so websocket-client's ``close()`` waits out its 3 s timeout.  The wrapper
starts the disconnect with the write loop idle, lets it write the ``1``
before the WebSocket closes (bounded), and shortens that wait.

The reference client refuses GET payloads of more than 16 packets
(``engineio.payload.Payload.max_decode_packets``, B-10).  Our server may
batch any number of queued packets into one response, as the JS server
does (P-74), so the burst test raises that class attribute of the
*client* (H-42 keeps it writable) and sends its 1000 messages in bursts
of 100, below the server's 1000-packet cap per POST.
"""

from __future__ import annotations

import queue
import time

import engineio
import engineio.payload
import pytest
from raw_clients import EXPECTED_TRANSPORT, TIMEOUT, TRANSPORTS, events_for


class ReferenceClient:
    """An ``engineio.Client`` recording its messages and disconnect reasons."""

    def __init__(self) -> None:
        assert engineio.Client.__module__ == 'engineio.client', (
            'engineio is not python-engineio here (engineio_fast.install() was called?)'
        )
        self.client = engineio.Client(handle_sigint=False, request_timeout=TIMEOUT)
        self.messages: queue.Queue = queue.Queue()
        self.disconnects: queue.Queue = queue.Queue()
        self.client.on('message', self.messages.put)
        self.client.on('disconnect', self.disconnects.put)
        self.sid: str | None = None
        self._flushing = False

    def connect(self, url: str, transport: str) -> None:
        self.client.connect(url, transports=TRANSPORTS[transport])
        self.sid = self.client.sid
        assert self.client.transport() == EXPECTED_TRANSPORT[transport]
        if self.client.ws is not None:
            self._wrap_websocket_close(self.client.ws)

    def _wrap_websocket_close(self, ws) -> None:
        """Flush the write loop before an explicit disconnect closes; wait 0.5 s for the reply."""
        close = ws.close

        def flushing_close(status=1000, reason=b'', timeout=3):
            if self._flushing:
                deadline = time.monotonic() + 2.0
                while self.client.queue.unfinished_tasks and time.monotonic() < deadline:
                    time.sleep(0.01)
            close(status, reason, timeout=min(timeout, 0.5))

        ws.close = flushing_close

    def disconnect(self) -> None:
        """``Client.disconnect()``, made to put its ``1`` packet on the wire.

        The reference write loop leaves as soon as it sees the state change
        after a send, dropping the queued ``1``; so the disconnect starts only
        once the write loop is idle again, and (WebSocket) the socket closes
        only once the ``1`` has been written.
        """
        deadline = time.monotonic() + 2.0
        while self.client.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # let the write loop get back to waiting on its queue
        self._flushing = True
        self.client.disconnect()

    def receive(self, timeout: float = TIMEOUT):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError('no message within %.1fs' % timeout) from None

    def echo(self, data):
        self.client.send(data)
        return self.receive()

    def wait_disconnect(self, timeout: float = TIMEOUT) -> str:
        try:
            return self.disconnects.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError('the client did not disconnect within %.1fs' % timeout) from None

    def close(self) -> None:
        if self.client.state == 'connected':
            self.disconnect()


@pytest.fixture
def client(server, transport):
    """A reference client connected to the echo server on ``transport``."""
    reference = ReferenceClient()
    reference.connect(server.url, transport)
    yield reference
    reference.close()


@pytest.fixture
def quiet_client(quiet_server, transport):
    """A reference client on the 5 s heartbeat server, for bulk transfers: a 200 ms
    pong deadline behind a burst on a loaded machine would end the session (P-31)."""
    reference = ReferenceClient()
    reference.connect(quiet_server.url, transport)
    yield reference
    reference.close()


def test_text_json_and_binary_are_echoed(client):
    """P-10..P-12, S-32, C-07: str, JSON and bytes round trips, each keeping its type."""
    assert client.echo('hello') == 'hello'
    assert client.echo('é€😀 \\ "q"') == 'é€😀 \\ "q"'
    assert client.echo({'a': [1, 2.5, None, True], 'b': 'x'}) == {
        'a': [1, 2.5, None, True],
        'b': 'x',
    }
    assert client.echo(b'\x00\x01\xfe\xff') == b'\x00\x01\xfe\xff'


def test_100_kb_messages_are_echoed(client):
    """P-50, H-30: a 100 KB text message (compressed on polling) and a 100 KB binary one."""
    text = ('abcdé€😀' * 20_000)[:100_000]
    assert client.echo(text) == text
    binary = bytes(range(256)) * 400
    assert client.echo(binary) == binary


def test_1000_small_messages_are_echoed_in_order(quiet_client, monkeypatch):
    """S-32, P-12, H-42, P-74: 1000 messages in bursts of 100 all come back, once each.

    The reference client runs each ``message`` handler on a thread of its own,
    so under load two handlers may record their messages out of order: order
    is checked with node's engine.io-client (tests/interop) instead.
    """
    monkeypatch.setattr(engineio.payload.Payload, 'max_decode_packets', 1000)
    received = []
    for burst in range(10):
        for i in range(burst * 100, burst * 100 + 100):
            quiet_client.client.send('m%d' % i)
        received += [quiet_client.receive() for _ in range(100)]
    assert sorted(received) == sorted('m%d' % i for i in range(1000))


def test_client_disconnect_is_reported_by_the_server(quiet_server, transport):
    """P-27, S-40: ``Client.disconnect()`` → the server's reason is ``client disconnect``.

    Runs on a server with a 5 s heartbeat so that no pong POST of the
    reference client races its ``1`` (see :meth:`ReferenceClient.disconnect`).
    """
    client = ReferenceClient()
    client.connect(quiet_server.url, transport)
    try:
        assert client.echo('before') == 'before'
        sid = client.sid
        client.disconnect()
        assert client.wait_disconnect() == 'client disconnect'
        quiet_server.wait_for_event(event='disconnect', sid=sid, reason='client disconnect')
    finally:
        client.close()


def test_server_disconnect_runs_the_client_handler(server, client):
    """P-28, B-02, S-14: ``disconnect(sid)`` on the server → the client's handler gets ``server disconnect``."""
    client.client.send('disconnect me')
    assert client.wait_disconnect() == 'server disconnect'
    server.wait_for_event(event='disconnect', sid=client.sid, reason='server disconnect')


def test_session_survives_several_ping_cycles(server, client):
    """P-30, P-31: over five 300 ms ping cycles the client's pongs keep the session open."""
    assert client.echo('start') == 'start'
    time.sleep(1.5)
    assert client.echo('still here') == 'still here'
    assert client.client.state == 'connected'
    assert client.disconnects.empty()
    assert [e for e in events_for(server, client.sid) if e['event'] == 'disconnect'] == []
