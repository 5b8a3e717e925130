"""The chat demo: ``python -m engineio_fast demo``.

A threading-mode :class:`~engineio_fast.Server` with a broadcast chat
(:mod:`.app`), a web page whose Engine.IO client is our own small plain-JS one
(``eio.js``), served by a threaded stdlib WSGI server that supports websockets
(:mod:`.wsgi_server`).  Nothing beyond engineio_fast's own dependencies is
needed.
"""

from __future__ import annotations

from .app import ChatRoom, create_app
from .wsgi_server import make_server

__all__ = ['ChatRoom', 'create_app', 'make_server', 'serve']


def serve(
    host: str = '127.0.0.1', port: int = 5000, access_log: bool = False, **server_options
) -> None:
    """Run the chat demo until interrupted, printing its URL.

    :param host: the interface to listen on.
    :param port: the TCP port; 0 picks a free one.
    :param access_log: log one line per HTTP request.
    :param server_options: extra ``Server`` arguments (``ping_interval``, ...).
    """
    app, _room = create_app(**server_options)
    with make_server(host, port, app, access_log=access_log) as server:
        shown = f'[{host}]' if ':' in host else host
        print(f'engineio_fast chat demo on http://{shown}:{server.server_port}/', flush=True)
        print('Open it in two browser tabs; Ctrl+C to stop.', flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
