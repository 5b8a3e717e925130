"""The HTTP side of the protocol (``engineio_fast._protocol.http``): plain dicts in, values out.

P-02..P-04 query checks, P-55/P-56 error bodies, H-10..H-13 CORS, H-20 and
F-12 cookies, H-25 JSONP index, F-06 JSON error format, S-16 check order,
S-31 connect rejection.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engineio_fast._protocol import http
from engineio_fast.exceptions import ProtocolError

TRANSPORTS = ['polling', 'websocket']


# -- query (P-02..P-04, H-25, S-16) --------------------------------------------


@pytest.mark.parametrize(
    'query_string, expected',
    [
        ('', {}),
        ('EIO=4&transport=polling&t=Nx1', {'EIO': '4', 'transport': 'polling', 't': 'Nx1'}),
        ('sid=a&sid=b', {'sid': 'a'}),
        ('sid=a%2Bb%3D&x=a+b', {'sid': 'a+b=', 'x': 'a b'}),
        ('a%20b=1', {'a b': '1'}),
        ('=x&&b=2', {'b': '2'}),
        ('flag&j=', {'flag': '', 'j': ''}),
        ('d=a=b', {'d': 'a=b'}),
        ('x=%E2%82%AC', {'x': '\u20ac'}),
    ],
    ids=[
        'empty',
        'plain',
        'first-value-wins',
        'percent-and-plus',
        'encoded-name',
        'empty-names-skipped',
        'no-value',
        'value-keeps-equals',
        'utf8-percent',
    ],
)
def test_parse_query(query_string, expected):
    """P-02: first value of each argument, percent-decoded, nameless fields dropped."""
    assert http.parse_query(query_string) == expected


_query_text = st.text(st.characters(blacklist_categories=('Cs',)), max_size=20)


@given(st.dictionaries(_query_text.filter(bool), _query_text, max_size=6))
def test_parse_query_inverts_urlencode(query):
    """P-02: whatever a client's urlencode produced comes back unchanged."""
    assert http.parse_query(urlencode(query)) == query


def test_invalid_session_is_a_400_naming_the_sid():
    """P-21, P-55, F-06: 'Invalid session <sid>', JS code 1 (session ID unknown)."""
    error = http.invalid_session('abc')
    assert isinstance(error, ProtocolError)
    assert (error.status, error.message, error.code) == (400, 'Invalid session abc', 1)
    assert str(error) == 'Invalid session abc'


def test_check_query_accepts_a_handshake():
    """P-02, P-03: transport and EIO=4, no sid, no JSONP."""
    assert http.check_query({'transport': 'polling', 'EIO': '4'}, TRANSPORTS) == (
        'polling',
        None,
        None,
    )


@pytest.mark.parametrize('eio', [None, '3', '5', ''])
def test_check_query_needs_no_eio_once_a_sid_exists(eio):
    """P-02: EIO is checked on the handshake only."""
    query = {'transport': 'websocket', 'sid': 'abc'}
    if eio is not None:
        query['EIO'] = eio
    assert http.check_query(query, TRANSPORTS) == ('websocket', 'abc', None)


@pytest.mark.parametrize(
    'query, transports',
    [
        ({'EIO': '4'}, TRANSPORTS),
        ({'EIO': '4', 'transport': ''}, TRANSPORTS),
        ({'EIO': '4', 'transport': 'flashsocket'}, TRANSPORTS),
        ({'EIO': '4', 'transport': 'websocket'}, ['polling']),
        ({'EIO': '4', 'transport': 'Polling'}, TRANSPORTS),
        ({'sid': 'abc', 'transport': 'polling'}, ['websocket']),
    ],
    ids=['missing', 'empty', 'unknown', 'not-allowed', 'case-sensitive', 'with-sid'],
)
def test_check_query_refuses_transport(query, transports):
    """P-04: transport missing or not in transports -> 400 'Invalid transport', code 0."""
    with pytest.raises(ProtocolError) as info:
        http.check_query(query, transports)
    assert (info.value.status, info.value.message, info.value.code) == (
        400,
        http.BAD_TRANSPORT,
        0,
    )
    assert info.value.message == 'Invalid transport'


