"""The ``_async`` dict of an ``AsyncServer`` that the native server answers.

Requests reach ``_handle_http`` directly; the upgrade flow builds its
websockets from ``websocket``, here the native one, which also applies
every ``websocket_compression`` setting.
"""

from __future__ import annotations

from .._ws_compression import FEATURES
from ..async_drivers import asgi
from .websocket import EngineIOWebSocket

ASYNC = dict(asgi._async, websocket=EngineIOWebSocket, websocket_compression=FEATURES)
