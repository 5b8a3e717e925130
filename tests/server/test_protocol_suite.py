"""The Engine.IO v4 protocol test suite (TS-01..TS-23) against the sync server.

Each case follows the engine.io-protocol ``test-suite.js`` case named in the
SPEC table (section 2.7), over real sockets: ``http.client`` for polling and
websocket-client for WebSockets.  Suite settings: pingInterval 300 ms,
pingTimeout 200 ms, echo server.  The echo server runs its message handler
inline (``async_handlers=False``, as python-socketio does), like the JS
reference server, so an echo is queued before the POST carrying the message
is answered and the following GET returns it whole.

The heartbeat cases (TS-15..TS-18) are the only timing-based tests here, as
the official suite has them.  This transcription is a fast guard, never more
lenient than the suite (which tests/conformance runs unmodified): a WebSocket
read takes the next frame, whatever it is, as the suite's listeners do.
"""

from __future__ import annotations

import json
import time

from raw_clients import (
    SEP,
    PollingClient,
    RawWebSocket,
    ResultThread,
    eio_path,
    http_request,
    websocket_handshake,
)

# -- handshake -------------------------------------------------------------------


def test_ts01_polling_handshake_opens_a_session(suite_server):
    """TS-01 (P-06, P-07): 200, OPEN with exactly the 5 keys in order, 300/200/1000000."""
    response = http_request(suite_server.port, 'GET', eio_path(EIO=4, transport='polling'))
    assert response.status == 200
    assert response.text.startswith('0')
    value = json.loads(response.text[1:])
    assert list(value) == ['sid', 'upgrades', 'pingTimeout', 'pingInterval', 'maxPayload']
    assert isinstance(value['sid'], str) and value['sid']
    assert value['upgrades'] == ['websocket']
    assert value['pingInterval'] == 300
    assert value['pingTimeout'] == 200
    assert value['maxPayload'] == 1000000


def test_ts02_handshake_with_missing_or_invalid_eio_is_refused(suite_server):
    """TS-02 (P-03): no EIO, or EIO=abc, on a polling handshake → 400."""
    for query in ({'transport': 'polling'}, {'EIO': 'abc', 'transport': 'polling'}):
        response = http_request(suite_server.port, 'GET', eio_path(**query))
        assert response.status == 400, query


def test_ts03_handshake_with_missing_or_invalid_transport_is_refused(suite_server):
    """TS-03 (P-04): no transport, or transport=abc → 400 (no session opened)."""
    for query in ({'EIO': 4}, {'EIO': 4, 'transport': 'abc'}):
        response = http_request(suite_server.port, 'GET', eio_path(**query))
        assert response.status == 400, query


def test_ts04_handshake_with_post_or_put_is_refused(suite_server):
    """TS-04 (P-05): the handshake is GET only; POST and PUT → 400."""
    for method in ('POST', 'PUT'):
        response = http_request(
            suite_server.port, method, eio_path(EIO=4, transport='polling'), body=b''
        )
        assert response.status == 400, method


def test_ts05_websocket_handshake_sends_open_first(suite_server):
    """TS-05 (P-43, P-06, P-07): OPEN is the first frame, with ``upgrades: []``."""
    ws = RawWebSocket(suite_server.port)
    try:
        first = ws.recv()
        assert isinstance(first, str) and first.startswith('0')
        value = json.loads(first[1:])
        assert list(value) == ['sid', 'upgrades', 'pingTimeout', 'pingInterval', 'maxPayload']
        assert value['upgrades'] == []
        assert value['pingInterval'] == 300
        assert value['pingTimeout'] == 200
        assert value['maxPayload'] == 1000000
    finally:
        ws.close()


def test_ts06_websocket_with_invalid_eio_or_transport_is_refused(suite_server):
    """TS-06 (P-03, P-04): the WebSocket is never accepted (400 instead of 101)."""
    for query in (
        {'transport': 'websocket'},
        {'EIO': 'abc', 'transport': 'websocket'},
        {'EIO': 4},
        {'EIO': 4, 'transport': 'abc'},
    ):
        response = websocket_handshake(suite_server.port, eio_path(**query))
        assert response.status == 400, query


# -- polling messages --------------------------------------------------------------


def test_ts07_polling_text_message_is_echoed(suite_server):
    """TS-07 (P-20): POST ``4hello`` → 200 ``ok``; GET → ``4hello``."""
    client = PollingClient(suite_server)
    response = client.post('4hello')
    assert (response.status, response.body) == (200, b'ok')
    response = client.get()
    assert (response.status, response.text) == (200, '4hello')


