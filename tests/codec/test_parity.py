"""Twin equality and codec properties (K-10, K-11, K-12).

Parity tests (``codec_py`` vs ``codec_c``) need the compiled module: they are
marked ``c_extension`` through the ``codec_c`` fixture, deselected by
``--no-c-extensions`` and FAIL when the extension is not built.  For every
input both twins must return equal values of equal types, or raise the same
exception class with the same message.

Property tests taking ``codec`` run on each backend: round trips, and that
no exception but the codec's own (or TypeError for wrong input types) escapes.
"""

from __future__ import annotations

import base64
import json as stdlib_json
import math
import sys
import zlib
from array import array
from typing import Any, Callable
from urllib.parse import quote_plus

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from strategies import ANY_CHAR, any_text, json_values

from engineio_fast import json as safe_json
from engineio_fast.exceptions import ContentTooLongError, DecodeError, EncodeError

# -- comparison helpers ----------------------------------------------------------------


def outcome(fn: Callable, *args: Any) -> tuple:
    """What a call did: ``('return', value)`` or ``('raise', class, message)``."""
    try:
        return ('return', fn(*args))
    except Exception as exc:  # compared below, never swallowed
        return ('raise', type(exc), str(exc))


def same(a: Any, b: Any) -> bool:
    """Deep equality requiring equal types (NaN equals NaN; dict key order counts).

    Iterative, because decoded JSON may nest close to the recursion limit.
    """
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if type(x) is float:
            if math.isnan(x) or math.isnan(y):
                if not (math.isnan(x) and math.isnan(y)):
                    return False
            elif x != y or math.copysign(1.0, x) != math.copysign(1.0, y):
                return False
        elif type(x) in (list, tuple):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif type(x) is dict:
            if list(x) != list(y):
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif x != y:
            return False
    return True


def short(value: Any) -> str:
    """A bounded repr for failure messages (values may be huge or deeply nested)."""
    try:
        text = repr(value)
    except RecursionError:
        return '<%s nested too deeply to repr>' % type(value).__name__
    return text if len(text) <= 300 else text[:300] + '...(%d chars)' % len(text)


def assert_parity(codec_py, codec_c, name: str, *args: Any) -> tuple:
    """K-11: both twins do the same thing with ``args``; return the py outcome."""
    py = outcome(getattr(codec_py, name), *args)
    c = outcome(getattr(codec_c, name), *args)
    assert same(py, c), '%s%s:\n  py -> %s\n   c -> %s' % (name, short(args), short(py), short(c))
    return py


# -- strategies --------------------------------------------------------------------------

# Any code point, lone surrogates included (hypothesis excludes them by default).
ANY_TEXT = any_text(40)

# Fragments that steer the decoders into their interesting branches.
FRAGMENTS = st.sampled_from(
    [
        '\x1e', 'b', 'd=', '%', '%1E', '%1e', '%ff', '%C3%A9', '+', '&', '=', '==',
        '{', '}', '[', ']', '"', '\\', ':', ',', '-', '.', 'e', 'E', '0', '1', '4', '9',
        'true', 'false', 'null', 'NaN', 'Infinity', '-Infinity', ' ', '\t', '\n', '\r',
        '\ufeff', '\u00b2', '\u00bd', '\u0663', '\uff14', '\ud800', '\udfff', '\u2028',
        'é', '€', '😀', 'A', 'AQ==', 'AQID', 'probe', '"a"', '{"a":1}', '[1,2]',
    ]
)  # fmt: skip
FRAGMENT_TEXT = st.lists(FRAGMENTS | ANY_TEXT, max_size=8).map(''.join)
TYPE_PREFIX = st.sampled_from(list('0123456789b') + ['', 'x', '\u0663'])

JSON_VALUES = json_values(2**200, max_leaves=12, text=ANY_TEXT)
JSON_CONTAINERS = st.lists(JSON_VALUES, max_size=4) | st.dictionaries(
    ANY_TEXT, JSON_VALUES, max_size=4
)


def _huge(n: int) -> st.SearchStrategy[str]:
    digits = '9' * n
    return st.sampled_from(
        [
            '4' + digits,
            '4-' + digits,
            '4[' + digits + ']',
            '4[-' + digits + ']',
            '4{"a":' + digits + '}',
            '4' + digits + '.5',
            '4-' + digits + '.5',
            '4-0.' + digits,
            '4-1e' + digits,
            '4[1e' + digits + ']',
            '4[' + digits + 'e1]',
        ]
    )


HUGE_NUMBERS = st.integers(min_value=95, max_value=400).flatmap(_huge)