@pytest.mark.parametrize('eio', [None, '3', '5', '', '04'])
def test_check_query_refuses_other_protocol_versions(eio):
    """P-03: a handshake without EIO=4 -> 400 (v3 refused), code 5."""
    query = {'transport': 'polling'}
    if eio is not None:
        query['EIO'] = eio
    with pytest.raises(ProtocolError) as info:
        http.check_query(query, TRANSPORTS)
    assert (info.value.status, info.value.message, info.value.code) == (400, http.BAD_VERSION, 5)
    assert info.value.message == (
        'The client is using an unsupported version of the Socket.IO or Engine.IO protocols'
    )


@pytest.mark.parametrize(
    'j, index', [('0', 0), ('7', 7), ('123', 123), ('007', 7), ('999999999', 999999999)]
)
def test_check_query_reads_the_jsonp_index(j, index):
    """H-25: j=<int> enables JSONP with that index."""
    query = {'transport': 'polling', 'EIO': '4', 'j': j}
    assert http.check_query(query, TRANSPORTS) == ('polling', None, index)


@pytest.mark.parametrize(
    'j',
    ['', 'x', '-1', '+1', '1.5', ' 1', '1e3', '\uff11', '\u00b2', '\u0661', '1234567890'],
    ids=[
        'empty',
        'letter',
        'negative',
        'plus',
        'decimal',
        'space',
        'exponent',
        'fullwidth-digit',
        'superscript',
        'arabic-indic',
        'ten-digits',
    ],
)
def test_check_query_refuses_a_bad_jsonp_index(j):
    """H-25: a non-integer (or non-ASCII, or overlong) j -> 400, code 3 (bad request)."""
    with pytest.raises(ProtocolError) as info:
        http.check_query({'transport': 'polling', 'EIO': '4', 'j': j}, TRANSPORTS)
    assert (info.value.status, info.value.message, info.value.code) == (400, http.BAD_JSONP, 3)
    assert info.value.message == 'Invalid JSONP index number'


def test_check_query_checks_transport_then_version_then_jsonp():
    """S-16: check order is transport, version, JSONP index."""
    with pytest.raises(ProtocolError) as info:
        http.check_query({'transport': 'x', 'EIO': '3', 'j': 'x'}, TRANSPORTS)
    assert info.value.message == http.BAD_TRANSPORT
    with pytest.raises(ProtocolError) as info:
        http.check_query({'transport': 'polling', 'EIO': '3', 'j': 'x'}, TRANSPORTS)
    assert info.value.message == http.BAD_VERSION


@pytest.mark.parametrize(
    'environ, expected',
    [
        ({'HTTP_UPGRADE': 'websocket'}, True),
        ({'HTTP_UPGRADE': 'WebSocket'}, True),
        ({'HTTP_UPGRADE': 'WEBSOCKET'}, True),
        ({}, False),
        ({'HTTP_UPGRADE': ''}, False),
        ({'HTTP_UPGRADE': 'h2c'}, False),
        ({'HTTP_CONNECTION': 'Upgrade'}, False),
    ],
)
def test_is_websocket_upgrade(environ, expected):
    """P-40, P-43: the Upgrade header, case-insensitive, asks for a websocket."""
    assert http.is_websocket_upgrade(environ) is expected


# -- CORS (H-10..H-13) ---------------------------------------------------------


