"""Packet encoding and decoding (K-02, K-03, K-04, K-10, P-10, P-11), codec and compat ``Packet``."""

from __future__ import annotations

import json as stdlib_json
from array import array

import pytest

from engineio_fast import json as safe_json
from engineio_fast.exceptions import DecodeError, EncodeError, EngineIOError

# -- decode: the K-04 examples and the seven packet types ---------------------------


@pytest.mark.parametrize(
    ('encoded', 'expected'),
    [
        # K-04 examples, verbatim.
        ('4hello', (4, 'hello', False)),
        ('4{"a":1}', (4, {'a': 1}, False)),
        ('4true', (4, True, False)),
        ('4"hi"', (4, 'hi', False)),
        ('4null', (4, None, False)),
        ('4', (4, '', False)),
        ('40/chat,', (4, '0/chat,', False)),
        # More JSON values.
        ('4false', (4, False, False)),
        ('4[1,"x",null]', (4, [1, 'x', None], False)),
        ('4-12', (4, -12, False)),
        ('4-1.5', (4, -1.5, False)),
        ('4 {"a": [1]}', (4, {'a': [1]}, False)),
        ('4{"a":"\\u00e9"}', (4, {'a': 'é'}, False)),
        # Invalid JSON stays raw text.
        ('4{"a":', (4, '{"a":', False)),
        ('4nope', (4, 'nope', False)),
        ('4tru', (4, 'tru', False)),
        ('4 ', (4, ' ', False)),
        ('4é', (4, 'é', False)),
        ('4\ud800', (4, '\ud800', False)),
        # Numbers stay text (upstream issue 75), any Unicode numeric included.
        ('4123', (4, '123', False)),
        ('41.5', (4, '1.5', False)),
        ('41e400', (4, '1e400', False)),
        ('4\u00b2', (4, '\u00b2', False)),
        ('4\u00bd', (4, '\u00bd', False)),
        ('4\u0663x', (4, '\u0663x', False)),
        # A payload separator inside one packet is just data.
        ('4a\x1eb', (4, 'a\x1eb', False)),
    ],
)
def test_decode_text_packet_data_rules(codec, encoded, expected):
    """K-04: data is '', raw numeric text, JSON, or the raw remainder."""
    assert codec.decode_packet(encoded, safe_json.loads) == expected


@pytest.mark.parametrize(
    ('encoded', 'expected'),
    [
        ('0{"sid":"abc","upgrades":[]}', (0, {'sid': 'abc', 'upgrades': []}, False)),
        ('1', (1, '', False)),
        ('2', (2, '', False)),
        ('2probe', (2, 'probe', False)),
        ('3', (3, '', False)),
        ('3probe', (3, 'probe', False)),
        ('4hello', (4, 'hello', False)),
        ('5', (5, '', False)),
        ('6', (6, '', False)),
    ],
)
def test_decode_each_of_the_seven_packet_types(codec, encoded, expected):
    """P-10: types 0 open .. 6 noop."""
    assert codec.decode_packet(encoded, safe_json.loads) == expected


@pytest.mark.parametrize('digit', ['7', '8', '9'])
def test_decode_returns_type_digits_7_to_9(codec, digit):
    """K-04: digits 7-9 are returned; the transport rejects them (P-26)."""
    assert codec.decode_packet(digit + 'x', safe_json.loads) == (int(digit), 'x', False)
    assert codec.decode_packet(digit, safe_json.loads) == (int(digit), '', False)


def test_decode_result_types_are_exact(codec):
    """K-02: the triple is a tuple of (int, data, bool)."""
    result = codec.decode_packet('4hello', safe_json.loads)
    assert type(result) is tuple
    assert type(result[0]) is int
    assert type(result[1]) is str
    assert result[2] is False


# -- decode: binary and base64 --------------------------------------------------


@pytest.mark.parametrize(
    'encoded',
    [
        b'\x01\x02\x03\x04',
        bytearray(b'\x01\x02\x03\x04'),
        memoryview(b'\x01\x02\x03\x04'),
        memoryview(b'\x00\x01\x00\x02\x00\x03\x00\x04')[1::2],
    ],
    ids=['bytes', 'bytearray', 'memoryview', 'strided-memoryview'],
)
def test_decode_binary_packet_is_a_bytes_message(codec, encoded):
    """K-04, P-11: binary input is a message with the raw bytes, always as ``bytes``."""
    ptype, data, binary = codec.decode_packet(encoded, safe_json.loads)
    assert (ptype, data, binary) == (4, b'\x01\x02\x03\x04', True)
    assert type(data) is bytes