def _deep(depth: int, closed: bool, opener: str) -> str:
    if opener == '[':
        return '4' + '[' * depth + (']' * depth if closed else '')
    return '4' + '{"a":' * depth + ('1' + '}' * depth if closed else '')


DEEP_JSON = st.builds(
    _deep, st.integers(min_value=1, max_value=3000), st.booleans(), st.sampled_from(['[', '{'])
)

# Brackets inside JSON strings (with escaped quotes) are not nesting.
BRACKETS_IN_STRINGS = st.builds(
    lambda outer, inner, text: (
        '4' + '[' * outer + stdlib_json.dumps('[{' * inner + text) + ']' * outer
    ),
    st.integers(min_value=0, max_value=300),
    st.integers(min_value=0, max_value=1500),
    st.sampled_from(['', '\\', '"', '\\"', ']', '}"]']) | ANY_TEXT,
)

PACKET_TEXT = st.one_of(
    ANY_TEXT,
    st.tuples(TYPE_PREFIX, FRAGMENT_TEXT).map(''.join),
    st.tuples(st.sampled_from('0123456789'), JSON_VALUES.map(stdlib_json.dumps)).map(''.join),
    st.binary(max_size=40).map(lambda b: 'b' + base64.b64encode(b).decode()),
    HUGE_NUMBERS,
    DEEP_JSON,
    BRACKETS_IN_STRINGS,
)

# A packet that is valid on the wire (used to build payloads before mutation).
VALID_PACKET = st.one_of(
    st.tuples(
        st.sampled_from('0123456'), st.text(ANY_CHAR.filter(lambda c: c != '\x1e'), max_size=12)
    ).map(''.join),
    st.tuples(st.sampled_from('0123456'), JSON_VALUES.map(stdlib_json.dumps)).map(''.join),
    st.binary(max_size=20).map(lambda b: 'b' + base64.b64encode(b).decode()),
)


def _as_bytes_like(data: bytes, kind: str) -> Any:
    if kind == 'bytes':
        return data
    if kind == 'bytearray':
        return bytearray(data)
    if kind == 'memoryview':
        return memoryview(data)
    # A non-contiguous view: every byte doubled, then every second one taken.
    return memoryview(bytes(b for byte in data for b in (byte, 0)))[::2]


BYTES_KIND = st.sampled_from(['bytes', 'bytearray', 'memoryview', 'strided-memoryview'])
BYTES_LIKES = st.builds(_as_bytes_like, st.binary(max_size=60), BYTES_KIND)


@st.composite
def mutated_payloads(draw: st.DrawFn) -> Any:
    """A valid payload, optionally mutated, as str, bytes-like or JSONP ``d=`` body."""
    text = '\x1e'.join(draw(st.lists(VALID_PACKET, min_size=1, max_size=6)))
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        op = draw(st.sampled_from(['insert', 'delete', 'replace', 'truncate', 'double-sep']))
        pos = draw(st.integers(min_value=0, max_value=len(text)))
        if op == 'insert':
            text = text[:pos] + draw(FRAGMENTS | ANY_CHAR) + text[pos:]
        elif op == 'delete':
            text = text[:pos] + text[pos + 1 :]
        elif op == 'replace':
            text = text[:pos] + draw(FRAGMENTS | ANY_CHAR) + text[pos + 1 :]
        elif op == 'truncate':
            text = text[:pos]
        else:
            text = text.replace('\x1e', '\x1e\x1e', 1)
    if draw(st.booleans()):
        text = 'd=' + quote_plus(text.encode('utf-8', 'surrogatepass'))
    form = draw(st.sampled_from(['str', 'bytes', 'bytearray', 'memoryview', 'strided-memoryview']))
    if form == 'str':
        return text
    raw = bytearray(text.encode('utf-8', 'surrogatepass'))
    if raw and draw(st.booleans()):  # corrupt one byte
        raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    return _as_bytes_like(bytes(raw), form)


PAYLOAD_BODIES = st.one_of(
    mutated_payloads(),
    ANY_TEXT,
    FRAGMENT_TEXT,
    BYTES_LIKES,
    st.integers(0, 40).map(lambda n: '\x1e'.join(['4x'] * n)),
)
LIMITS = st.none() | st.integers(min_value=0, max_value=300)

LOADERS = st.sampled_from([safe_json.loads, stdlib_json.loads])