@pytest.mark.parametrize(
    'environ, expected',
    [
        ({'HTTP_HOST': 'h:5000'}, ['http://h:5000']),
        ({'HTTP_HOST': 'h', 'wsgi.url_scheme': 'https'}, ['https://h']),
        ({}, []),
        (
            {'HTTP_HOST': 'h', 'HTTP_X_FORWARDED_PROTO': 'https'},
            ['http://h', 'https://h'],
        ),
        (
            {'HTTP_HOST': 'h', 'HTTP_X_FORWARDED_HOST': 'proxy.example'},
            ['http://h', 'http://proxy.example'],
        ),
        (
            {
                'HTTP_HOST': 'h',
                'HTTP_X_FORWARDED_PROTO': 'https, http',
                'HTTP_X_FORWARDED_HOST': 'a.example , b.example',
            },
            ['http://h', 'https://a.example'],
        ),
        ({'HTTP_X_FORWARDED_PROTO': 'https'}, []),
        (
            {'HTTP_HOST': 'h', 'HTTP_FORWARDED': 'for=1.2.3.4;proto=https;host="a.example"'},
            ['http://h', 'https://a.example'],
        ),
        (
            {'HTTP_HOST': 'h', 'HTTP_FORWARDED': 'Proto=https;Host=a.example, proto=http;host=b'},
            ['http://h', 'https://a.example'],
        ),
        ({'HTTP_HOST': 'h', 'HTTP_FORWARDED': 'proto=https'}, ['http://h', 'https://h']),
        ({'HTTP_FORWARDED': 'proto=https'}, []),
        ({'HTTP_FORWARDED': 'host=a.example'}, ['http://a.example']),
    ],
    ids=[
        'host',
        'https-host',
        'no-host',
        'x-forwarded-proto',
        'x-forwarded-host',
        'x-forwarded-first-values',
        'x-forwarded-proto-without-host',
        'forwarded',
        'forwarded-first-element-any-case',
        'forwarded-proto-only',
        'forwarded-without-any-host',
        'forwarded-host-only',
    ],
)
def test_same_origins(environ, expected):
    """H-11, H-13: scheme://Host, then X-Forwarded-* first values, then RFC 7239 Forwarded."""
    assert http.same_origins(environ) == expected


HOST = {'HTTP_HOST': 'h', 'wsgi.url_scheme': 'http'}


@pytest.mark.parametrize(
    'setting, origin, expected',
    [
        (None, 'http://h', True),
        (None, 'https://h', False),
        (None, 'http://evil', False),
        ('*', 'http://evil', True),
        (['*'], 'http://evil', True),
        (['http://a', '*'], 'http://evil', True),
        ('http://a', 'http://a', True),
        ('http://a', 'http://a.evil', False),
        ('http://a', 'http://', False),
        (['http://a', 'http://b'], 'http://b', True),
        (['http://a', 'http://b'], 'http://c', False),
        (('http://a',), 'http://a', True),
        ({'http://a'}, 'http://a', True),
        ([], 'http://a', False),
    ],
)
def test_origin_allowed(setting, origin, expected):
    """H-11: None same origin, '*' any, string that one, list those."""
    assert http.origin_allowed(setting, origin, HOST) is expected


def test_origin_allowed_calls_a_callable_with_origin_and_environ():
    """H-11: a callable gets (origin, environ); its truthiness decides."""
    calls = []

    def allow(origin, environ):
        calls.append((origin, environ))
        return 'yes' if origin == 'http://a' else 0

    assert http.origin_allowed(allow, 'http://a', HOST) is True
    assert http.origin_allowed(allow, 'http://b', HOST) is False
    assert calls == [('http://a', HOST), ('http://b', HOST)]


def test_origin_allowed_retries_a_one_argument_callable_with_origin_only():
    """H-11: a callable that cannot bind two arguments is retried as (origin)."""
    calls = []

    def allow(origin):
        calls.append(origin)
        return origin == 'http://a'

    assert http.origin_allowed(allow, 'http://a', HOST) is True
    assert http.origin_allowed(allow, 'http://b', HOST) is False
    assert calls == ['http://a', 'http://b']