def test_decode_binary_of_multibyte_items_gives_raw_bytes(codec):
    """K-04: a memoryview of wide items decodes to its underlying bytes."""
    view = memoryview(array('H', [1, 2]))
    assert codec.decode_packet(view, safe_json.loads) == (4, view.tobytes(), True)


def test_decode_empty_binary_packet_is_an_empty_message(codec):
    """K-04: binary input is never 'empty packet' (upstream behaves the same)."""
    assert codec.decode_packet(b'', safe_json.loads) == (4, b'', True)


@pytest.mark.parametrize(
    ('encoded', 'data'),
    [
        ('bAQIDBA==', b'\x01\x02\x03\x04'),
        ('b', b''),
        ('bAA==', b'\x00'),
        ('bAAAA', b'\x00\x00\x00'),
        ('b/+8=', b'\xff\xef'),
    ],
)
def test_decode_base64_packet(codec, encoded, data):
    """K-04, P-12: ``b`` + padded standard base64 is a binary message."""
    assert codec.decode_packet(encoded, safe_json.loads) == (4, data, True)


@pytest.mark.parametrize('encoded', ['bAQ', 'bAQ=', 'bAQIDBA', 'b-_==', 'bAQID BA==', 'bAAAA===='])
def test_decode_rejects_malformed_base64_packet(codec, encoded):
    """K-04, K-10: the base64 form is strict."""
    with pytest.raises(DecodeError, match='^Invalid base64 data$'):
        codec.decode_packet(encoded, safe_json.loads)


# -- decode: errors -----------------------------------------------------------


def test_decode_rejects_empty_text_packet(codec):
    """K-04: empty text -> DecodeError('Invalid empty packet received')."""
    with pytest.raises(DecodeError, match='^Invalid empty packet received$'):
        codec.decode_packet('', safe_json.loads)


@pytest.mark.parametrize(
    'encoded', ['x', 'hello', ' 4', '-1', '\u0663', '\uff14hello', '\ud800', '\x1e']
)
def test_decode_rejects_non_digit_packet_type(codec, encoded):
    """K-04: the first character must be an ASCII digit (or ``b``)."""
    with pytest.raises(DecodeError, match='^Invalid packet type$'):
        codec.decode_packet(encoded, safe_json.loads)


def test_decode_error_is_a_value_error_and_engineio_error(codec):
    """K-10, S-41: DecodeError subclasses EngineIOError and ValueError."""
    with pytest.raises(DecodeError) as info:
        codec.decode_packet('', safe_json.loads)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, EngineIOError)


@pytest.mark.parametrize('loads', [safe_json.loads, stdlib_json.loads], ids=['safe', 'stdlib'])
def test_decode_rejects_deeply_nested_json(codec, loads):
    """K-12: 100000 '[' is a parse error, never a RecursionError."""
    with pytest.raises(DecodeError, match='^Packet data is nested too deeply$'):
        codec.decode_packet('4' + '[' * 100000, loads)


@pytest.mark.parametrize('loads', [safe_json.loads, stdlib_json.loads], ids=['safe', 'stdlib'])
def test_decode_accepts_moderately_nested_json(codec, loads):
    """K-04: ordinary nesting (depth 100) is data, not an error."""
    assert codec.decode_packet('4' + '[' * 100 + ']' * 100, loads)[1] == stdlib_json.loads(
        '[' * 100 + ']' * 100
    )
    ptype, data, _ = codec.decode_packet('4' + '{"a":' * 100 + '1' + '}' * 100, loads)
    for _ in range(100):
        data = data['a']
    assert data == 1


@pytest.mark.parametrize('opener', ['[', '{"a":'])
def test_decode_accepts_json_nested_far_below_the_recursion_limit(codec, opener):
    """K-04: valid JSON nested 500 deep is data, as with python-engineio (no extra cap)."""
    closer = ']' if opener == '[' else '}'
    inner = '' if opener == '[' else '1'
    text = opener * 500 + inner + closer * 500
    assert codec.decode_packet('4' + text, safe_json.loads) == (4, stdlib_json.loads(text), False)