# Accept-Encoding headers: mostly well-formed tokens, sometimes noise.
CODING = st.sampled_from(
    ['gzip', 'deflate', 'GZIP', 'Deflate', '*', 'identity', 'br', 'x-gzip', '', ' gzip ']
)
QVALUE = st.sampled_from(
    [
        '0',
        '1',
        '0.5',
        '0.',
        '1.',
        '1.0',
        '1.000',
        '1.0001',
        '0.001',
        '0.0001',
        '.5',
        '2',
        '-1',
        '',
        'x',
        ' 0.3 ',
        '\u0661',
    ]
)
PARAM = st.one_of(
    QVALUE.map(lambda q: 'q=' + q),
    QVALUE.map(lambda q: 'Q = ' + q),
    st.sampled_from(['level=9', 'foo', '=', 'q']),
)
TOKEN = st.builds(
    lambda name, params: ';'.join([name] + params), CODING, st.lists(PARAM, max_size=3)
)
HEADERS = st.one_of(
    st.none(),
    st.lists(TOKEN, max_size=5).map(','.join),
    st.lists(TOKEN, max_size=5).map(', '.join),
    st.text(st.sampled_from('gzipdeflat*;q=0.15, \t'), max_size=30),
    ANY_TEXT,
)
METHODS = st.sampled_from([['gzip', 'deflate'], ['deflate', 'gzip'], ['gzip'], ['deflate'], []])


class _StrWithOwnStr(str):
    def __str__(self) -> str:
        return 'other'


ENCODE_DATA = st.one_of(
    st.none(),
    ANY_TEXT,
    FRAGMENT_TEXT,
    JSON_VALUES,
    JSON_CONTAINERS,
    BYTES_LIKES.filter(lambda b: not isinstance(b, memoryview) or b.contiguous),
    st.tuples(ANY_TEXT, st.integers()),
    st.builds(_StrWithOwnStr, ANY_TEXT),
)
PTYPES = st.integers(min_value=0, max_value=9) | st.integers() | st.booleans()


# -- fixed corpus (K-11: this section's examples) ---------------------------------------------

