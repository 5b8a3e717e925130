"""Polling payloads (K-02, K-06, K-10, P-12, P-13, H-25, H-26, H-42, B-10, B-20, B-21)."""

from __future__ import annotations

import json as stdlib_json
from array import array

import pytest

from engineio_fast._constants import DEFAULT_MAX_DECODE_PACKETS
from engineio_fast.exceptions import ContentTooLongError, DecodeError, EncodeError

# -- encode_payload / encode_payload_bytes ------------------------------------------------


@pytest.mark.parametrize(
    ('packets', 'expected'),
    [
        ([], ''),
        (['4hello'], '4hello'),
        (['4hello', 'bAQIDBA=='], '4hello\x1ebAQIDBA=='),
        (['2', '4é', '6'], '2\x1e4é\x1e6'),
    ],
)
def test_encode_payload_joins_with_record_separator(codec, packets, expected):
    """P-12, K-02: packets joined by \\x1e in order."""
    assert codec.encode_payload(packets) == expected


def test_encode_payload_accepts_any_iterable(codec):
    """K-02: ``encoded`` is an iterable of packet strings."""
    assert codec.encode_payload(iter(['4a', '4b'])) == '4a\x1e4b'
    assert codec.encode_payload_bytes(iter(['4a', '4b'])) == b'4a\x1e4b'
    assert codec.encode_payload_bytes(('4a', '4é')) == '4a\x1e4é'.encode()


@pytest.mark.parametrize(
    ('packets', 'expected'),
    [
        ([], b''),
        (['4hello'], b'4hello'),
        (['4hello', 'bAQIDBA=='], b'4hello\x1ebAQIDBA=='),
        (['4é€😀', '4x'], '4é€😀\x1e4x'.encode('utf-8')),
    ],
)
def test_encode_payload_bytes_is_utf8(codec, packets, expected):
    """P-12: the response body is the UTF-8 of the joined text."""
    body = codec.encode_payload_bytes(packets)
    assert body == expected
    assert type(body) is bytes


@pytest.mark.parametrize('text', ['4\ud800', '4a\udfffb', '4\udbff\udbff'])
def test_encode_payload_bytes_rejects_lone_surrogate(codec, text):
    """B-21, K-14 (codec side): a lone surrogate is an EncodeError, not UnicodeEncodeError."""
    with pytest.raises(EncodeError, match='^Packet text is not valid UTF-8$') as info:
        codec.encode_payload_bytes(['4ok', text])
    assert isinstance(info.value, ValueError)
    assert not isinstance(info.value, UnicodeError)


def test_encode_payload_bytes_jsonp_wraps(codec):
    """H-25: ``___eio[<j>]("<payload>");``."""
    assert codec.encode_payload_bytes(['4hello', '2'], 3) == b'___eio[3]("4hello\\u001e2");'


def test_encode_payload_bytes_jsonp_index_zero_is_jsonp(codec):
    """H-25: index 0 is a valid JSONP index (only None disables it)."""
    assert codec.encode_payload_bytes(['4a'], 0) == b'___eio[0]("4a");'


def test_encode_payload_bytes_jsonp_escapes_to_ascii(codec):
    """H-26, B-11: the literal escapes quote, backslash, controls, U+2028/9, surrogates."""
    text = '4"\\\n\r\t\x00\u2028\u2029é\ud800'
    body = codec.encode_payload_bytes([text], 1)
    assert body.isascii()
    prefix, suffix = b'___eio[1](', b');'
    assert body.startswith(prefix) and body.endswith(suffix)
    literal = body[len(prefix) : -len(suffix)].decode('ascii')
    for raw in ('\n', '\r', '\t', '\x00', '\u2028', '\u2029'):
        assert raw not in literal
    assert stdlib_json.loads(literal) == text


# -- split_payload ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ('body', 'expected'),
    [
        ('4hello', ['4hello']),
        ('4hello\x1ebAQIDBA==', ['4hello', 'bAQIDBA==']),
        ('2\x1e3\x1e4x', ['2', '3', '4x']),
        ('4é\x1e4€', ['4é', '4€']),
        (b'4hello\x1ebAQIDBA==', ['4hello', 'bAQIDBA==']),
        ('4é\x1e4😀'.encode(), ['4é', '4😀']),
        (bytearray(b'4a\x1e4b'), ['4a', '4b']),
        (memoryview(b'4a\x1e4b'), ['4a', '4b']),
        # Packet validity is decode_packet's business, not the splitter's.
        ('x\x1eb!', ['x', 'b!']),
    ],
)
def test_split_payload_splits_on_record_separator(codec, body, expected):
    """K-06, P-12, P-13: split only on \\x1e; bytes bodies are UTF-8."""
    packets = codec.split_payload(body, None, None)
    assert packets == expected
    assert all(type(item) is str for item in packets)
    assert type(packets) is list


