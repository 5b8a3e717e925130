"""HTTP side of the protocol: request checks, CORS, cookies, response shapes.

Everything here works on plain values (the WSGI-style ``environ`` dict, query
dicts, settings) and returns values or raises ``ProtocolError``; the servers
do the I/O.  A response is upstream's dict shape: ``{'status', 'headers',
'response'}``, so ``Server._ok`` and friends stay patchable.
"""

from __future__ import annotations

from typing import Any, Callable
from urllib.parse import unquote_plus

from .._constants import EIO_VERSION
from ..exceptions import ProtocolError

STATUS_LINES = {
    200: '200 OK',
    400: '400 BAD REQUEST',
    401: '401 UNAUTHORIZED',
    403: '403 FORBIDDEN',
    413: '413 PAYLOAD TOO LARGE',
}

TEXT_PLAIN = 'text/plain'
TEXT_UTF8 = 'text/plain; charset=UTF-8'
JSON_TYPE = 'application/json'

# Error messages of the legacy format (P-55); clients parse the JSON body.
BAD_REQUEST = 'Bad Request'
BAD_ORIGIN = 'Not an accepted origin.'
BAD_TRANSPORT = 'Invalid transport'
BAD_VERSION = 'The client is using an unsupported version of the Socket.IO or Engine.IO protocols'
BAD_JSONP = 'Invalid JSONP index number'
BAD_UPGRADE = 'Invalid websocket upgrade'
FORBIDDEN = 'Forbidden'
UNAUTHORIZED = 'Unauthorized'

# Error codes of the Node.js server, for error_format='json' (F-06).
CODE_UNKNOWN_TRANSPORT = 0
CODE_UNKNOWN_SID = 1
CODE_BAD_HANDSHAKE_METHOD = 2
CODE_BAD_REQUEST = 3
CODE_FORBIDDEN = 4
CODE_UNSUPPORTED_VERSION = 5


def parse_query(query_string: str) -> dict[str, str]:
    """First value of each query argument; percent-decoding only when needed."""
    query: dict[str, str] = {}
    if not query_string:
        return query
    for field in query_string.split('&'):
        name, _, value = field.partition('=')
        if '%' in field or '+' in field:
            name = unquote_plus(name)
            value = unquote_plus(value)
        if name and name not in query:
            query[name] = value
    return query


def invalid_session(sid: str | None) -> ProtocolError:
    """The error for an unknown, closed or not yet usable session id."""
    return ProtocolError(400, 'Invalid session %s' % sid, CODE_UNKNOWN_SID)


def check_query(query: dict[str, str], transports: list[str]) -> tuple[str, str | None, int | None]:
    """Validate transport, version and JSONP index, in that order.

    :returns: ``(transport, sid, jsonp_index)``.
    """
    # S-16
    transport = query.get('transport')
    if transport not in transports:
        raise ProtocolError(400, BAD_TRANSPORT, CODE_UNKNOWN_TRANSPORT)
    sid = query.get('sid')
    if sid is None and query.get('EIO') != EIO_VERSION:
        raise ProtocolError(400, BAD_VERSION, CODE_UNSUPPORTED_VERSION)
    jsonp_index = None
    if 'j' in query:
        text = query['j']
        if not text.isdigit() or not text.isascii() or len(text) > 9:
            raise ProtocolError(400, BAD_JSONP, CODE_BAD_REQUEST)
        jsonp_index = int(text)
    return transport, sid, jsonp_index


def is_websocket_upgrade(environ: dict) -> bool:
    """Whether the request asks for a WebSocket upgrade (Upgrade header)."""
    return environ.get('HTTP_UPGRADE', '').lower() == 'websocket'


# -- CORS --------------------------------------------------------------------


def _first_value(header: str) -> str:
    return header.split(',', 1)[0].strip()


def _forwarded_origin(header: str, default_scheme: str, default_host: str | None) -> str | None:
    """Origin from the first element of an RFC 7239 ``Forwarded`` header."""
    scheme, host = default_scheme, default_host
    for pair in _first_value(header).split(';'):
        key, _, value = pair.partition('=')
        key = key.strip().lower()
        value = value.strip().strip('"')
        if key == 'proto' and value:
            scheme = value
        elif key == 'host' and value:
            host = value
    return '%s://%s' % (scheme, host) if host else None


