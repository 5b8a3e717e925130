"""engineio_fast's own HTTP/1.1 and WebSocket server for ``AsyncServer`` apps.

``python -m engineio_fast serve module:app`` or :func:`serve` runs an
``engineio_fast.ASGIApp`` (or python-socketio's) without an ASGI server:
Engine.IO requests reach the ``AsyncServer`` directly, the rest of the
application is called as ASGI.  Needs httptools; uses uvloop when installed.
"""

from .server import new_event_loop, serve, serve_async, ssl_context
from .service import Limits

__all__ = ['Limits', 'new_event_loop', 'serve', 'serve_async', 'ssl_context']