@pytest.mark.parametrize('body', ['', b'', bytearray(), memoryview(b'')])
def test_split_payload_empty_body_has_no_packets(codec, body):
    """K-06: empty body -> no packets."""
    assert codec.split_payload(body, DEFAULT_MAX_DECODE_PACKETS, 1000) == []


@pytest.mark.parametrize(
    'body',
    ['4a\x1e', '\x1e4a', '4a\x1e\x1e4b', '\x1e', '\x1e\x1e', b'4a\x1e', 'd=4a%1E', 'd=%1E'],
)
def test_split_payload_rejects_empty_packets(codec, body):
    """K-06: a trailing, leading or doubled separator is a DecodeError."""
    with pytest.raises(DecodeError, match='^Invalid empty packet received$'):
        codec.split_payload(body, DEFAULT_MAX_DECODE_PACKETS, None)


@pytest.mark.parametrize(
    'body',
    [b'\xff', b'4\xc3', b'4\xc3(', b'4\xed\xa0\x80', b'4\xf8\x88\x80\x80\x80', bytearray(b'\x80')],
)
def test_split_payload_rejects_invalid_utf8(codec, body):
    """P-13, K-10: invalid UTF-8 is a parse error, never UnicodeDecodeError."""
    with pytest.raises(DecodeError, match='^Payload is not valid UTF-8$'):
        codec.split_payload(body, None, None)


def test_split_payload_decodes_bytes_of_wide_items(codec):
    """K-02: bytes-likes are read as raw bytes whatever their item size."""
    view = memoryview(array('B', b'4a\x1e4b')).cast('B')
    assert codec.split_payload(view, None, None) == ['4a', '4b']


def test_split_payload_accepts_non_contiguous_memoryview(codec):
    """K-02, K-10: a bytes-like body is read like ``bytes(body)``; no TypeError/BufferError."""
    body = memoryview(b'4\x00a\x00\x1e\x004\x00b\x00')[::2]
    assert bytes(body) == b'4a\x1e4b'
    assert codec.split_payload(body, None, None) == ['4a', '4b']


@pytest.mark.parametrize('body', [4, None, 4.5, ['4a'], object()])
def test_split_payload_rejects_other_types_with_type_error(codec, body):
    """K-02: only str and bytes-likes are payloads."""
    with pytest.raises(TypeError, match='^Payload must be str or bytes-like, not '):
        codec.split_payload(body, None, None)


# -- split_payload: JSONP POST bodies ----------------------------------------------------------


@pytest.mark.parametrize('body', ['d=', b'd=', 'd=&x=1'])
def test_split_payload_empty_jsonp_body_has_no_packets(codec, body):
    """B-20, H-25: empty ``d=`` is an empty payload, not an error."""
    assert codec.split_payload(body, DEFAULT_MAX_DECODE_PACKETS, None) == []


@pytest.mark.parametrize(
    ('body', 'expected'),
    [
        ('d=4hello', ['4hello']),
        ('d=4hello%1E4world', ['4hello', '4world']),
        ('d=4hello%1e4world', ['4hello', '4world']),
        (b'd=4a+b%2B%26', ['4a b+&']),
        ('d=4%C3%A9', ['4é']),
        ('d=4hello&t=123', ['4hello']),
        ('d=4hello%1EbAQIDBA%3D%3D', ['4hello', 'bAQIDBA==']),
    ],
)
def test_split_payload_decodes_jsonp_body(codec, body, expected):
    """H-25: POST ``d=<urlencoded>`` is url-decoded, then split."""
    assert codec.split_payload(body, DEFAULT_MAX_DECODE_PACKETS, None) == expected


@pytest.mark.parametrize('body', ['d=%ff', 'd=4%C3', b'd=%ed%a0%80'])
def test_split_payload_rejects_invalid_utf8_in_jsonp_body(codec, body):
    """P-13, K-10: percent-escapes must decode to valid UTF-8."""
    with pytest.raises(DecodeError, match='^Payload is not valid UTF-8$'):
        codec.split_payload(body, None, None)


def test_split_payload_counts_jsonp_packets_after_decoding(codec):
    """H-42: the packet cap applies to the url-decoded payload."""
    body = 'd=' + '%1E'.join(['4x'] * 3)
    assert codec.split_payload(body, 3, None) == ['4x'] * 3
    with pytest.raises(DecodeError, match='^Too many packets in payload$'):
        codec.split_payload(body, 2, None)