@pytest.mark.parametrize(
    'text',
    [' x' + '[' * 300, 'null ' + '[' * 300, 'true,' + '{' * 300],
    ids=['space-word', 'extra-data', 'comma'],
)
def test_decode_non_json_text_with_many_brackets_stays_raw(codec, text):
    """K-04: text that ``loads`` rejects at once (ValueError) is raw data, brackets or not.

    Not deep JSON (K-12): the stdlib parser fails before the first bracket, so
    upstream and the K-04 rule deliver the text itself.
    """
    with pytest.raises(ValueError):
        stdlib_json.loads(text)
    assert codec.decode_packet('4' + text, safe_json.loads) == (4, text, False)


@pytest.mark.parametrize(
    'value',
    ['[' * 5000, '[{' * 3000 + '"', '\\' + '[' * 5000, '"' + '[' * 5000, ']' * 5000 + '[' * 5000],
    ids=['brackets', 'brackets-and-quote', 'backslash', 'escaped-quote', 'unbalanced'],
)
def test_decode_ignores_brackets_inside_json_strings(codec, value):
    """K-04, K-12: brackets inside JSON strings are text, however many there are."""
    encoded = '4' + stdlib_json.dumps([[value], {'k': value}])
    assert codec.decode_packet(encoded, safe_json.loads) == (4, [[value], {'k': value}], False)


def test_decode_recursion_error_from_loads_hook_is_a_decode_error(codec):
    """K-12: a RecursionError from any ``loads`` is a parse error."""

    def loads(text):
        raise RecursionError('deep')

    with pytest.raises(DecodeError, match='^Packet data is nested too deeply$'):
        codec.decode_packet('4[[[', loads)


@pytest.mark.parametrize('value', [4, None, 4.0, ['4hello'], object()])
def test_decode_rejects_non_str_non_bytes_input_with_type_error(codec, value):
    """K-02: only str and bytes-likes are packets."""
    with pytest.raises(TypeError, match='^Packet must be str or bytes-like, not '):
        codec.decode_packet(value, safe_json.loads)


# -- decode: huge numbers and the loads hook ------------------------------------------


def test_decode_keeps_huge_numbers_as_text(codec):
    """K-05: integers over 100 digits never reach int(); the raw text is kept."""
    digits = '1' * 200
    assert codec.decode_packet('4' + digits, safe_json.loads) == (4, digits, False)
    assert codec.decode_packet('4-' + digits, safe_json.loads) == (4, '-' + digits, False)
    assert codec.decode_packet('4[' + digits + ']', safe_json.loads) == (
        4,
        '[' + digits + ']',
        False,
    )
    assert (
        codec.decode_packet('4{"a":' + digits + '}', safe_json.loads)[1] == '{"a":' + digits + '}'
    )


def test_decode_accepts_100_digit_integers_in_json(codec):
    """K-05: the guard starts above 100 digits."""
    digits = '9' * 100
    assert codec.decode_packet('4[' + digits + ']', safe_json.loads) == (4, [int(digits)], False)


def test_decode_with_stdlib_loads_parses_large_integers(codec):
    """K-04: ``loads`` is the caller's; the stdlib has no 100-digit guard."""
    digits = '7' * 200
    assert codec.decode_packet('4[' + digits + ']', stdlib_json.loads) == (4, [int(digits)], False)


def test_decode_passes_remainder_to_custom_loads(codec):
    """K-04: a custom ``loads`` gets the remainder for any non-numeric lead."""
    calls = []

    def loads(text):
        calls.append(text)
        return ('parsed', text)

    assert codec.decode_packet('4hello', loads) == (4, ('parsed', 'hello'), False)
    assert codec.decode_packet('2{"x":1}', loads) == (2, ('parsed', '{"x":1}'), False)
    # Numeric leads and an empty remainder never call it.
    assert codec.decode_packet('4123', loads) == (4, '123', False)
    assert codec.decode_packet('4', loads) == (4, '', False)
    assert calls == ['hello', '{"x":1}']


def test_decode_falls_back_to_raw_text_on_value_error_from_loads(codec):
    """K-04: ValueError from ``loads`` -> raw remainder."""

    def loads(text):
        raise ValueError('nope')

    assert codec.decode_packet('4{"a":1}', loads) == (4, '{"a":1}', False)


