"""Size limits (H-41..H-43): ``max_http_buffer_size`` on POST bodies (sized,
unsized, chunked), payload packet counts, and websocket messages."""

from __future__ import annotations

import http.client

import pytest
from http_checks import (
    closed_for,
)
from raw_clients import (
    SEP,
    TIMEOUT,
    PollingClient,
    RawWebSocket,
    assert_error,
    wait_for_stderr,
)

# -- size limits -------------------------------------------------------------------------


def test_post_at_the_limit_is_delivered(small_server):
    """H-40: a 1000-byte body with a 1000-byte limit is accepted."""
    client = PollingClient(small_server)
    assert client.open['maxPayload'] == 1000
    response = client.post('4' + 'é' * 499 + 'x')
    assert (response.status, response.body) == (200, b'ok')
    assert client.get().text == '4' + 'é' * 499 + 'x'


def test_post_over_the_limit_with_content_length_is_413(small_server):
    """H-40, H-41: a body of 1001 bytes (Content-Length) → 413, session closed, warning logged."""
    client = PollingClient(small_server)
    response = client.post('4' + 'x' * 1000)
    assert response.status == 413, (response.status, response.body)
    closed_for(small_server, client.sid, 'transport error')
    wait_for_stderr(small_server, 'Refused a body of 1001 bytes (limit 1000 bytes)')


def test_post_over_the_limit_is_refused_unread(small_server):
    """H-41: a huge Content-Length is answered 413 without the body being sent."""
    client = PollingClient(small_server)
    conn = http.client.HTTPConnection('127.0.0.1', small_server.port, timeout=TIMEOUT)
    try:
        conn.putrequest('POST', client.path())
        conn.putheader('Content-Length', '100000000')
        conn.putheader('Content-Type', 'text/plain')
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 413
        response.read()
    finally:
        conn.close()
    closed_for(small_server, client.sid, 'transport error')


def chunks(body: bytes, size: int = 100):
    """The body as an iterable of chunks (sent with ``Transfer-Encoding: chunked``)."""
    return (body[i : i + size] for i in range(0, len(body), size))


def test_chunked_post_under_the_limit_is_delivered(small_server):
    """H-40, H-41, B-08: a chunked body (no Content-Length) is read, not treated as empty."""
    client = PollingClient(small_server)
    message = '4' + 'y' * 999
    response = client.post(chunks(message.encode()))
    assert (response.status, response.body) == (200, b'ok')
    assert client.get().text == message
    response = client.post(chunks(b'4hello', 2))
    assert (response.status, response.body) == (200, b'ok')
    assert client.get().text == '4hello'


def test_chunked_post_over_the_limit_is_refused(small_server):
    """H-41, B-08: a chunked body over the limit → 413 and the session closes."""
    client = PollingClient(small_server)
    response = client.post(chunks(b'4' + b'z' * 1500))
    assert response.status == 413, (response.status, response.body)
    closed_for(small_server, client.sid, 'transport error')


@pytest.mark.parametrize('count', [17, 1000])
def test_payload_with_many_packets_is_delivered(server, count):
    """H-42, B-10, P-74: 17 and 1000 packets in one POST are all delivered, in order."""
    client = PollingClient(server)
    packets = ['4m%d' % i for i in range(count)]
    response = client.post(SEP.join(packets))
    assert (response.status, response.body) == (200, b'ok')
    assert client.get().text.split(SEP) == packets


def test_payload_with_1001_packets_is_refused(server):
    """H-42: 1001 packets → 400, session closed (``transport error``), warning logged."""
    client = PollingClient(server)
    response = client.post(SEP.join('4m%d' % i for i in range(1001)))
    assert_error(response, 400, 'Bad Request')
    closed_for(server, client.sid, 'transport error')
    wait_for_stderr(server, '%s: bad POST payload: Too many packets in payload' % client.sid)


def test_websocket_message_under_the_limit_in_bytes_is_echoed(server):
    """H-40: a 900 001-byte text message (300 000 × 3-byte characters) with a 1 MB limit is accepted."""
    ws, _ = RawWebSocket.connect(server.port)
    try:
        message = '4' + '€' * 300_000
        ws.send(message)
        assert ws.recv_message() == message
    finally:
        ws.close()


def test_websocket_text_message_over_the_limit_in_bytes_is_closed(server):
    """H-43, H-40, B-09: 600 000 × 3-byte characters (1.8 MB, 600 001 characters) → close 1009."""
    ws, open_data = RawWebSocket.connect(server.port)
    try:
        try:
            ws.send('4' + '€' * 600_000)
        except OSError:
            pass  # the server may close before the whole frame is written
        code, _ = ws.wait_closed()
    finally:
        ws.close()
    server.wait_for_event(event='disconnect', sid=open_data['sid'], reason='transport error')
    wait_for_stderr(server, '%s: websocket message over 1000000 bytes' % open_data['sid'])
    assert code == 1009


def test_websocket_binary_message_over_the_limit_is_closed(server):
    """H-43, H-40: a 1 000 001-byte binary message → close 1009, warning, ``transport error``."""
    ws, open_data = RawWebSocket.connect(server.port)
    try:
        try:
            ws.send_binary(b'\x00' * 1_000_001)
        except OSError:
            pass
        code, _ = ws.wait_closed()
    finally:
        ws.close()
    assert code == 1009
    wait_for_stderr(server, '%s: websocket message over 1000000 bytes' % open_data['sid'])
    server.wait_for_event(event='disconnect', sid=open_data['sid'], reason='transport error')