def test_cors_headers_are_off_for_an_empty_list():
    """H-10: cors_allowed_origins=[] turns CORS handling off entirely."""
    environ = {
        **HOST,
        'HTTP_ORIGIN': 'http://h',
        'REQUEST_METHOD': 'OPTIONS',
        'HTTP_ACCESS_CONTROL_REQUEST_HEADERS': 'x-a',
    }
    assert http.cors_headers([], True, environ, max_age=600) == []


def test_cors_headers_allow_an_accepted_origin():
    """H-12: Access-Control-Allow-Origin echoes an allowed origin."""
    environ = {**HOST, 'REQUEST_METHOD': 'GET', 'HTTP_ORIGIN': 'http://a'}
    assert http.cors_headers(['http://a'], False, environ) == [
        ('Access-Control-Allow-Origin', 'http://a')
    ]


@pytest.mark.parametrize('origin', [None, 'http://evil'], ids=['no-origin', 'refused-origin'])
def test_cors_headers_name_no_origin_unless_allowed(origin):
    """H-10, H-12: no Origin, or a refused one, gets no Allow-Origin header."""
    environ = {**HOST, 'REQUEST_METHOD': 'GET'}
    if origin:
        environ['HTTP_ORIGIN'] = origin
    assert http.cors_headers(['http://a'], False, environ) == []


def test_cors_headers_of_a_preflight():
    """H-12, H-13, F-11: methods, echoed request headers, max age and credentials, in order."""
    environ = {
        **HOST,
        'REQUEST_METHOD': 'OPTIONS',
        'HTTP_ORIGIN': 'http://h',
        'HTTP_ACCESS_CONTROL_REQUEST_HEADERS': 'content-type, x-token',
    }
    assert http.cors_headers(None, True, environ, max_age=600) == [
        ('Access-Control-Allow-Origin', 'http://h'),
        ('Access-Control-Allow-Methods', 'OPTIONS, GET, POST'),
        ('Access-Control-Max-Age', '600'),
        ('Access-Control-Allow-Headers', 'content-type, x-token'),
        ('Access-Control-Allow-Credentials', 'true'),
    ]


def test_cors_max_age_only_on_preflight():
    """H-13: Access-Control-Max-Age goes on OPTIONS responses only."""
    environ = {**HOST, 'REQUEST_METHOD': 'GET', 'HTTP_ORIGIN': 'http://h'}
    headers = http.cors_headers('*', False, environ, max_age=600)
    assert headers == [('Access-Control-Allow-Origin', 'http://h')]
    preflight = http.cors_headers('*', False, {**environ, 'REQUEST_METHOD': 'OPTIONS'})
    assert ('Access-Control-Allow-Methods', 'OPTIONS, GET, POST') in preflight
    assert all(name != 'Access-Control-Max-Age' for name, _ in preflight)


def test_cors_credentials_on_every_response():
    """H-12: Allow-Credentials on every response when cors_credentials, origin or not."""
    environ = {**HOST, 'REQUEST_METHOD': 'POST'}
    assert http.cors_headers('*', True, environ) == [('Access-Control-Allow-Credentials', 'true')]
    assert http.cors_headers('*', False, environ) == []


# -- cookie (H-20, F-12) -------------------------------------------------------


@pytest.mark.parametrize('setting', [None, False, '', {}])
def test_no_cookie_when_not_configured(setting):
    """H-20: cookie off -> no Set-Cookie."""
    assert http.sid_cookie(setting, 'SID') is None


def test_cookie_name_gives_the_legacy_cookie_byte_identical():
    """H-20: cookie='io' -> 'io=<sid>; path=/; SameSite=Lax'."""
    assert http.sid_cookie('io', 'SID') == 'io=SID; path=/; SameSite=Lax'
    assert http.sid_cookie('sess', 'SID') == 'sess=SID; path=/; SameSite=Lax'


def test_cookie_with_js_defaults():
    """F-12: cookie_defaults='js' -> 'Path=/; HttpOnly; SameSite=Lax' like the JS server."""
    assert http.sid_cookie('io', 'SID', defaults='js') == 'io=SID; Path=/; HttpOnly; SameSite=Lax'