def test_decode_propagates_other_exceptions_from_loads(codec):
    """K-10: exceptions other than ValueError from a user ``loads`` propagate unchanged."""
    marker = KeyError('user hook')

    def loads(text):
        raise marker

    with pytest.raises(KeyError) as info:
        codec.decode_packet('4{"a":1}', loads)
    assert info.value is marker


# -- encode --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('ptype', 'data', 'expected'),
    [
        (4, 'hello', '4hello'),
        (4, '', '4'),
        (4, None, '4'),
        # K-03 examples: str(value) for non-JSON-container data.
        (4, True, '4True'),
        (4, False, '4False'),
        (4, 1.5, '41.5'),
        (4, 5, '45'),
        (4, ('a', 1), "4('a', 1)"),
        # Compact JSON for dict and list.
        (4, {'a': 1, 'b': [1, 2]}, '4{"a":1,"b":[1,2]}'),
        (4, [1, 'x', None, True], '4[1,"x",null,true]'),
        (4, {'a': 'é'}, '4{"a":"\\u00e9"}'),
        (4, {}, '4{}'),
        (4, [], '4[]'),
        (4, 'é\ud800\x1e', '4é\ud800\x1e'),
        (0, {'sid': 'abc'}, '0{"sid":"abc"}'),
        (1, None, '1'),
        (2, 'probe', '2probe'),
        (3, 'probe', '3probe'),
        (5, None, '5'),
        (6, None, '6'),
    ],
)
def test_encode_text_packet(codec, ptype, data, expected):
    """K-03: type digit + nothing / the string / compact JSON / str(value)."""
    encoded = codec.encode_packet(ptype, data, False, safe_json.dumps)
    assert encoded == expected
    assert type(encoded) is str


def test_encode_ignores_b64_flag_for_text(codec):
    """K-03: ``b64`` only affects binary data."""
    assert codec.encode_packet(4, 'hello', True, safe_json.dumps) == '4hello'
    assert codec.encode_packet(4, {'a': 1}, True, safe_json.dumps) == '4{"a":1}'


def test_encode_str_subclass_uses_its_characters(codec):
    """K-03: str data is appended as characters, not through ``__str__``."""

    class Text(str):
        def __str__(self):
            return 'other'

    encoded = codec.encode_packet(4, Text('abc'), False, safe_json.dumps)
    assert encoded == '4abc'
    assert type(encoded) is str


@pytest.mark.parametrize(
    'data',
    [b'\x01\x02\x03\x04', bytearray(b'\x01\x02\x03\x04'), memoryview(b'\x01\x02\x03\x04')],
    ids=['bytes', 'bytearray', 'memoryview'],
)
def test_encode_binary_raw_gives_bytes(codec, data):
    """K-02, P-11: raw binary form is the bytes themselves."""
    encoded = codec.encode_packet(4, data, False, safe_json.dumps)
    assert encoded == b'\x01\x02\x03\x04'
    assert type(encoded) is bytes


@pytest.mark.parametrize(
    ('data', 'expected'),
    [
        (b'\x01\x02\x03\x04', 'bAQIDBA=='),
        (bytearray(b'\x01\x02\x03'), 'bAQID'),
        (memoryview(b'\xff\xef'), 'b/+8='),
        (b'', 'b'),
    ],
)
def test_encode_binary_base64_gives_prefixed_text(codec, data, expected):
    """P-12: ``b`` + padded standard base64."""
    encoded = codec.encode_packet(4, data, True, safe_json.dumps)
    assert encoded == expected
    assert type(encoded) is str


@pytest.mark.parametrize('ptype', [0, 1, 2, 3, 5, 6])
@pytest.mark.parametrize('b64', [False, True])
def test_encode_rejects_binary_non_message(codec, ptype, b64):
    """K-02: binary with ptype != 4 -> EncodeError, a ValueError."""
    with pytest.raises(EncodeError, match='^Binary packets can only be of type MESSAGE$') as info:
        codec.encode_packet(ptype, b'\x01', b64, safe_json.dumps)
    assert isinstance(info.value, ValueError)


