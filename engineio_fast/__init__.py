"""engineio_fast: a Cython-accelerated, API-compatible python-engineio."""

from typing import TYPE_CHECKING

from . import exceptions, json, packet, payload  # noqa: F401 - public modules
from ._codec import USE_EXTENSIONS
from ._install import install, installed, uninstall
from ._optional import lazy_imports as _lazy_imports
from .async_client import AsyncClient
from .async_drivers.asgi import ASGIApp
from .async_server import AsyncServer
from .client import Client
from .middleware import Middleware, WSGIApp
from .server import Server

if TYPE_CHECKING:  # imported on first use at run time, see __getattr__ below
    from .async_drivers.tornado import get_tornado_handler
    from .native.server import serve

__version__ = '0.1.0'
#: The python-engineio release whose API and behaviour this one follows.
ENGINEIO_COMPAT_VERSION = '4.15.1'

__all__ = [
    # python-engineio's public names
    'Server',
    'WSGIApp',
    'Middleware',
    'AsyncServer',
    'ASGIApp',
    'get_tornado_handler',
    'Client',
    'AsyncClient',
    # engineio_fast's own
    'install',
    'installed',
    'uninstall',
    'USE_EXTENSIONS',
    'ENGINEIO_COMPAT_VERSION',
    'serve',
]

# Imported on first use: tornado and httptools are optional, tornado is slow to import.
__getattr__ = _lazy_imports(
    globals(),
    {
        'get_tornado_handler': 'engineio_fast.async_drivers.tornado:get_tornado_handler',
        'serve': 'engineio_fast.native.server:serve',
    },
)