def test_cookie_dict_keeps_attribute_order():
    """H-20: name first, then attributes in order; string k=v, True a bare flag."""
    setting = {'path': '/chat', 'name': 'c', 'Secure': True, 'SameSite': 'None'}
    assert http.sid_cookie(setting, 'SID') == 'c=SID; path=/chat; Secure; SameSite=None'


def test_cookie_dict_defaults_its_name_to_io_and_ignores_js_defaults():
    """H-20, F-12: a dict is taken as written; the name defaults to 'io'."""
    assert http.sid_cookie({'path': '/'}, 'SID', defaults='js') == 'io=SID; path=/'


def test_cookie_dict_calls_callable_attributes():
    """H-20: a callable attribute is called for each cookie; False/None drop it."""
    calls = []

    def expires():
        calls.append(1)
        return 'Thu, 01 Jan 2099 00:00:00 GMT'

    setting = {'expires': expires, 'HttpOnly': lambda: True, 'Secure': False, 'Domain': None}
    expected = 'io=SID; expires=Thu, 01 Jan 2099 00:00:00 GMT; HttpOnly'
    assert http.sid_cookie(setting, 'SID') == expected
    assert http.sid_cookie(setting, 'SID') == expected
    assert len(calls) == 2


# -- responses (P-20, P-55, P-56, F-06, S-31) ----------------------------------


def test_response_has_upstreams_dict_shape():
    """P-12, P-20: {'status', 'headers', 'response'}, Content-Type last."""
    assert http.response(200, b'ok', http.TEXT_UTF8) == {
        'status': '200 OK',
        'headers': [('Content-Type', 'text/plain; charset=UTF-8')],
        'response': b'ok',
    }


def test_response_puts_extra_headers_before_content_type_without_changing_them():
    """P-12: given headers first; the caller's list is not modified."""
    extra = [('Set-Cookie', 'io=SID; path=/; SameSite=Lax'), ('Cache-Control', 'no-store')]
    result = http.response(200, b'x', http.TEXT_UTF8, extra)
    assert result['headers'] == extra + [('Content-Type', 'text/plain; charset=UTF-8')]
    assert len(extra) == 2


@pytest.mark.parametrize(
    'status, line',
    [
        (200, '200 OK'),
        (400, '400 BAD REQUEST'),
        (401, '401 UNAUTHORIZED'),
        (403, '403 FORBIDDEN'),
        (413, '413 PAYLOAD TOO LARGE'),
    ],
)
def test_response_status_lines(status, line):
    """P-55, P-56, F-01, H-41: the status lines upstream (and WSGI) use."""
    assert http.response(status, b'', http.TEXT_PLAIN)['status'] == line


LEGACY_MESSAGES = [
    'Invalid session abc',
    'Invalid transport',
    'Not an accepted origin.',
    'http://evil is not an accepted origin.',
    'The client is using an unsupported version of the Socket.IO or Engine.IO protocols',
    'Invalid JSONP index number',
    'Invalid websocket upgrade',
    'Bad Request',
    'caf\u00e9 "quoted" \\ \u2028',
]


@pytest.mark.parametrize('message', LEGACY_MESSAGES)
def test_legacy_error_body_is_a_json_string(message):
    """P-55: 400 BAD REQUEST, text/plain, the body a JSON string clients parse."""
    result = http.error_response(ProtocolError(400, message), 'legacy', json.dumps)
    assert result['status'] == '400 BAD REQUEST'
    assert result['headers'] == [('Content-Type', 'text/plain')]
    assert isinstance(result['response'], bytes)
    assert json.loads(result['response'].decode('utf-8')) == message