_DEEP = '4' + '[' * 100000
CORPUS = [
    ('decode_packet', ('4hello', safe_json.loads)),
    ('decode_packet', ('4{"a":1}', safe_json.loads)),
    ('decode_packet', ('4true', safe_json.loads)),
    ('decode_packet', ('4"hi"', safe_json.loads)),
    ('decode_packet', ('4null', safe_json.loads)),
    ('decode_packet', ('4', safe_json.loads)),
    ('decode_packet', ('40/chat,', safe_json.loads)),
    ('decode_packet', ('', safe_json.loads)),
    ('decode_packet', ('x', safe_json.loads)),
    ('decode_packet', ('7', safe_json.loads)),
    ('decode_packet', ('bAQIDBA==', safe_json.loads)),
    ('decode_packet', ('bAQIDBA=', safe_json.loads)),
    ('decode_packet', (b'\x01\x02', safe_json.loads)),
    ('decode_packet', (_DEEP, safe_json.loads)),
    ('decode_packet', (_DEEP, stdlib_json.loads)),
    ('decode_packet', ('4' + '9' * 200, safe_json.loads)),
    ('decode_packet', ('4[' + '9' * 200 + ']', safe_json.loads)),
    ('decode_packet', ('4[' + '9' * 200 + ']', stdlib_json.loads)),
    ('decode_packet', ('4[' + '9' * 5000 + ']', stdlib_json.loads)),
    ('decode_packet', ('4NaN', safe_json.loads)),
    ('decode_packet', ('4-Infinity', safe_json.loads)),
    ('decode_packet', (4, safe_json.loads)),
    ('decode_packet', (None, safe_json.loads)),
    ('encode_packet', (4, True, False, stdlib_json.dumps)),
    ('encode_packet', (4, 1.5, False, stdlib_json.dumps)),
    ('encode_packet', (4, None, False, stdlib_json.dumps)),
    ('encode_packet', (4, {'a': [1, 2]}, False, stdlib_json.dumps)),
    ('encode_packet', (2, b'\x01', False, stdlib_json.dumps)),
    ('encode_packet', (4, b'\x01\x02\x03\x04', True, stdlib_json.dumps)),
    ('encode_packet', (4, {'a': {1, 2}}, False, stdlib_json.dumps)),
    ('encode_packet', (4, {'a': float('nan')}, False, stdlib_json.dumps)),
    ('encode_packet', (4, {(1, 2): 1}, False, stdlib_json.dumps)),
    ('encode_packet', (10**30, 'x', False, stdlib_json.dumps)),
    ('encode_packet', (-1, None, False, stdlib_json.dumps)),
    ('encode_packet', (True, 'x', False, stdlib_json.dumps)),
    ('encode_packet', ('4', b'x', False, stdlib_json.dumps)),
    ('encode_packet', (4.0, b'x', True, stdlib_json.dumps)),
    ('split_payload', ('', 1000, None)),
    ('split_payload', ('d=', 1000, None)),
    ('split_payload', (b'd=', 1000, None)),
    ('split_payload', ('4a\x1e', 1000, None)),
    ('split_payload', ('\x1e'.join(['4x'] * 1000), 1000, None)),
    ('split_payload', ('\x1e'.join(['4x'] * 1001), 1000, None)),
    ('split_payload', ('\x1e'.join(['4x'] * 17), 1000, None)),
    ('split_payload', (b'\xff', None, None)),
    ('split_payload', ('éé', None, 3)),
    ('split_payload', ('4\ud800', None, 3)),
    ('split_payload', (memoryview(b'4a\x1e4b'), None, None)),
    ('split_payload', (memoryview(b'4\x00a\x00\x1e\x004\x00b\x00')[::2], None, None)),
    ('split_payload', (memoryview(array('H', [0x6134, 0x341E, 0x0062])).cast('B')[:5], None, None)),
    ('split_payload', (memoryview(array('H', [0x3434])), None, None)),
    ('split_payload', (4, None, None)),
    ('split_payload', ('4a', None, 1.5)),
    ('split_payload', ('4a\x1e4b', 1.5, None)),
    ('encode_payload_bytes', (['4\ud800'], None)),
    ('encode_payload_bytes', (['4\ud800'], 3)),
    ('encode_payload_bytes', (['4a', 4], None)),
    ('encode_payload_bytes', ([b'4a'], None)),
    ('encode_payload_bytes', (['4a'], 'x')),
    ('encode_payload_bytes', (['4a'], 10**30)),
    # Callables build fresh arguments per twin (an iterator is consumed once).
    ('encode_payload_bytes', lambda: ((s for s in ['4a', '4\u00e9']), None)),
    ('encode_payload_bytes', lambda: (iter(['4a', '4b']), 2)),
    ('encode_payload', (['4a', 4],)),
    ('b64_decode', ('AAAA====',)),
    ('b64_decode', ('A===',)),
    ('b64_decode', ('=AAA',)),
    ('b64_decode', ('AA=A',)),
    ('b64_decode', ('AB==',)),
    ('b64_decode', ('é',)),
    ('b64_decode', (b'AAAA',)),
    ('b64_encode', ('abc',)),
    ('b64_encode', (None,)),
    ('b64_encode', (memoryview(b'abcd')[::2],)),
    ('b64_encode', (array('H', [1, 2]),)),
    ('utf8_len', ('\ud800',)),
    ('utf8_len', (b'x',)),
    ('negotiate_encoding', ('gzip;q=0, deflate', ['gzip', 'deflate'])),
    ('negotiate_encoding', ('*', ['gzip', 'deflate'])),
    ('negotiate_encoding', ('gzip;q=abc, deflate', ['gzip', 'deflate'])),
    ('negotiate_encoding', ('', ['gzip', 'deflate'])),
    ('negotiate_encoding', (None, ['gzip', 'deflate'])),
    ('negotiate_encoding', (b'gzip', ['gzip', 'deflate'])),
    ('negotiate_encoding', ('gzip', None)),
    ('jsonp_wrap', ('4"\\\n\u2028\ud800', 10**30)),
    ('jsonp_wrap', ('4', -1)),
    ('jsonp_wrap', ('4', 1.5)),
    ('jsonp_wrap', ('4', '1')),
    ('jsonp_wrap', (b'4', 1)),
    ('open_packet_json', ('sid', ['websocket'], 20000, 25000, 1000000)),
    ('open_packet_json', ('s"\ud800', [], 0, 0, 0)),
    ('open_packet_json', ('s', ['websocket'], 200.7, 300, 10)),
    ('open_packet_json', ('s', ['websocket'], 10**30, 300, 10)),
    ('open_packet_json', (None, [], 1, 2, 3)),
    ('compress', (b'abc', 'gzip', 10)),
    ('compress', (b'abc', 'br', 1)),
    ('compress', (b'abc', 'gzip', True)),
    ('compress', ('abc', 'gzip', 1)),
    ('compress', (b'abc' * 100, 'deflate', 9)),
    ('decompress', (b'', 'gzip', None)),
    ('decompress', (b'abc', 'br', None)),
    ('decompress', ('abc', 'gzip', None)),
    ('decompress', (b'x\x9c\x03\x00\x00\x00\x00\x01', 'deflate', 0)),
    ('decompress', (b'x\x9c\x03\x00\x00\x00\x00\x01', 'deflate', -1)),
]


