"""Handlers run inside a task on the native transport, as under an ASGI server (issue 17).

The native server answers a request without a task of its own per request,
but never in the protocol's callbacks: a handler that uses
``asyncio.timeout()`` (or a library built on it, aiohttp's client say) needs
``asyncio.current_task()``.  Checked for the connect handler of a polling and
of a websocket handshake, and for message handlers over both transports.
"""

from __future__ import annotations

import pytest
from native_clients import NativeApp
from raw_clients import PollingClient, RawWebSocket


@pytest.fixture(scope='module')
def app():
    process = NativeApp()
    yield process
    process.stop()


def test_polling_handlers_run_in_a_task(app):
    client = PollingClient(app)
    connect = app.wait_for_event(timeout=10, event='connect', sid=client.sid)
    assert connect['in_task'] is True
    assert client.post('4in task?').status == 200
    assert client.get_until(['4in task: True']) == ['4in task: True']


def test_websocket_handlers_run_in_a_task(app):
    ws, open_data = RawWebSocket.connect(app.port)
    try:
        connect = app.wait_for_event(timeout=10, event='connect', sid=open_data['sid'])
        assert connect['in_task'] is True
        ws.send('4in task?')
        assert ws.recv() == '4in task: True'
    finally:
        ws.close()
