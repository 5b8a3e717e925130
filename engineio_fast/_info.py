"""``python -m engineio_fast info``: what this installation runs, for bug reports and checks.

Versions come from the installed distributions' metadata, so reporting an
optional package never imports it (some are slow to import, eventlet and
gevent patch things when they are).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import sys
from pathlib import Path

from . import __version__, _codec, _ws
from ._extensions import FORCED_BY
from ._install import installed

#: The optional packages engineio_fast can use or be served by (distribution names) and
#: what each is for.
OPTIONAL_PACKAGES: tuple[tuple[str, str], ...] = (
    ('simple-websocket', 'websockets on WSGI servers (a dependency)'),
    ('wsproto', 'websocket protocol under simple-websocket'),
    ('orjson', 'engineio_fast.json_fast'),
    ('httptools', 'the native transport (serve)'),
    ('uvloop', 'the native transport, faster event loop'),
    ('requests', 'Client, polling'),
    ('websocket-client', 'Client, websocket'),
    ('aiohttp', "AsyncClient; the 'aiohttp' mode"),
    ('tornado', "the 'tornado' mode"),
    ('sanic', "the 'sanic' mode"),
    ('eventlet', "the 'eventlet' mode"),
    ('gevent', "the 'gevent' and 'gevent_uwsgi' modes"),
    ('gevent-websocket', "websockets in the 'gevent' mode"),
    ('uWSGI', "the 'gevent_uwsgi' mode"),
    ('gunicorn', 'WSGI server (threading, eventlet, gevent workers)'),
    ('Werkzeug', "WSGI development server, the 'threading' mode"),
    ('uvicorn', "ASGI server, the 'asgi' mode"),
    ('hypercorn', "ASGI server, the 'asgi' mode"),
    ('daphne', "ASGI server, the 'asgi' mode"),
    ('granian', "ASGI server, the 'asgi' mode"),
    ('python-socketio', 'Socket.IO on top, through install()'),
    ('Flask-SocketIO', 'Socket.IO for Flask, through install()'),
)


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, None when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def backend(what: str, compiled: str, twin: str, uses_compiled: bool) -> str:
    """One line saying which twin of a compiled/pure pair runs, and why not the compiled one."""
    if uses_compiled:
        return '%s: compiled (engineio_fast.%s)' % (what, compiled)
    if FORCED_BY:
        why = 'forced by ' + FORCED_BY
    elif importlib.util.find_spec('engineio_fast.' + compiled) is None:
        why = 'the compiled extension is not installed (pure wheel or no compiler)'
    else:
        why = 'the compiled extension failed to import'
    return '%s: pure-Python twin (engineio_fast.%s), %s' % (what, twin, why)


def report() -> str:
    """The text ``python -m engineio_fast info`` prints."""
    lines = [
        'engineio_fast %s (%s)' % (__version__, Path(__file__).resolve().parent),
        backend('codec', '_codec_c', '_codec_py', _codec.USE_EXTENSIONS),
        backend('websocket framing', '_ws_c', '_ws_py', _ws.USE_EXTENSIONS),
        'python: %s %s (%s)'
        % (platform.python_implementation(), platform.python_version(), sys.executable),
    ]
    upstream = installed_version('python-engineio')
    if upstream:
        lines.append(
            "python-engineio: %s, installed alongside ('import engineio' gives it "
            'unless engineio_fast.install() is called)' % upstream
        )
    else:
        lines.append('python-engineio: not installed')
    lines.append(
        'install() active in this process: %s (an app checks with engineio_fast.installed())'
        % ('yes' if installed() else 'no')
    )
    lines.append('optional packages:')
    width = max(len(name) for name, _ in OPTIONAL_PACKAGES)
    for name, purpose in OPTIONAL_PACKAGES:
        version = installed_version(name) or 'not installed'
        lines.append('  %-*s  %-13s  %s' % (width, name, version, purpose))
    return '\n'.join(lines)
