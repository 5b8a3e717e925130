"""The sync and async servers' HTTP layer over real sockets, one file per concern.

Every request the spec refuses is checked for its exact status and body
(legacy JSON-string bodies, P-55, or ``{"code", "message"}`` with
``error_format='json'``, F-06).  Servers are echo-server processes started
with the options each test needs (``http_checks.BASE`` and more).
"""

from __future__ import annotations

import pytest
from http_checks import BASE
from server_fixtures import serving
from server_process import SERVER_MODES


#: gevent_uwsgi is left out of these modules: uWSGI's own HTTP socket refuses
#: chunked request bodies and unusual methods before the app sees them, and
#: its websocket layer enforces its own message size (websockets-max-size)
#: and close handshake, so those cases test uWSGI rather than engineio_fast.
#: The protocol suite, the reference client and the node clients run on it.
@pytest.fixture(scope='package', params=[mode for mode in SERVER_MODES if mode != 'gevent_uwsgi'])
def server_mode(request: pytest.FixtureRequest) -> str:
    """The async modes of this package's servers."""
    return request.param


@pytest.fixture(scope='package')
def start_server(server_mode: str):
    """Servers shared by the package's modules: one set per mode, not per file."""
    yield from serving(server_mode)


@pytest.fixture(scope='package')
def server(start_server):
    """Echo server with the default limits (1 MB) and CORS (same origin)."""
    return start_server(**BASE)


@pytest.fixture(scope='package')
def small_server(start_server):
    """Echo server with ``max_http_buffer_size=1000``."""
    return start_server(**BASE, max_http_buffer_size=1000)