def test_encode_calls_custom_dumps_with_compact_separators(codec):
    """K-03: dict/list go through the given ``dumps`` with compact separators."""
    calls = []

    def dumps(value, **kwargs):
        calls.append((value, kwargs))
        return 'JSON'

    assert codec.encode_packet(4, {'a': 1}, False, dumps) == '4JSON'
    assert codec.encode_packet(4, [1], False, dumps) == '4JSON'
    assert codec.encode_packet(4, 'text', False, dumps) == '4text'
    assert calls == [({'a': 1}, {'separators': (',', ':')}), ([1], {'separators': (',', ':')})]


def test_encode_with_stdlib_dumps_equals_json_dumps_compact(codec):
    """K-03: the same text as ``json.dumps(data, separators=(',', ':'))``."""
    data = {'k': [1, 2.5, None, 'é', {'n': float('inf')}], 'z': 'a"b\\c\n'}
    expected = '4' + stdlib_json.dumps(data, separators=(',', ':'))
    assert codec.encode_packet(4, data, False, stdlib_json.dumps) == expected


def test_encode_circular_data_raises_json_value_error(codec):
    """K-03: circular data raises json's own ValueError, not RecursionError."""
    data: list = []
    data.append(data)
    with pytest.raises(ValueError, match='^Circular reference detected$'):
        codec.encode_packet(4, data, False, stdlib_json.dumps)


def test_encode_unserializable_data_raises_json_type_error(codec):
    """K-03: json's TypeError for unserializable values is passed through."""
    with pytest.raises(TypeError, match='is not JSON serializable'):
        codec.encode_packet(4, {'a': {1, 2}}, False, stdlib_json.dumps)


# -- compat Packet ---------------------------------------------------------------------


def test_compat_backend_routes_packet_and_payload_through_the_codec(compat_backend, codec):
    """K-01: the fixture really switches ``Packet``/``Payload`` to the backend under test."""
    from engineio_fast import _codec

    assert _codec.encode_packet is codec.encode_packet
    assert _codec.decode_packet is codec.decode_packet
    assert _codec.split_payload is codec.split_payload
    assert compat_backend.packet._codec is _codec
    assert compat_backend.payload._codec is _codec


def test_packet_module_constants(compat_backend):
    """C-02: OPEN..NOOP = 0..6, packet_names, binary_types."""
    packet = compat_backend.packet
    assert (
        packet.OPEN,
        packet.CLOSE,
        packet.PING,
        packet.PONG,
        packet.MESSAGE,
        packet.UPGRADE,
        packet.NOOP,
    ) == (0, 1, 2, 3, 4, 5, 6)
    assert packet.packet_names == ['OPEN', 'CLOSE', 'PING', 'PONG', 'MESSAGE', 'UPGRADE', 'NOOP']
    assert packet.binary_types == (bytes, bytearray)


def test_packet_defaults_to_noop(compat_backend):
    """C-07: ``Packet()`` is a NOOP without data."""
    pkt = compat_backend.packet.Packet()
    assert (pkt.packet_type, pkt.data, pkt.binary) == (6, None, False)
    assert pkt.encode() == '6'


def test_packet_text_attributes_and_encode(compat_backend):
    """C-07: ``Packet(MESSAGE, data)``, ``.data``, ``.encode()`` exact strings."""
    packet = compat_backend.packet
    pkt = packet.Packet(packet.MESSAGE, 'hello')
    assert (pkt.packet_type, pkt.data, pkt.binary) == (4, 'hello', False)
    assert pkt.encode() == '4hello'
    assert packet.Packet(packet.MESSAGE, {'a': [1, 2]}).encode() == '4{"a":[1,2]}'
    assert packet.Packet(packet.MESSAGE, True).encode() == '4True'
    assert packet.Packet(packet.PING, 'probe').encode(b64=True) == '2probe'


def test_packet_binary_attributes(compat_backend):
    """K-03: bytes-like data marks the packet binary."""
    packet = compat_backend.packet
    for data in (b'\x01', bytearray(b'\x01'), memoryview(b'\x01')):
        pkt = packet.Packet(packet.MESSAGE, data)
        assert pkt.binary is True
        assert pkt.encode() == b'\x01'
        assert packet.Packet(packet.MESSAGE, data).encode(b64=True) == 'bAQ=='


def test_packet_rejects_binary_non_message(compat_backend):
    """K-02: binary data needs the MESSAGE type."""
    packet = compat_backend.packet
    with pytest.raises(ValueError, match='^Binary packets can only be of type MESSAGE$'):
        packet.Packet(packet.PING, b'\x01')


