"""WSGI-style environ for asyncio frameworks' requests."""
# A-11..A-13

from __future__ import annotations

import sys
from typing import Any, Iterable


def build_environ(
    framework: str,
    method: str,
    path: str,
    query_string: str,
    headers: Iterable[tuple[str, str]],
    body: Any,
    scheme: str,
    remote: tuple[str | None, int | None] | None,
    protocol: str = 'HTTP/1.1',
) -> dict:
    """The environ of one request; header names in any case, repeats joined by ``,``.

    ``scheme`` is the transport's (``https``/``wss`` give ``https``); the
    first ``X-Forwarded-Proto`` value overrides it.  ``remote`` is the
    peer's ``(host, port)``; ``127.0.0.1`` only when unknown.
    """
    #
    host, port = remote if remote else (None, None)
    environ: dict[str, Any] = {
        'wsgi.errors': sys.stderr,
        'wsgi.version': (1, 0),
        'wsgi.async': True,
        'wsgi.multithread': False,
        'wsgi.multiprocess': False,
        'wsgi.run_once': False,
        'SERVER_SOFTWARE': framework,
        'SCRIPT_NAME': '',
        'REMOTE_ADDR': host or '127.0.0.1',
        'REMOTE_PORT': str(port or 0),
        'SERVER_NAME': framework,
        'SERVER_PORT': '0',
    }
    for name, value in headers:
        key = _ENVIRON_KEYS.get(name) or environ_key(name)
        previous = environ.get(key)
        if previous is not None and key.startswith('HTTP_'):
            value = previous + ',' + value  # a repeated header
        environ[key] = value
    forwarded = environ.get('HTTP_X_FORWARDED_PROTO')
    if forwarded:
        scheme = forwarded.split(',', 1)[0].strip()
    environ['wsgi.url_scheme'] = 'https' if scheme in ('https', 'wss') else 'http'
    set_request(environ, method, path, query_string, body, protocol)
    return environ


def set_request(
    environ: dict, method: str, path: str, query_string: str, body: Any, protocol: str
) -> None:
    """Put a request's line and body into ``environ``; the rest comes from its headers."""
    environ['wsgi.input'] = body
    environ['REQUEST_METHOD'] = method
    environ['PATH_INFO'] = path
    environ['QUERY_STRING'] = query_string
    environ['RAW_URI'] = path + '?' + query_string if query_string else path
    environ['SERVER_PROTOCOL'] = protocol


#: Header name → environ key, for the names seen first (most requests repeat them).
_ENVIRON_KEYS: dict[str, str] = {}
_MAX_CACHED_KEYS = 512


def environ_key(name: str) -> str:
    """The environ key of a header: ``CONTENT_TYPE``/``CONTENT_LENGTH``, else ``HTTP_*``."""
    key = name.upper().replace('-', '_')
    if key != 'CONTENT_TYPE' and key != 'CONTENT_LENGTH':
        key = 'HTTP_' + key
    if len(_ENVIRON_KEYS) < _MAX_CACHED_KEYS:
        _ENVIRON_KEYS[name] = key
    return key