# -- split_payload: limits -----------------------------------------------------------------------


def test_split_payload_accepts_exactly_max_packets(codec):
    """H-42, P-74: 1000 packets with limit 1000 are fine."""
    body = '\x1e'.join(['4x'] * 1000)
    assert codec.split_payload(body, 1000, None) == ['4x'] * 1000


def test_split_payload_rejects_one_packet_over_max_packets(codec):
    """H-42: 1001 packets with limit 1000 -> DecodeError('Too many packets in payload')."""
    body = '\x1e'.join(['4x'] * 1001)
    with pytest.raises(DecodeError, match='^Too many packets in payload$') as info:
        codec.split_payload(body, 1000, None)
    assert isinstance(info.value, ValueError)


def test_split_payload_accepts_17_packets_with_default_limit(codec):
    """B-10: python-engineio dropped payloads of more than 16 packets."""
    body = '\x1e'.join('4%d' % i for i in range(17))
    assert codec.split_payload(body, DEFAULT_MAX_DECODE_PACKETS, None) == [
        '4%d' % i for i in range(17)
    ]


def test_split_payload_without_packet_limit_accepts_many(codec):
    """K-02: ``max_packets=None`` disables the cap."""
    assert len(codec.split_payload('\x1e'.join(['6'] * 5000), None, None)) == 5000


def test_split_payload_checks_packet_limit_before_empty_packets(codec):
    """K-12: separators are counted before splitting."""
    with pytest.raises(DecodeError, match='^Too many packets in payload$'):
        codec.split_payload('\x1e' * 50, 10, None)


def test_split_payload_max_bytes_counts_utf8_bytes_of_str(codec):
    """H-40, B-09: a str body is measured in UTF-8 bytes, not characters."""
    body = '4' + 'é' * 3  # 7 bytes, 4 characters
    assert codec.split_payload(body, None, 7) == [body]
    with pytest.raises(
        ContentTooLongError, match='^Payload of 7 bytes exceeds the limit of 6 bytes$'
    ):
        codec.split_payload(body, None, 6)


def test_split_payload_max_bytes_counts_lone_surrogate_as_three_bytes(codec):
    """H-40: a lone surrogate in a str body counts 3 bytes."""
    with pytest.raises(
        ContentTooLongError, match='^Payload of 4 bytes exceeds the limit of 3 bytes$'
    ):
        codec.split_payload('4\ud800', None, 3)
    assert codec.split_payload('4\ud800', None, 4) == ['4\ud800']


@pytest.mark.parametrize('kind', [bytes, bytearray, memoryview])
def test_split_payload_max_bytes_counts_raw_bytes(codec, kind):
    """H-40: a bytes body is measured in bytes."""
    raw = '4' + '€' * 3  # 10 bytes
    body = kind(raw.encode())
    assert codec.split_payload(body, None, 10) == [raw]
    with pytest.raises(
        ContentTooLongError, match='^Payload of 10 bytes exceeds the limit of 9 bytes$'
    ):
        codec.split_payload(body, None, 9)


def test_split_payload_checks_size_before_anything_else(codec):
    """K-02, K-12: limits are checked first: oversize wins over invalid UTF-8 and count."""
    with pytest.raises(ContentTooLongError):
        codec.split_payload(b'\xff' * 10, None, 5)
    with pytest.raises(ContentTooLongError):
        codec.split_payload('\x1e' * 10, 1, 5)
    with pytest.raises(ContentTooLongError):
        codec.split_payload('d=' + '%1E' * 10, 1, 5)


def test_split_payload_max_bytes_is_checked_on_jsonp_raw_body(codec):
    """H-40: the POST body is measured as received, before url-decoding."""
    body = 'd=' + '%41' * 10  # 32 bytes raw, 10 decoded
    with pytest.raises(ContentTooLongError):
        codec.split_payload(body, None, 31)
    assert codec.split_payload(body, None, 32) == ['A' * 10]


def test_content_too_long_error_is_not_a_decode_error(codec):
    """S-41: oversize (413) and malformed (400) stay distinguishable."""
    with pytest.raises(ContentTooLongError) as info:
        codec.split_payload('4abc', None, 1)
    assert not isinstance(info.value, DecodeError)


# -- compat Payload ----------------------------------------------------------------------------


def test_payload_empty(compat_backend):
    """C-02: a new Payload has no packets and encodes to ''."""
    pl = compat_backend.payload.Payload()
    assert pl.packets == []
    assert pl.encode() == ''


