"""Backpressure on the native server (issue 17): a websocket client that stops reading.

The app pushes big messages to a client that reads its OPEN packet and then
nothing more (a 4 KiB receive buffer).  The connection's write buffer stays
near the transport's high-water mark (writing pauses, the writer waits, the
session's outbox is bounded by ``max_queue_size`` with the ``block`` policy
so the pushing task waits too), the process does not grow by what was
pushed, and the ping timeout drops the client while another client keeps
echoing.  The app's ``stats`` command reports the stalled connection.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from native_clients import NativeApp
from raw_clients import RawWebSocket, http_request, next_event

MESSAGE = 256 * 1024
COUNT = 400  # 100 MiB if nothing held it back


@pytest.fixture(scope='module')
def app():
    process = NativeApp(
        eio={
            'ping_interval': 1,
            'ping_timeout': 2,
            'max_queue_size': 4,
            'queue_overflow': 'block',
        }
    )
    yield process
    process.stop()


def stats(ws: RawWebSocket, sid: str | None = None) -> dict:
    ws.send('4stats' + (' ' + sid if sid else ''))
    while True:
        frame = ws.recv_message()
        if isinstance(frame, str) and frame.startswith('4{'):
            return json.loads(frame[1:])


def test_a_client_that_stops_reading_pauses_the_server_and_is_dropped(app):
    healthy, _ = RawWebSocket.connect(app.port)
    stalled, open_data = RawWebSocket.connect(app.port)
    stalled.ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sid = open_data['sid']
    try:
        before = stats(healthy)
        stalled.send('4push %d %d' % (COUNT, MESSAGE))
        # The server fills what the socket takes, then its write buffer pauses it.
        deadline = time.monotonic() + 10
        while not (paused := stats(healthy, sid)).get('write_paused'):
            assert time.monotonic() < deadline, paused
            time.sleep(0.05)
        echoes, peak_buffer, peak_rss = 0, 0, before['rss']
        while not app.events_of(event='disconnect', sid=sid):
            assert time.monotonic() < deadline + 10, 'the stalled client was never dropped'
            healthy.send('4echo %d' % echoes)
            assert healthy.recv_message(timeout=5) == '4echo %d' % echoes
            echoes += 1
            current = stats(healthy, sid)
            if current.get('write_buffer') is not None:
                peak_buffer = max(peak_buffer, current['write_buffer'])
            peak_rss = max(peak_rss, current['rss'])
        disconnect = next_event(app, 0, event='disconnect', sid=sid)
        assert disconnect['reason'] == 'ping timeout', disconnect
        pushed = next_event(app, 0, event='pushed', sid=sid)
        # The pusher was held back: far fewer messages than asked for went out.
        assert pushed['sent'] < COUNT // 4, pushed
        assert echoes > 0
        # One message over the high-water mark at most, however much was pushed.
        assert peak_buffer <= 2 * MESSAGE + 256 * 1024, peak_buffer
        assert peak_rss - before['rss'] < 48 * 2**20, (peak_rss, before['rss'])
        # The dropped connection is gone on the server while the client still holds it.
        deadline = time.monotonic() + 10
        while (after := stats(healthy))['connections'] != before['connections'] - 1:
            assert time.monotonic() < deadline, (after, before)
            time.sleep(0.1)
        healthy.send('4after')
        assert healthy.recv_message() == '4after'
        assert http_request(app.port, 'GET', '/info').status == 200
    finally:
        healthy.close()
        stalled.close()


def test_a_websocket_send_callback_reports_the_delivery(app):
    """A message written at once (write-through) reports success to its callback."""
    ws, open_data = RawWebSocket.connect(app.port)
    try:
        ws.send('4confirm delivered')
        assert ws.recv_message() == '4delivered'
        sent = next_event(app, 0, event='sent', sid=open_data['sid'])
        assert (sent['data'], sent['error']) == ('delivered', None)
    finally:
        ws.close()