@pytest.mark.parametrize(
    ('name', 'args'), CORPUS, ids=['%03d-%s' % (i, name) for i, (name, _) in enumerate(CORPUS)]
)
def test_twins_agree_on_fixed_corpus(codec_py, codec_c, name, args):
    """K-11: the fixed corpus of section 8 examples and edge inputs."""
    if callable(args):
        py = outcome(getattr(codec_py, name), *args())
        c = outcome(getattr(codec_c, name), *args())
        assert same(py, c), '%s: py %s, c %s' % (name, short(py), short(c))
    else:
        assert_parity(codec_py, codec_c, name, *args)


def _outside_boundary_band(mismatches: list[tuple[int, str]]) -> list[str]:
    """Mismatches that CPython's recursion accounting cannot explain.

    On CPython 3.10/3.11 Python frames and the C json module share one
    recursion counter, and the pure twin runs one or two Python frames more
    than the compiled one, so at the few depths where ``RecursionError``
    starts the twins may disagree.  From 3.12 on, C recursion is counted
    separately and there is no band.  Anywhere else a mismatch is a bug.
    """
    if not mismatches:
        return []
    if sys.version_info >= (3, 12):
        return [text for _, text in mismatches]
    first = mismatches[0][0]
    return [text for depth, text in mismatches if depth > first + BOUNDARY_BAND]


#: Width, in nesting levels, of the 3.10/3.11 disagreement band (see above).
BOUNDARY_BAND = 4


def test_twins_agree_on_deep_json_near_the_recursion_limit(codec_py, codec_c):
    """K-11, K-12: every nesting depth up to past the recursion limit decodes the same way.

    Past the limit both twins raise DecodeError (never RecursionError).
    """
    limit = sys.getrecursionlimit()
    for loads in (safe_json.loads, stdlib_json.loads):
        for opener, closer, inner in (('[', ']', ''), ('{"a":', '}', '1')):
            mismatches = []
            for depth in range(1, limit + 50):
                text = '4' + opener * depth + inner + closer * depth
                py = outcome(codec_py.decode_packet, text, loads)
                c = outcome(codec_c.decode_packet, text, loads)
                if not same(py, c):
                    mismatches.append(
                        (
                            depth,
                            'depth %d %s (%s): py %s, c %s'
                            % (
                                depth,
                                opener,
                                loads.__module__,
                                short(py[1:])[:80],
                                short(c[1:])[:80],
                            ),
                        )
                    )
            assert _outside_boundary_band(mismatches) == []
            deepest = '4' + opener * (limit + 49) + inner + closer * (limit + 49)
            for codec in (codec_py, codec_c):
                with pytest.raises(DecodeError, match='^Packet data is nested too deeply$'):
                    codec.decode_packet(deepest, loads)


def test_twins_agree_on_encoding_deep_data_near_the_recursion_limit(codec_py, codec_c):
    """K-11: encoding nested dict/list data gives the same result at every depth.

    Same boundary band as for decoding on CPython 3.10/3.11.
    """
    limit = sys.getrecursionlimit()
    for dumps in (stdlib_json.dumps, safe_json.dumps):
        for wrap in (lambda inner: [inner], lambda inner: {'a': inner}):
            data: object = []
            mismatches = []
            for depth in range(1, limit + 50):
                data = wrap(data)
                py = outcome(codec_py.encode_packet, 4, data, False, dumps)
                c = outcome(codec_c.encode_packet, 4, data, False, dumps)
                if not same(py, c):
                    mismatches.append(
                        (
                            depth,
                            'depth %d %s: py %s, c %s'
                            % (depth, type(data).__name__, short(py)[:90], short(c)[:90]),
                        )
                    )
            assert _outside_boundary_band(mismatches) == []


# -- hypothesis parity: every codec function ------------------------------------------------------


@given(st.one_of(PACKET_TEXT, BYTES_LIKES), LOADERS)
@example('4' + '1' * 200, safe_json.loads)
@example('4[' + '1' * 200 + ']', safe_json.loads)
@example('4[' + '1' * 200 + ']', stdlib_json.loads)
@example('4\ud800', safe_json.loads)
@example('b\ud800AAA', safe_json.loads)
def test_twins_agree_on_decode_packet(codec_py, codec_c, encoded, loads):
    """K-11: decode_packet over text (surrogates, prefixes, JSON, huge numbers, depth) and bytes."""
    assert_parity(codec_py, codec_c, 'decode_packet', encoded, loads)