@pytest.mark.parametrize(
    ('encoded', 'expected'),
    [
        ('4{"a":1}', (4, {'a': 1}, False)),
        ('2probe', (2, 'probe', False)),
        ('4', (4, '', False)),
        (b'\x00\x01', (4, b'\x00\x01', True)),
        (bytearray(b'\x00\x01'), (4, b'\x00\x01', True)),
        ('bAAE=', (4, b'\x00\x01', True)),
    ],
)
def test_packet_decodes_encoded_packet_argument(compat_backend, encoded, expected):
    """C-07: ``Packet(encoded_packet=...)`` decodes through the codec."""
    pkt = compat_backend.packet.Packet(encoded_packet=encoded)
    assert (pkt.packet_type, pkt.data, pkt.binary) == expected


@pytest.mark.parametrize('encoded', ['', 'x', 'bA'])
def test_packet_decode_error_is_a_value_error(compat_backend, encoded):
    """K-10: upstream callers catching ValueError still catch malformed packets."""
    with pytest.raises(ValueError) as info:
        compat_backend.packet.Packet(encoded_packet=encoded)
    assert isinstance(info.value, DecodeError)


def test_packet_binary_encoded_raw_then_base64(compat_backend):
    """B-01: raw form cached first does not leak into ``encode(b64=True)``."""
    packet = compat_backend.packet
    pkt = packet.Packet(packet.MESSAGE, b'\x01\x02\x03\x04')
    assert pkt.encode() == b'\x01\x02\x03\x04'
    assert pkt.encode(b64=True) == 'bAQIDBA=='
    assert pkt.encode() == b'\x01\x02\x03\x04'


def test_packet_binary_encoded_base64_then_raw(compat_backend):
    """B-01: base64 form cached first does not leak into ``encode()``."""
    packet = compat_backend.packet
    pkt = packet.Packet(packet.MESSAGE, b'\x01\x02\x03\x04')
    assert pkt.encode(b64=True) == 'bAQIDBA=='
    assert pkt.encode() == b'\x01\x02\x03\x04'
    assert pkt.encode(b64=True) == 'bAQIDBA=='


def test_packet_encoding_is_cached_per_form(compat_backend, monkeypatch):
    """K-03, F-03: each form is encoded once; later ``data`` changes are not reflected."""
    from engineio_fast import _codec

    packet = compat_backend.packet
    calls = []
    real = _codec.encode_packet

    def counting(*args):
        calls.append(args[2])
        return real(*args)

    monkeypatch.setattr(_codec, 'encode_packet', counting)
    pkt = packet.Packet(packet.MESSAGE, b'\x01')
    for _ in range(3):
        assert pkt.encode() == b'\x01'
        assert pkt.encode(b64=True) == 'bAQ=='
    assert calls == [False, True]
    pkt.data = b'\x02'
    assert pkt.encode() == b'\x01'
    assert pkt.encode(b64=True) == 'bAQ=='


def test_packet_decode_resets_cached_encodings(compat_backend):
    """K-03: ``decode()`` replaces the packet, so the cache must not survive it."""
    packet = compat_backend.packet
    pkt = packet.Packet(packet.MESSAGE, 'a')
    assert pkt.encode() == '4a'
    pkt.decode('4b')
    assert pkt.encode() == '4b'
    pkt.decode(b'\x05')
    assert pkt.encode(b64=True) == 'bBQ=='


def test_packet_json_replaced_by_class_with_static_methods(compat_backend, monkeypatch):
    """K-01, C-08: ``Packet.json`` may be a class with static dumps/loads."""
    packet = compat_backend.packet

    class CustomJson:
        @staticmethod
        def dumps(value, **kwargs):
            return '<' + stdlib_json.dumps(value, **kwargs) + '>'

        @staticmethod
        def loads(text):
            return {'custom': text}

    monkeypatch.setattr(packet.Packet, 'json', CustomJson)
    assert packet.Packet(packet.MESSAGE, {'a': 1}).encode() == '4<{"a":1}>'
    assert packet.Packet(encoded_packet='4hello').data == {'custom': 'hello'}
    assert packet.Packet(encoded_packet='4{"a":1}').data == {'custom': '{"a":1}'}
    # Numbers still stay text without asking the hook.
    assert packet.Packet(encoded_packet='4123').data == '123'