def test_legacy_error_body_for_the_module_messages():
    """P-55: the exact bytes of the documented messages."""
    cases = {
        http.BAD_TRANSPORT: b'"Invalid transport"',
        http.BAD_ORIGIN: b'"Not an accepted origin."',
        http.BAD_JSONP: b'"Invalid JSONP index number"',
        http.BAD_UPGRADE: b'"Invalid websocket upgrade"',
        http.BAD_REQUEST: b'"Bad Request"',
    }
    for message, body in cases.items():
        assert (
            http.error_response(ProtocolError(400, message), 'legacy', json.dumps)['response']
            == body
        )


@pytest.mark.parametrize(
    'error, status_line, code',
    [
        (http.invalid_session('abc'), '400 BAD REQUEST', 1),
        (ProtocolError(400, http.BAD_TRANSPORT, http.CODE_UNKNOWN_TRANSPORT), '400 BAD REQUEST', 0),
        (
            ProtocolError(400, http.BAD_REQUEST, http.CODE_BAD_HANDSHAKE_METHOD),
            '400 BAD REQUEST',
            2,
        ),
        (ProtocolError(400, http.BAD_JSONP), '400 BAD REQUEST', 3),
        (ProtocolError(403, http.FORBIDDEN, http.CODE_FORBIDDEN), '403 FORBIDDEN', 4),
        (ProtocolError(400, http.BAD_VERSION, http.CODE_UNSUPPORTED_VERSION), '400 BAD REQUEST', 5),
        (ProtocolError(413, 'Payload too large'), '413 PAYLOAD TOO LARGE', 3),
    ],
)
def test_json_error_body_has_code_and_message(error, status_line, code):
    """F-06, P-70: error_format='json' -> {"code", "message"}, application/json, JS codes."""
    result = http.error_response(error, 'json', json.dumps)
    assert result['status'] == status_line
    assert result['headers'] == [('Content-Type', 'application/json')]
    assert json.loads(result['response']) == {'code': code, 'message': error.message}


def test_js_error_codes():
    """F-06: 0 transport unknown, 1 sid unknown, 2 bad method, 3 bad request, 4 forbidden, 5 version."""
    codes = (
        http.CODE_UNKNOWN_TRANSPORT,
        http.CODE_UNKNOWN_SID,
        http.CODE_BAD_HANDSHAKE_METHOD,
        http.CODE_BAD_REQUEST,
        http.CODE_FORBIDDEN,
        http.CODE_UNSUPPORTED_VERSION,
    )
    assert codes == (0, 1, 2, 3, 4, 5)
    assert ProtocolError(400, 'x').code == http.CODE_BAD_REQUEST


def test_error_response_serialises_with_the_given_dumps():
    """P-55, F-13: the server's json module writes the body (json= option)."""
    seen = []

    def dumps(value):
        seen.append(value)
        return '"custom"'

    assert http.error_response(ProtocolError(400, 'x'), 'legacy', dumps)['response'] == b'"custom"'
    http.error_response(ProtocolError(400, 'y', 1), 'json', dumps)
    assert seen == ['x', {'code': 1, 'message': 'y'}]


@pytest.mark.parametrize('value', [None, False, '', 0, {}, []])
def test_unauthorized_with_falsy_value_says_unauthorized(value):
    """S-31, P-56: False or a falsy value -> 401 application/json "Unauthorized"."""
    assert http.unauthorized_response(value, json.dumps) == {
        'status': '401 UNAUTHORIZED',
        'headers': [('Content-Type', 'application/json')],
        'response': b'"Unauthorized"',
    }


@pytest.mark.parametrize(
    'value', ['go away', {'reason': 'banned', 'retry': 30}, ['a', 1], 42, 'caf\u00e9']
)
def test_unauthorized_with_a_value_sends_it_as_json(value):
    """S-31, P-56: the connect handler's value is the JSON body of the 401."""
    result = http.unauthorized_response(value, json.dumps)
    assert result['status'] == '401 UNAUTHORIZED'
    assert result['headers'] == [('Content-Type', 'application/json')]
    assert json.loads(result['response']) == value