@given(PACKET_TEXT, st.sampled_from(['return', 'value-error', 'key-error', 'recursion']))
def test_twins_agree_on_decode_packet_with_custom_loads(codec_py, codec_c, encoded, behaviour):
    """K-04, K-11: a custom ``loads`` is called with the same text, and its result/errors treated alike."""

    def run(codec):
        calls = []

        def loads(text):
            calls.append(text)
            if behaviour == 'value-error':
                raise ValueError('bad')
            if behaviour == 'key-error':
                raise KeyError('hook')
            if behaviour == 'recursion':
                raise RecursionError('deep')
            return ('parsed', text)

        return outcome(codec.decode_packet, encoded, loads), calls

    py, c = run(codec_py), run(codec_c)
    assert same(py, c), 'decode_packet(%s): py %s, c %s' % (short(encoded), short(py), short(c))


@given(PTYPES, ENCODE_DATA, st.booleans(), st.sampled_from([stdlib_json.dumps, 'custom']))
@example(4, {'a': 1}, False, stdlib_json.dumps)
@example(2, b'x', True, stdlib_json.dumps)
def test_twins_agree_on_encode_packet(codec_py, codec_c, ptype, data, b64, dumps):
    """K-11: encode_packet for any ptype, JSON-able data, binary forms and dumps hooks."""

    def run(codec):
        calls = []

        def custom(value, **kwargs):
            calls.append(kwargs)
            return stdlib_json.dumps(value, **kwargs)

        return outcome(
            codec.encode_packet, ptype, data, b64, custom if dumps == 'custom' else dumps
        ), calls

    py, c = run(codec_py), run(codec_c)
    assert same(py, c), 'encode_packet%s: py %s, c %s' % (
        short((ptype, data, b64)),
        short(py),
        short(c),
    )


@given(PAYLOAD_BODIES, LIMITS, LIMITS)
@example('\x1e'.join(['4x'] * 1001), 1000, None)
@example('d=', None, None)
@example(memoryview(b'4\x00a\x00')[::2], None, None)
def test_twins_agree_on_split_payload(codec_py, codec_c, body, max_packets, max_bytes):
    """K-11: split_payload over mutated payloads, arbitrary text and bytes, with limits."""
    assert_parity(codec_py, codec_c, 'split_payload', body, max_packets, max_bytes)


@given(st.lists(PACKET_TEXT | ANY_TEXT, max_size=6))
def test_twins_agree_on_encode_payload(codec_py, codec_c, packets):
    """K-11: encode_payload."""
    assert_parity(codec_py, codec_c, 'encode_payload', packets)


@given(
    st.lists(
        st.one_of(ANY_TEXT, FRAGMENT_TEXT, st.text(st.characters(max_codepoint=127))), max_size=6
    ),
    st.none() | st.integers(),
    st.sampled_from(['list', 'tuple', 'iterator']),
)
def test_twins_agree_on_encode_payload_bytes(codec_py, codec_c, packets, jsonp_index, container):
    """K-11: encode_payload_bytes (ASCII fast path, UTF-8, surrogates, JSONP index)."""

    def make():
        if container == 'tuple':
            return tuple(packets)
        if container == 'iterator':
            return iter(packets)
        return list(packets)

    py = outcome(codec_py.encode_payload_bytes, make(), jsonp_index)
    c = outcome(codec_c.encode_payload_bytes, make(), jsonp_index)
    assert same(py, c), 'encode_payload_bytes%s: py %s, c %s' % (
        short((packets, jsonp_index)),
        short(py),
        short(c),
    )


@given(BYTES_LIKES)
def test_twins_agree_on_b64_encode(codec_py, codec_c, data):
    """K-11: b64_encode of bytes-likes."""
    assert_parity(codec_py, codec_c, 'b64_encode', data)


B64_ALPHABET_TEXT = st.text(
    st.sampled_from(
        'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
        + '=' * 20
        + '-_ \n\x00é\ud800'
    ),
    max_size=24,
)


@given(
    B64_ALPHABET_TEXT
    | ANY_TEXT
    | st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode())
)
@example('AAAA====')
@example('A===')
@example('AB==')
def test_twins_agree_on_b64_decode(codec_py, codec_c, text):
    """K-11: strict base64 decoding, valid and invalid."""
    assert_parity(codec_py, codec_c, 'b64_decode', text)


@given(ANY_TEXT | st.text(max_size=300))
def test_twins_agree_on_utf8_len(codec_py, codec_c, text):
    """K-11: utf8_len for 1-, 2- and 4-byte string kinds, surrogates included."""
    assert_parity(codec_py, codec_c, 'utf8_len', text)


@given(HEADERS, METHODS)
@example('gzip;q=0, deflate', ['gzip', 'deflate'])
def test_twins_agree_on_negotiate_encoding(codec_py, codec_c, header, methods):
    """K-11: negotiate_encoding for arbitrary Accept-Encoding text."""
    assert_parity(codec_py, codec_c, 'negotiate_encoding', header, methods)