def test_ts08_polling_several_packets_are_echoed_in_order(suite_server):
    """TS-08 (P-12, P-20): three packets joined by ``\\x1e`` → ``ok``; GET returns the same."""
    client = PollingClient(suite_server)
    body = SEP.join(['4hello', '4€', '4world'])
    response = client.post(body)
    assert (response.status, response.body) == (200, b'ok')
    response = client.get()
    assert (response.status, response.text) == (200, body)
    assert response.headers['Content-Type'] == 'text/plain; charset=UTF-8'


def test_ts09_polling_text_and_binary_are_echoed(suite_server):
    """TS-09 (P-12): POST ``4hello\\x1ebAQIDBA==`` → ``ok``; GET returns the same text."""
    client = PollingClient(suite_server)
    body = '4hello' + SEP + 'bAQIDBA=='
    response = client.post(body)
    assert (response.status, response.body) == (200, b'ok')
    response = client.get()
    assert (response.status, response.text) == (200, body)


def test_ts10_polling_invalid_packet_closes_the_session(suite_server):
    """TS-10 (P-25, B-05): POST ``abc`` → 400; the next GET → 400 (session closed)."""
    client = PollingClient(suite_server)
    assert client.post('abc').status == 400
    assert client.get().status == 400
    suite_server.wait_for_event(event='disconnect', sid=client.sid, reason='transport error')


def test_ts11_concurrent_gets_close_the_session(suite_server):
    """TS-11 (P-23, B-06): two GETs 5 ms apart → one 200 ``1``, the other 400; next GET 400.

    Which of the two is "pending" depends on which the server sees first, so
    the pair is checked in either order.
    """
    client = PollingClient(suite_server)
    first = client.get_in_background()
    time.sleep(0.005)
    second = client.get_in_background()
    answers = sorted([first.result(), second.result()], key=lambda r: r.status)
    assert (answers[0].status, answers[0].text) == (200, '1')
    assert answers[1].status in (400, 500)
    assert client.get().status == 400
    suite_server.wait_for_event(event='disconnect', sid=client.sid, reason='transport error')


# -- websocket messages ------------------------------------------------------------


def test_ts12_websocket_text_message_is_echoed(suite_server):
    """TS-12: WebSocket ``4hello`` is echoed as ``4hello``."""
    ws, _ = RawWebSocket.connect(suite_server.port)
    try:
        ws.send('4hello')
        assert ws.recv() == '4hello'
    finally:
        ws.close()


def test_ts13_websocket_binary_message_is_echoed_as_binary(suite_server):
    """TS-13 (P-11): a binary frame ``01 02 03 04`` comes back as a binary frame."""
    ws, _ = RawWebSocket.connect(suite_server.port)
    try:
        ws.send_binary(b'\x01\x02\x03\x04')
        assert ws.recv() == b'\x01\x02\x03\x04'
    finally:
        ws.close()


def test_ts14_websocket_invalid_packet_closes_the_connection(suite_server):
    """TS-14 (P-26, B-07): a WebSocket frame ``abc`` → the server closes at once."""
    ws, open_data = RawWebSocket.connect(suite_server.port)
    try:
        ws.send('abc')
        ws.wait_closed()
    finally:
        ws.close()
    suite_server.wait_for_event(event='disconnect', sid=open_data['sid'], reason='transport error')


# -- heartbeat (timing-based, as in the official suite) ------------------------------


def test_ts15_polling_ping_pong(suite_server):
    """TS-15 (P-30): three times: GET → ``2``, POST ``3`` → ``ok``."""
    client = PollingClient(suite_server)
    for _ in range(3):
        response = client.get()
        assert (response.status, response.text) == (200, '2')
        response = client.post('3')
        assert (response.status, response.body) == (200, b'ok')


def test_ts16_polling_ping_timeout_closes_the_session(suite_server):
    """TS-16 (P-31, P-32): no pong; a GET 500 ms after the handshake → 400.

    The ping goes out 300 ms after the handshake, so its 200 ms pong
    deadline has passed when the GET arrives; the GET checks the deadline
    before anything else (P-32), whether or not the timer has fired yet.
    """
    client = PollingClient(suite_server)
    time.sleep(0.5)
    response = client.get()
    assert response.status == 400, (response.status, response.body)
    suite_server.wait_for_event(event='disconnect', sid=client.sid, reason='ping timeout')


def test_ts17_websocket_ping_pong(suite_server):
    """TS-17 (P-30): three times: the server sends ``2``, the client answers ``3``."""
    ws, _ = RawWebSocket.connect(suite_server.port)
    try:
        for _ in range(3):
            assert ws.recv() == '2'
            ws.send('3')
    finally:
        ws.close()


