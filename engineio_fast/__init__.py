"""engineio_fast: a Cython-accelerated, API-compatible python-engineio."""

from . import exceptions, json, packet, payload  # noqa: F401 - public modules
from ._codec import USE_EXTENSIONS  # noqa: F401 - public flag
from .async_client import AsyncClient
from .client import Client
from .middleware import Middleware, WSGIApp
from .server import Server

__version__ = '0.1.0'
#: The python-engineio release whose API and behaviour this one follows.
ENGINEIO_COMPAT_VERSION = '4.15.1'

__all__ = ['Server', 'WSGIApp', 'Middleware', 'Client', 'AsyncClient']