@given(ANY_TEXT, st.integers() | st.booleans())
def test_twins_agree_on_jsonp_wrap(codec_py, codec_c, text, index):
    """K-11: jsonp_wrap for any text and any integer index."""
    assert_parity(codec_py, codec_c, 'jsonp_wrap', text, index)


@given(ANY_TEXT, st.lists(ANY_TEXT, max_size=3), *[st.integers(min_value=0, max_value=2**62)] * 3)
def test_twins_agree_on_open_packet_json(
    codec_py, codec_c, sid, upgrades, timeout_ms, interval_ms, max_payload
):
    """K-11: open_packet_json."""
    assert_parity(
        codec_py, codec_c, 'open_packet_json', sid, upgrades, timeout_ms, interval_ms, max_payload
    )


@given(
    st.binary(max_size=2000) | st.sampled_from([b'', b'a' * 5000]),
    st.sampled_from(['gzip', 'deflate', 'br', 'GZIP', '']),
    st.integers(min_value=-3, max_value=11),
)
def test_twins_agree_on_compress(codec_py, codec_c, body, method, level):
    """K-11: compress output (same bytes) and errors; the output decompresses on both."""
    result = assert_parity(codec_py, codec_c, 'compress', body, method, level)
    if result[0] == 'return':
        for codec in (codec_py, codec_c):
            assert codec.decompress(result[1], method, None) == body


@st.composite
def compressed_streams(draw: st.DrawFn) -> tuple:
    """Valid, truncated, extended or corrupted gzip/zlib streams, with their method."""
    method = draw(st.sampled_from(['gzip', 'deflate']))
    body = draw(st.binary(max_size=500) | st.sampled_from([b'\x00' * 100_000]))
    wbits = 31 if method == 'gzip' else 15
    compressor = zlib.compressobj(draw(st.integers(0, 9)), zlib.DEFLATED, wbits)
    stream = bytearray(compressor.compress(body) + compressor.flush())
    op = draw(st.sampled_from(['none', 'truncate', 'append', 'flip']))
    if op == 'truncate':
        del stream[draw(st.integers(0, len(stream) - 1)) :]
    elif op == 'append':
        stream += draw(st.binary(min_size=1, max_size=10))
    elif op == 'flip':
        stream[draw(st.integers(0, len(stream) - 1))] ^= draw(st.integers(1, 255))
    method = draw(
        st.sampled_from([method, method, 'gzip' if method == 'deflate' else 'deflate', 'br'])
    )
    return bytes(stream), method


@given(
    compressed_streams() | st.tuples(st.binary(max_size=100), st.sampled_from(['gzip', 'deflate'])),
    st.none() | st.integers(min_value=0, max_value=2000) | st.sampled_from([99_999, 100_000]),
)
def test_twins_agree_on_decompress(codec_py, codec_c, stream_and_method, max_bytes):
    """K-11: decompress of valid, truncated, trailing, corrupted and arbitrary data."""
    stream, method = stream_and_method
    assert_parity(codec_py, codec_c, 'decompress', stream, method, max_bytes)


@given(
    st.sampled_from(['decode_packet', 'split_payload', 'b64_decode', 'utf8_len']),
    st.one_of(
        st.none(),
        st.integers(),
        st.floats(),
        st.lists(st.text(max_size=3), max_size=2),
        st.binary(max_size=4),
    ),
)
def test_twins_agree_on_wrong_input_types(codec_py, codec_c, name, value):
    """K-02, K-11: the same TypeError (class and message) for inputs of the wrong type."""
    args = {
        'decode_packet': (value, safe_json.loads),
        'split_payload': (value, None, None),
        'b64_decode': (value,),
        'utf8_len': (value,),
    }[name]
    assert_parity(codec_py, codec_c, name, *args)


# -- properties on each backend ----------------------------------------------------------------------

CODEC_ERRORS = (DecodeError, ContentTooLongError)


@given(st.one_of(PACKET_TEXT, BYTES_LIKES), LOADERS)
def test_decode_packet_raises_only_decode_error(codec, encoded, loads):
    """K-10: for any str/bytes input, decode_packet returns a triple or raises DecodeError."""
    try:
        ptype, data, binary = codec.decode_packet(encoded, loads)
    except DecodeError:
        return
    assert 0 <= ptype <= 9
    assert binary is isinstance(data, bytes)