def test_ts18_websocket_ping_timeout_closes_the_connection(suite_server):
    """TS-18 (P-31): a ping left unanswered → the server closes the WebSocket."""
    ws, open_data = RawWebSocket.connect(suite_server.port)
    try:
        assert ws.recv() == '2'
        _, frames = ws.wait_closed()
        assert frames in ([], ['1']), frames
    finally:
        ws.close()
    suite_server.wait_for_event(event='disconnect', sid=open_data['sid'], reason='ping timeout')


# -- close -------------------------------------------------------------------------


def test_ts19_polling_close_releases_the_pending_get_with_noop(suite_server):
    """TS-19 (P-27): POST ``1`` during a pending GET → the GET gets 200 ``6``; next GET 400.

    The POST is sent once the GET has been waiting for 100 ms (the first
    ping is due at 300 ms).
    """
    client = PollingClient(suite_server)
    pending = client.get_in_background()
    time.sleep(0.1)
    response = client.post('1')
    assert (response.status, response.body) == (200, b'ok')
    response = pending.result()
    assert (response.status, response.text) == (200, '6')
    assert client.get().status == 400
    suite_server.wait_for_event(event='disconnect', sid=client.sid, reason='client disconnect')


def test_ts20_websocket_close_packet_closes_the_connection(suite_server):
    """TS-20 (P-27): WebSocket ``1`` → the server closes the connection."""
    ws, open_data = RawWebSocket.connect(suite_server.port)
    try:
        ws.send('1')
        ws.wait_closed()
    finally:
        ws.close()
    suite_server.wait_for_event(
        event='disconnect', sid=open_data['sid'], reason='client disconnect'
    )


# -- upgrade -----------------------------------------------------------------------


def test_ts21_upgrade_from_polling_to_websocket(suite_server):
    """TS-21 (P-40, P-41): ``2probe`` → ``3probe``; a GET → ``6``; after ``5`` the echo is the next frame.

    As strict as the suite: the ``6`` that ends the poll goes to the poll
    only, so nothing but the echo follows ``5`` on the WebSocket.
    """
    client = PollingClient(suite_server)
    ws = RawWebSocket(suite_server.port, sid=client.sid)
    try:
        ws.send('2probe')
        assert ws.recv() == '3probe'
        response = client.get()
        assert (response.status, response.text) == (200, '6')
        ws.send('5')
        ws.send('4hello')
        assert ws.recv() == '4hello'
    finally:
        ws.close()


def test_ts22_polling_after_upgrade_is_refused(suite_server):
    """TS-22 (P-21, P-41, P-60): ``2probe`` and ``5`` back to back, then at once a GET → 400.

    The suite does not wait for ``3probe``: the server wins this race only
    by handling both frames as soon as they arrive.  The suite listens for
    the echo only after the GET, so ``3probe`` may come first; nothing else.
    """
    client = PollingClient(suite_server)
    ws = RawWebSocket(suite_server.port, sid=client.sid)
    try:
        ws.send('2probe')
        ws.send('5')
        response = client.get()
        assert response.status == 400, (response.status, response.body)
        ws.send('4hello')
        assert [ws.recv(), ws.recv()] == ['3probe', '4hello']
    finally:
        ws.close()


def test_ts23_second_websocket_after_upgrade_is_accepted_then_closed(suite_server):
    """TS-23 (P-42): a second WebSocket for the sid is accepted and closed; the first keeps working."""
    client = PollingClient(suite_server)
    ws = RawWebSocket(suite_server.port, sid=client.sid)
    try:
        ws.send('2probe')
        ws.send('5')
        second = RawWebSocket(suite_server.port, sid=client.sid)  # 101, or this raises
        try:
            _, frames = second.wait_closed()
            assert frames == []
        finally:
            second.close()
        ws.send('4hello')
        assert [ws.recv(), ws.recv()] == ['3probe', '4hello']
    finally:
        ws.close()


def test_ts16_repeated_200_times_on_concurrent_sessions(suite_server):
    """TS-16 ×200 (P-31, P-32): 200 sessions, in waves of 25 concurrent ones, each GET after 500 ms → 400.

    A 200 answer (``2``) would mean the GET reached the server before the
    pong deadline it computed.
    """

    def one_case() -> tuple[str, int, bytes]:
        client = PollingClient(suite_server)
        time.sleep(0.5)
        response = client.get()
        return client.sid, response.status, response.body

    for _ in range(8):
        threads = [ResultThread(one_case) for _ in range(25)]
        results = [thread.result() for thread in threads]
        assert [status for _, status, _ in results] == [400] * 25, [
            result for result in results if result[1] != 400
        ]