def same_origins(environ: dict) -> list[str]:
    """Origins of the server itself: ``scheme://Host`` and proxy views of it."""
    # H-11, H-13
    origins = []
    scheme = environ.get('wsgi.url_scheme', 'http')
    host = environ.get('HTTP_HOST')
    if host:
        origins.append('%s://%s' % (scheme, host))
    if 'HTTP_X_FORWARDED_PROTO' in environ or 'HTTP_X_FORWARDED_HOST' in environ:
        proxy_scheme = _first_value(environ.get('HTTP_X_FORWARDED_PROTO', scheme))
        proxy_host = _first_value(environ.get('HTTP_X_FORWARDED_HOST', host or ''))
        if proxy_host:
            origins.append('%s://%s' % (proxy_scheme, proxy_host))
    if 'HTTP_FORWARDED' in environ:
        origin = _forwarded_origin(environ['HTTP_FORWARDED'], scheme, host)
        if origin:
            origins.append(origin)
    return origins


def origin_allowed(setting: Any, origin: str, environ: dict) -> bool:
    """Whether ``origin`` passes ``cors_allowed_origins``."""
    # H-11
    if setting is None:
        return origin in same_origins(environ)
    if setting == '*':
        return True
    if isinstance(setting, str):
        return origin == setting
    if callable(setting):
        try:
            return bool(setting(origin, environ))
        except TypeError:
            return bool(setting(origin))
    return '*' in setting or origin in setting


def cors_headers(
    setting: Any, credentials: bool, environ: dict, max_age: int | None = None
) -> list[tuple[str, str]]:
    """CORS response headers for this request."""
    # H-12, H-13
    if setting == []:
        return []
    headers = []
    origin = environ.get('HTTP_ORIGIN')
    if origin and origin_allowed(setting, origin, environ):
        headers.append(('Access-Control-Allow-Origin', origin))
    if environ.get('REQUEST_METHOD') == 'OPTIONS':
        headers.append(('Access-Control-Allow-Methods', 'OPTIONS, GET, POST'))
        if max_age is not None:
            headers.append(('Access-Control-Max-Age', str(max_age)))
    if 'HTTP_ACCESS_CONTROL_REQUEST_HEADERS' in environ:
        headers.append(
            ('Access-Control-Allow-Headers', environ['HTTP_ACCESS_CONTROL_REQUEST_HEADERS'])
        )
    if credentials:
        headers.append(('Access-Control-Allow-Credentials', 'true'))
    return headers


# -- cookie ------------------------------------------------------------------

_JS_COOKIE_ATTRIBUTES = {'Path': '/', 'HttpOnly': True, 'SameSite': 'Lax'}
_LEGACY_COOKIE_ATTRIBUTES = {'path': '/', 'SameSite': 'Lax'}


def sid_cookie(setting: Any, sid: str, defaults: str = 'legacy') -> str | None:
    """The ``Set-Cookie`` value for a new session, or None."""
    # H-20, F-12
    if not setting:
        return None
    if isinstance(setting, dict):
        attributes = setting
    else:
        attributes = dict(_JS_COOKIE_ATTRIBUTES if defaults == 'js' else _LEGACY_COOKIE_ATTRIBUTES)
        attributes['name'] = setting
    parts = ['%s=%s' % (attributes.get('name', 'io'), sid)]
    for name, value in attributes.items():
        if name == 'name':
            continue
        if callable(value):
            value = value()
        if value is True:
            parts.append(name)
        elif value is not None and value is not False:
            parts.append('%s=%s' % (name, value))
    return '; '.join(parts)


# -- responses ---------------------------------------------------------------


def response(status: int, body: bytes, content_type: str, headers: list | None = None) -> dict:
    """A response description in upstream's dict shape."""
    return {
        'status': STATUS_LINES[status],
        'headers': (headers or []) + [('Content-Type', content_type)],
        'response': body,
    }


def error_response(error: ProtocolError, error_format: str, dumps: Callable) -> dict:
    """The answer to a refused request, legacy or JSON format."""
    # P-55, F-06
    if error_format == 'json':
        body = dumps({'code': error.code, 'message': error.message})
        return response(error.status, body.encode('utf-8'), JSON_TYPE)
    return response(error.status, dumps(error.message).encode('utf-8'), TEXT_PLAIN)


def unauthorized_response(value: Any, dumps: Callable) -> dict:
    """401 for a refused connect handler: its value as JSON, else "Unauthorized"."""
    # S-31
    if value is False or not value:
        value = UNAUTHORIZED
    return response(401, dumps(value).encode('utf-8'), JSON_TYPE)