@given(PAYLOAD_BODIES, LIMITS, LIMITS)
@example(memoryview(b'4\x00a\x00\x1e\x004\x00b\x00')[::2], None, None)
def test_split_payload_raises_only_codec_errors(codec, body, max_packets, max_bytes):
    """K-10: for any str/bytes-like body, split_payload returns packet strings or a codec error."""
    try:
        packets = codec.split_payload(body, max_packets, max_bytes)
    except CODEC_ERRORS:
        return
    assert all(type(item) is str and item for item in packets)
    if max_packets is not None:
        assert len(packets) <= max_packets


@given(ANY_TEXT | B64_ALPHABET_TEXT)
def test_b64_decode_raises_only_decode_error(codec, text):
    """K-10: no binascii.Error or UnicodeError escapes."""
    try:
        assert type(codec.b64_decode(text)) is bytes
    except DecodeError:
        pass


@given(
    compressed_streams() | st.tuples(st.binary(max_size=100), st.sampled_from(['gzip', 'deflate'])),
    LIMITS,
)
def test_decompress_raises_only_codec_errors(codec, stream_and_method, max_bytes):
    """K-10, K-12: no zlib.error escapes; output never exceeds max_bytes."""
    stream, method = stream_and_method
    try:
        data = codec.decompress(stream, method, max_bytes)
    except CODEC_ERRORS:
        return
    assert max_bytes is None or len(data) <= max_bytes


@given(st.lists(ANY_TEXT, max_size=5))
def test_encode_payload_bytes_raises_only_encode_error(codec, packets):
    """K-14, B-21: a lone surrogate is an EncodeError; otherwise the body is the UTF-8 text."""
    text = '\x1e'.join(packets)
    try:
        body = codec.encode_payload_bytes(packets)
    except EncodeError:
        assert any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)
        return
    assert body == text.encode('utf-8')


@given(st.integers(min_value=0, max_value=9), ANY_TEXT)
def test_text_packet_round_trip(codec, ptype, data):
    """K-03/K-04: decode(encode(str)) gives the str back unless it is JSON (then its value)."""
    encoded = codec.encode_packet(ptype, data, False, safe_json.dumps)
    assert encoded == str(ptype) + data
    decoded = codec.decode_packet(encoded, safe_json.loads)
    if data and not data[0].isnumeric():
        try:
            expected = safe_json.loads(data)
        except ValueError:
            expected = data
    else:
        expected = data
    assert same(decoded, (ptype, expected, False))


@given(st.integers(min_value=0, max_value=9), ANY_TEXT)
def test_non_json_text_packet_round_trip_is_identity(codec, ptype, data):
    """K-03/K-04: str data that is not JSON decodes to itself."""
    try:
        stdlib_json.loads(data)
        assume(data[:1].isnumeric())
    except ValueError:
        pass
    encoded = codec.encode_packet(ptype, data, False, safe_json.dumps)
    assert codec.decode_packet(encoded, safe_json.loads) == (ptype, data, False)


@given(st.integers(min_value=0, max_value=9), JSON_CONTAINERS)
def test_json_packet_round_trip(codec, ptype, data):
    """K-03/K-04: dict and list data survive encode then decode."""
    encoded = codec.encode_packet(ptype, data, False, safe_json.dumps)
    assert same(codec.decode_packet(encoded, safe_json.loads), (ptype, data, False))


@given(BYTES_LIKES.filter(lambda b: not isinstance(b, memoryview) or b.contiguous), st.booleans())
def test_binary_packet_round_trip(codec, data, b64):
    """K-03/K-04, P-11, P-12: raw and base64 binary forms decode to the same bytes."""
    encoded = codec.encode_packet(4, data, b64, safe_json.dumps)
    assert type(encoded) is (str if b64 else bytes)
    assert codec.decode_packet(encoded, safe_json.loads) == (4, bytes(data), True)


PAYLOAD_PACKETS = st.lists(
    st.text(ANY_CHAR.filter(lambda c: c != '\x1e'), min_size=1, max_size=20), min_size=1, max_size=8
)


@given(PAYLOAD_PACKETS)
def test_payload_round_trip(codec, packets):
    """K-06: split_payload(encode_payload(xs)) == xs for non-empty packets without \\x1e."""
    assert codec.split_payload(codec.encode_payload(packets), None, None) == packets
    assume(not any(0xD800 <= ord(ch) <= 0xDFFF for p in packets for ch in p))
    body = codec.encode_payload_bytes(packets)
    assert codec.split_payload(body, len(packets), len(body)) == packets


@given(st.binary(max_size=3000), st.sampled_from(['gzip', 'deflate']), st.integers(-1, 9))
def test_compress_round_trip(codec, body, method, level):
    """H-30, H-31: decompress(compress(b)) == b at every level."""
    assert codec.decompress(codec.compress(body, method, level), method, len(body)) == body
