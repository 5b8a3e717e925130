"""Handlers run inside a task on the native transport, as under an ASGI server (issue 17).

The native server answers a request without a task of its own per request,
but never in the protocol's callbacks: a handler that uses
``asyncio.timeout()`` (or a library built on it, aiohttp's client say) needs
``asyncio.current_task()``.  Checked for the connect handler of a polling and
of a websocket handshake, and for message handlers over both transports.

A request that arrives on a kept-alive connection while its task is idle is
answered on the read's stack, as that task; the task takes over when the
answer has to wait.  An ``asyncio.timeout()`` entered there then cancels the
right flow when it expires.  A websocket's messages are handed to the
session as they arrive, in the reader task's context.
"""

from __future__ import annotations

import http.client
import json

import pytest
from native_clients import NativeApp
from raw_clients import SEP, PollingClient, RawWebSocket, check_handler_timeouts, eio_path


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


def test_a_timeout_expiring_in_a_handler_of_a_kept_alive_connection_raises_in_the_handler(app):
    # The first request starts the connection's task; the second is answered
    # as that task on the read's stack, and its connect handler waits past
    # its timeout: the handler gets TimeoutError and the connection still works.
    connection = http.client.HTTPConnection('127.0.0.1', app.port, timeout=10)
    try:
        for _ in range(3):
            connection.request(
                'GET', eio_path(EIO=4, transport='polling'), headers={'X-Timeout-Probe': '1'}
            )
            response = connection.getresponse()
            body = response.read().decode()
            assert response.status == 200, body
            sid = json.loads(body.split(SEP)[0][1:])['sid']
            connect = app.wait_for_event(timeout=10, event='connect', sid=sid)
            assert connect['timed_out'] is True
            assert connect['in_task'] is True
    finally:
        connection.close()


def test_websocket_messages_see_the_context_of_the_connect_handler(app):
    # A websocket-only session: its connect handler and its reader share the
    # upgrade request's context, and message handlers start from the reader's.
    ws, open_data = RawWebSocket.connect(app.port)
    try:
        for _ in range(3):
            ws.send('4marker?')
            assert ws.recv() == '4marker: %s' % open_data['sid']
    finally:
        ws.close()


@pytest.mark.parametrize('transport', ['websocket', 'polling'])
@pytest.mark.parametrize('question', ['timeout?', 'timeout now?'])
def test_a_timeout_expiring_in_a_message_handler_raises_in_the_handler(app, transport, question):
    # The delivery runs as the session's courier task: the timeout cancels it,
    # not the session's reader or a request, and the session goes on.  A
    # timeout of 0 expires before the courier takes the suspended delivery over.
    check_handler_timeouts(app, transport, question, rounds=3)
