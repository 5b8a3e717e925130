"""engineio_fast: a Cython-accelerated, API-compatible python-engineio."""

from . import exceptions, json, packet, payload  # noqa: F401 - public modules
from ._codec import USE_EXTENSIONS  # noqa: F401 - public flag
from ._install import install, uninstall  # noqa: F401 - the swap-in
from .async_client import AsyncClient
from .async_drivers.asgi import ASGIApp
from .async_server import AsyncServer
from .client import Client
from .middleware import Middleware, WSGIApp
from .server import Server

__version__ = '0.1.0'
#: The python-engineio release whose API and behaviour this one follows.
ENGINEIO_COMPAT_VERSION = '4.15.1'

__all__ = [
    'Server',
    'WSGIApp',
    'Middleware',
    'AsyncServer',
    'ASGIApp',
    'get_tornado_handler',
    'Client',
    'AsyncClient',
]


def __getattr__(name: str):
    # Imported on first use: tornado is optional and slow to import.
    if name == 'get_tornado_handler':
        try:
            from .async_drivers.tornado import get_tornado_handler
        except ImportError:  # tornado is not installed
            get_tornado_handler = None
        globals()['get_tornado_handler'] = get_tornado_handler
        return get_tornado_handler
    raise AttributeError('module %r has no attribute %r' % (__name__, name))
