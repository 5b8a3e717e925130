"""The ``threading`` async mode: OS threads, simple-websocket."""

import queue
import threading
import time

from ._websocket_wsgi import COMPRESSION_FEATURES, SimpleWebSocketWSGI


class DaemonThread(threading.Thread):
    """A thread that does not keep the process alive."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs, daemon=True)


_async = {
    'thread': DaemonThread,
    'queue': queue.Queue,
    'queue_empty': queue.Empty,
    'event': threading.Event,
    'websocket': SimpleWebSocketWSGI,
    'websocket_compression': COMPRESSION_FEATURES,
    'sleep': time.sleep,
}