def test_payload_encode_uses_base64_for_binary(compat_backend):
    """P-12: binary packets are ``b``-base64 in a payload."""
    packet, payload = compat_backend
    pkts = [
        packet.Packet(packet.MESSAGE, 'hello'),
        packet.Packet(packet.MESSAGE, b'\x01\x02\x03\x04'),
    ]
    assert payload.Payload(packets=pkts).encode() == '4hello\x1ebAQIDBA=='


def test_payload_encode_after_raw_encode_of_same_packet(compat_backend):
    """B-01: a packet first sent raw (WebSocket) still goes base64 in a payload."""
    packet, payload = compat_backend
    pkt = packet.Packet(packet.MESSAGE, b'\x01\x02\x03\x04')
    assert pkt.encode() == b'\x01\x02\x03\x04'
    assert payload.Payload(packets=[pkt, pkt]).encode() == 'bAQIDBA==\x1ebAQIDBA=='


def test_payload_encode_jsonp(compat_backend):
    """H-25, H-26: JSONP-wrapped, escaped payload text."""
    packet, payload = compat_backend
    pl = payload.Payload(packets=[packet.Packet(packet.MESSAGE, 'say "hi"\n')])
    assert pl.encode(jsonp_index=2) == '___eio[2]("4say \\"hi\\"\\n");'


@pytest.mark.parametrize('body', ['4hello\x1e4{"a":1}\x1ebAQ==', b'4hello\x1e4{"a":1}\x1ebAQ=='])
def test_payload_decode(compat_backend, body):
    """K-06: decoded packets in order, each decoded by the codec."""
    pl = compat_backend.payload.Payload(encoded_payload=body)
    assert [(p.packet_type, p.data, p.binary) for p in pl.packets] == [
        (4, 'hello', False),
        (4, {'a': 1}, False),
        (4, b'\x01', True),
    ]


@pytest.mark.parametrize('body', ['', b'', 'd='])
def test_payload_decode_empty_body(compat_backend, body):
    """K-06, B-20: empty body and empty JSONP ``d=`` give no packets."""
    assert compat_backend.payload.Payload(encoded_payload=body).packets == []


@pytest.mark.parametrize('body', ['4a\x1e', 'x', b'\xff', 'bA'])
def test_payload_decode_errors_are_value_errors(compat_backend, body):
    """K-10: malformed payloads raise DecodeError, caught as ValueError upstream."""
    with pytest.raises(ValueError) as info:
        compat_backend.payload.Payload(encoded_payload=body)
    assert isinstance(info.value, DecodeError)


def test_payload_max_decode_packets_defaults_to_1000(compat_backend):
    """H-42, P-74: default cap 1000; 17 packets decode (B-10)."""
    payload = compat_backend.payload
    assert payload.Payload.max_decode_packets == 1000
    assert len(payload.Payload(encoded_payload='\x1e'.join(['6'] * 17)).packets) == 17
    assert len(payload.Payload(encoded_payload='\x1e'.join(['6'] * 1000)).packets) == 1000
    with pytest.raises(DecodeError, match='^Too many packets in payload$'):
        payload.Payload(encoded_payload='\x1e'.join(['6'] * 1001))


def test_payload_max_decode_packets_class_attribute_is_honoured(compat_backend, monkeypatch):
    """H-42: ``Payload.max_decode_packets`` stays a writable class attribute."""
    payload = compat_backend.payload
    monkeypatch.setattr(payload.Payload, 'max_decode_packets', 16)
    assert len(payload.Payload(encoded_payload='\x1e'.join(['6'] * 16)).packets) == 16
    with pytest.raises(ValueError, match='^Too many packets in payload$'):
        payload.Payload(encoded_payload='\x1e'.join(['6'] * 17))
    monkeypatch.setattr(payload.Payload, 'max_decode_packets', 2000)
    assert len(payload.Payload(encoded_payload='\x1e'.join(['6'] * 1500)).packets) == 1500


def test_payload_max_decode_packets_subclass_override_is_honoured(compat_backend):
    """H-42: a subclass (or instance) value is looked up per decode."""
    payload = compat_backend.payload

    class Small(payload.Payload):
        max_decode_packets = 2

    with pytest.raises(DecodeError, match='^Too many packets in payload$'):
        Small(encoded_payload='6\x1e6\x1e6')
    pl = payload.Payload()
    pl.max_decode_packets = 1
    with pytest.raises(DecodeError, match='^Too many packets in payload$'):
        pl.decode('6\x1e6')