class _Spy:
    """A ``Packet.json`` that records which of its attributes are read."""

    def __init__(self):
        self.read = []

    def __getattr__(self, name):
        self.read.append(name)
        return getattr(stdlib_json, name)


@pytest.mark.parametrize(
    'data', ['hello', '', b'\x01\x02', bytearray(b'\x03'), None, 7, 1.5, True], ids=repr
)
def test_packet_encode_reads_json_only_for_dict_or_list_data(compat_backend, monkeypatch, data):
    """Issue 15: like python-engineio, ``encode()`` leaves ``Packet.json`` alone for other data.

    python-socketio's suite leaves ``Packet.json = 'foo'`` behind; its later
    str packets must still encode.
    """
    packet = compat_backend.packet
    monkeypatch.setattr(packet.Packet, 'json', 'foo')
    pkt = packet.Packet(packet.MESSAGE, data)
    expected_text = '4' if data is None else '4' + str(data)
    if isinstance(data, (bytes, bytearray)):
        assert pkt.encode() == bytes(data)
        assert pkt.encode(b64=True).startswith('b')
    else:
        assert pkt.encode() == expected_text
        assert pkt.encode(b64=True) == expected_text


@pytest.mark.parametrize('data', [{'a': 1}, [1, 'x']], ids=repr)
def test_packet_encode_of_dict_or_list_reads_json_dumps_when_encoding(
    compat_backend, monkeypatch, data
):
    """Issue 15: dict/list data uses the ``Packet.json`` current at the first ``encode()``."""
    packet = compat_backend.packet
    pkt = packet.Packet(packet.MESSAGE, data)  # created before json is replaced
    spy = _Spy()
    monkeypatch.setattr(packet.Packet, 'json', spy)
    assert pkt.encode() == '4' + stdlib_json.dumps(data, separators=(',', ':'))
    assert spy.read == ['dumps']
    monkeypatch.setattr(packet.Packet, 'json', 'foo')
    with pytest.raises(AttributeError):
        packet.Packet(packet.MESSAGE, data).encode()


@pytest.mark.parametrize('encoded', [b'\x01\x02', '4', '3', '6', '4123', 'bAQI='], ids=repr)
def test_packet_decode_without_json_text_needs_no_json_loads(compat_backend, monkeypatch, encoded):
    """Issue 15: binary, empty, numeric and base64 packets decode whatever ``Packet.json`` is.

    python-engineio calls ``json.loads`` only for text data; a ``Packet.json``
    without ``loads`` must fail only there.
    """
    packet = compat_backend.packet
    expected = packet.Packet(encoded_packet=encoded)
    monkeypatch.setattr(packet.Packet, 'json', 'foo')
    pkt = packet.Packet(encoded_packet=encoded)
    assert (pkt.packet_type, pkt.data, pkt.binary) == (
        expected.packet_type,
        expected.data,
        expected.binary,
    )


def test_packet_decode_of_json_text_still_tries_json_loads(compat_backend, monkeypatch):
    """Issue 15: decode keeps python-engineio's behaviour: text goes through ``json.loads``."""
    packet = compat_backend.packet
    monkeypatch.setattr(packet.Packet, 'json', 'foo')
    with pytest.raises(AttributeError):
        packet.Packet(encoded_packet='4{"a":1}')
    with pytest.raises(AttributeError):
        packet.Packet(encoded_packet='4hello')
    spy = _Spy()
    monkeypatch.setattr(packet.Packet, 'json', spy)
    assert packet.Packet(encoded_packet='4{"a":1}').data == {'a': 1}
    assert spy.read == ['loads']


def test_payload_decode_of_binary_and_control_packets_needs_no_json(compat_backend, monkeypatch):
    """Issue 15: a polling body without JSON text decodes whatever ``Packet.json`` is."""
    packet, payload = compat_backend
    monkeypatch.setattr(packet.Packet, 'json', 'foo')
    pkts = payload.Payload(encoded_payload='3\x1ebAQI=\x1e4\x1e6').packets
    assert [(p.packet_type, p.data) for p in pkts] == [(3, ''), (4, b'\x01\x02'), (4, ''), (6, '')]
