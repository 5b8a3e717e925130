"""The simple-websocket wrapper of the threading and gevent modes, on its odd paths."""

from __future__ import annotations

import socket
import threading

import simple_websocket
from wsproto.utilities import LocalProtocolError

from engineio_fast.async_drivers._websocket_wsgi import SimpleWebSocketWSGI


class _ClosingElsewhere:
    """A simple-websocket whose close frame another thread sent after ``connected`` was read."""

    connected = True

    def close(self, reason=None, message=None):
        raise LocalProtocolError('cannot be sent in state ConnectionState.LOCAL_CLOSING')


def test_close_racing_another_close_is_quiet():
    """F-05, B-07: two threads closing one websocket (upgrade timeout and session end)
    must not raise out of the request handler (seen under load in threading mode)."""
    ws = SimpleWebSocketWSGI(None, None)
    ws.ws = _ClosingElsewhere()
    ws.close()
    ws.close(1009)


def test_abort_unblocks_a_send_on_a_full_buffer():
    """P-31: ``abort()`` returns a send blocked because the peer stopped reading."""
    server_sock, client_sock = socket.socketpair()
    client_sock.setblocking(True)
    ws = SimpleWebSocketWSGI(None, None)
    ws.ws = simple_websocket.Server.__new__(simple_websocket.Server)
    ws.ws.sock = server_sock
    blocked = threading.Thread(target=lambda: _fill(server_sock), daemon=True)
    blocked.start()
    blocked.join(0.5)
    assert blocked.is_alive()
    ws.abort()
    blocked.join(5)
    assert not blocked.is_alive()
    server_sock.close()
    client_sock.close()


def _fill(sock) -> None:
    try:
        while True:
            sock.sendall(b'x' * 65536)
    except OSError:
        pass
