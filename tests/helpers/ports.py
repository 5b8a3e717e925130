"""Loopback ports for the tests and for the server scripts they start (stdlib only).

Child scripts (echo_server.py, async_server/asgi_app_server.py, compat/sio_app.py)
import this module too: :func:`children.python_env` puts this folder on their
``PYTHONPATH``, and nothing else.
"""

from __future__ import annotations

import socket

LOOPBACK = '127.0.0.1'


def free_port() -> int:
    """A loopback port nobody listens on (free when asked; the caller binds it soon)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def closed_port_url() -> str:
    """A loopback URL nobody listens on."""
    return 'http://%s:%d' % (LOOPBACK, free_port())


def listening_socket(backlog: int = 128, *, nodelay: bool = False) -> socket.socket:
    """A socket listening on a free loopback port, for a server to be handed.

    ``nodelay`` sets TCP_NODELAY, which accepted connections inherit: a server
    given a socket does not always set it, and keep-alive polling would stall
    on delayed ACKs.
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((LOOPBACK, 0))
    sock.listen(backlog)
    return sock
