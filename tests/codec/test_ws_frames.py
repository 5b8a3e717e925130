"""Server-side WebSocket framing, RFC 6455 (issue 17): FrameReader, encode_frame, encode_close.

Tests taking ``ws`` run on both twins (``_ws_c`` marked ``c_extension``);
parity tests take ``ws_py`` and ``ws_c`` and require, for any byte stream and
any way of splitting it, equal events of equal types or the same
``WebSocketProtocolError`` (code and message) at the same ``feed`` call.
Client frames are built here by a masker of our own, independent of the
twins.  The last section tests permessage-deflate (``_ws_deflate``, one
module both twins share) on its own: negotiation, limits, round trips.
"""

from __future__ import annotations

import zlib
from array import array
from types import ModuleType
from typing import Any, Callable

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import any_text

from engineio_fast import _codec_py
from engineio_fast import json as strict_json
from engineio_fast._ws_compression import WebSocketCompression
from engineio_fast._ws_deflate import PerMessageDeflate, negotiate
from engineio_fast.exceptions import EncodeError, WebSocketProtocolError

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
CONTINUATION = 0x0
RSV1, RSV2, RSV3 = 0x40, 0x20, 0x10
LIMIT = 1 << 20

# -- a client-side frame builder --------------------------------------------------------


def mask_bytes(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the repeated 4-byte ``key`` (RFC 6455 section 5.3)."""
    return bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))


def client_frame(
    payload: bytes,
    opcode: int,
    *,
    fin: bool = True,
    rsv: int = 0,
    key: bytes = b'\x37\xfa\x21\x3d',
    masked: bool = True,
    length_bytes: int | None = None,
) -> bytes:
    """A client frame; ``length_bytes`` 0, 2 or 8 forces a length encoding (None: minimal)."""
    size = len(payload)
    if length_bytes is None:
        length_bytes = 0 if size < 126 else 2 if size < 65536 else 8
    mask_bit = 0x80 if masked else 0
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    if length_bytes == 0:
        head += bytes([mask_bit | size])
    elif length_bytes == 2:
        head += bytes([mask_bit | 126]) + size.to_bytes(2, 'big')
    else:
        head += bytes([mask_bit | 127]) + size.to_bytes(8, 'big')
    return head + key + mask_bytes(payload, key) if masked else head + payload


def client_header(length: int, opcode: int = BINARY, fin: bool = True) -> bytes:
    """A masked frame header declaring ``length`` bytes, in the minimal encoding, mask included."""
    first = bytes([(0x80 if fin else 0) | opcode])
    if length < 126:
        return first + bytes([0x80 | length]) + b'\0\0\0\0'
    if length < 65536:
        return first + bytes([0x80 | 126]) + length.to_bytes(2, 'big') + b'\0\0\0\0'
    return first + bytes([0x80 | 127]) + length.to_bytes(8, 'big') + b'\0\0\0\0'


def mask_server_frame(frame: bytes, key: bytes) -> bytes:
    """The client-side form of an unmasked frame: mask bit, key, masked payload."""
    second = frame[1] & 0x7F
    head = 2 + (2 if second == 126 else 8 if second == 127 else 0)
    header = bytes([frame[0], frame[1] | 0x80]) + frame[2:head]
    return header + key + mask_bytes(frame[head:], key)


def pieces_of(stream: bytes, cuts: list[int]) -> list[bytes]:
    """``stream`` split at ``cuts`` (any positions, repeats allowed: empty feeds)."""
    bounds = [0, *sorted(cut % (len(stream) + 1) for cut in cuts), len(stream)]
    return [stream[a:b] for a, b in zip(bounds, bounds[1:])]


def feed_all(reader: Any, pieces: list) -> list:
    """Every event of ``pieces`` fed one by one; each feed returns a list."""
    events = []
    for piece in pieces:
        got = reader.feed(piece)
        assert type(got) is list
        events.extend(got)
    return events


def typed(event: Any) -> Any:
    """An event with the type of each part, so ``b'a'`` never equals ``bytearray(b'a')``."""
    if type(event) is tuple:
        return ('tuple', tuple((type(part), part) for part in event))
    return (type(event), event)


def run(
    module: ModuleType, pieces: list, limit: int, inflate: Any = None, split: bool | None = None
) -> list:
    """What feeding ``pieces`` did: events per feed, then the protocol error if any.

    ``split``: None, or the ``strict_json`` of ``split_packets`` called first.
    Any exception other than WebSocketProtocolError escapes and fails the test.
    """
    reader = module.FrameReader(limit, inflate)
    if split is not None:
        reader.split_packets(split)
    outcome = []
    for piece in pieces:
        try:
            events = reader.feed(piece)
        except WebSocketProtocolError as exc:
            outcome.append(('raise', type(exc), exc.code, str(exc)))
            break
        outcome.append(('events', [typed(event) for event in events]))
    return outcome


def protocol_error(module: ModuleType, stream: bytes, limit: int = LIMIT, **kw) -> tuple:
    """``(code, message)`` of the error feeding ``stream`` whole raises."""
    with pytest.raises(WebSocketProtocolError) as info:
        module.FrameReader(limit, **kw).feed(stream)
    assert str(info.value) == info.value.reason
    return info.value.code, info.value.reason


# -- strategies ---------------------------------------------------------------------------

KEYS = st.binary(min_size=4, max_size=4)
LENGTH_FORMS = st.sampled_from([None, None, 2, 8])
CONTROL = st.tuples(st.sampled_from([PING, PONG]), st.binary(max_size=125))


@st.composite
def message_frames(draw: Callable, max_size: int = 300) -> tuple[bytes, list]:
    """One message as 1-4 fragments, pings/pongs between them; its frames and events."""
    message = draw(st.text(max_size=max_size) | st.binary(max_size=max_size))
    data = message.encode('utf-8') if isinstance(message, str) else message
    count = draw(st.integers(min_value=1, max_value=4))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), min_size=count - 1, max_size=count - 1)))
    chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]
    frames, events = b'', []
    for i, chunk in enumerate(chunks):
        opcode = (TEXT if isinstance(message, str) else BINARY) if i == 0 else CONTINUATION
        last = i == len(chunks) - 1
        frames += client_frame(
            chunk, opcode, fin=last, key=draw(KEYS), length_bytes=draw(LENGTH_FORMS)
        )
        if not last and draw(st.booleans()):
            control_opcode, payload = draw(CONTROL)
            frames += client_frame(payload, control_opcode, key=draw(KEYS))
            events.append((control_opcode, payload))
    events.append(message)
    return frames, events


@st.composite
def streams(draw: Callable) -> tuple[bytes, list]:
    """Several messages and control frames, maybe a close at the end."""
    frames, events = b'', []
    for item in draw(st.lists(message_frames() | CONTROL, max_size=5)):
        if isinstance(item[0], bytes):
            frames += item[0]
            events += item[1]
        else:
            frames += client_frame(item[1], item[0], key=draw(KEYS))
            events.append(item)
    if draw(st.booleans()):
        code = draw(st.sampled_from([1000, 1001, 1011, 3000, 4999]))
        reason = draw(st.text(max_size=20))
        frames += client_frame(code.to_bytes(2, 'big') + reason.encode(), CLOSE, key=draw(KEYS))
        events.append((CLOSE, code, reason))
    return frames, events


def cuts_for(max_cuts: int = 12) -> st.SearchStrategy[list[int]]:
    """Split points (taken modulo the stream length)."""
    return st.lists(st.integers(min_value=0, max_value=1 << 20), max_size=max_cuts)


# -- constants and round trips ------------------------------------------------------------


def test_opcodes_are_module_constants(ws):
    """issue 17: TEXT, BINARY, CLOSE, PING, PONG carry the RFC 6455 opcodes."""
    assert (ws.TEXT, ws.BINARY, ws.CLOSE, ws.PING, ws.PONG) == (TEXT, BINARY, CLOSE, PING, PONG)


def test_feed_returns_a_text_message(ws):
    """The RFC 6455 section 5.7 masked 'Hello'."""
    frame = bytes.fromhex('818537fa213d7f9f4d5158')
    assert ws.FrameReader(LIMIT).feed(frame) == ['Hello']


def test_feed_joins_the_rfc_fragmented_example(ws):
    """Section 5.7's fragmented 'Hello' (masked here, as a client must)."""
    stream = client_frame(b'Hel', TEXT, fin=False) + client_frame(b'lo', CONTINUATION)
    assert ws.FrameReader(LIMIT).feed(stream) == ['Hello']


def test_feed_returns_a_masked_pong(ws):
    """Section 5.7's masked Pong 'Hello'."""
    frame = bytes.fromhex('8a8537fa213d7f9f4d5158')
    assert ws.FrameReader(LIMIT).feed(frame) == [(PONG, b'Hello')]


def test_feed_returns_every_ready_event_in_one_list(ws):
    """Messages and control frames complete in one feed come back together, in order."""
    stream = (
        client_frame(b'a', TEXT)
        + client_frame(b'p', PING)
        + client_frame(b'\x01\x02', BINARY)
        + client_frame(b'\x03\xe8bye', CLOSE)
    )
    assert ws.FrameReader(LIMIT).feed(stream) == [
        'a',
        (PING, b'p'),
        b'\x01\x02',
        (CLOSE, 1000, 'bye'),
    ]


def test_feed_keeps_an_incomplete_frame_for_later(ws):
    """A frame split anywhere comes out once its last byte arrives."""
    frame = client_frame('héllo'.encode(), TEXT)
    reader = ws.FrameReader(LIMIT)
    assert [reader.feed(frame[i : i + 1]) for i in range(len(frame))] == [[]] * (len(frame) - 1) + [
        ['héllo']
    ]


def test_feed_accepts_bytes_likes(ws):
    """bytes, bytearray, memoryview and array feed alike."""
    frame = client_frame(b'abcd', BINARY)
    for data in (frame, bytearray(frame), memoryview(frame), array('B', frame)):
        assert ws.FrameReader(LIMIT).feed(data) == [b'abcd']


def test_feed_refuses_a_str(ws):
    with pytest.raises(
        TypeError, match='feed\\(\\) needs a C-contiguous bytes-like object, not str'
    ):
        ws.FrameReader(LIMIT).feed('abc')


@pytest.mark.parametrize('size', [0, 1, 125, 126, 127, 65535, 65536, 70000])
@pytest.mark.parametrize('opcode', [TEXT, BINARY])
def test_length_encodings_round_trip(ws, size, opcode):
    """The 7-, 16- and 64-bit lengths on both sides of each boundary."""
    data = bytes(i % 127 for i in range(size))
    message = data.decode() if opcode == TEXT else data
    frame = client_frame(data, opcode, key=b'\x01\x82\x03\xf4')
    assert ws.FrameReader(LIMIT).feed(frame) == [message]
    # Fed in 1000-byte pieces, as a socket would deliver a big frame.
    reader = ws.FrameReader(LIMIT)
    assert feed_all(reader, [frame[i : i + 1000] for i in range(0, len(frame), 1000)]) == [message]


@pytest.mark.parametrize('length_bytes', [0, 2, 8])
def test_non_minimal_lengths_are_accepted(ws, length_bytes):
    """A longer length encoding than needed still describes the payload."""
    assert ws.FrameReader(LIMIT).feed(client_frame(b'hi', TEXT, length_bytes=length_bytes)) == [
        'hi'
    ]


def test_empty_payloads(ws):
    """Empty text, binary, ping and close frames."""
    stream = (
        client_frame(b'', TEXT)
        + client_frame(b'', BINARY)
        + client_frame(b'', PING)
        + client_frame(b'', CLOSE)
    )
    assert list(map(typed, ws.FrameReader(LIMIT).feed(stream))) == list(
        map(typed, ['', b'', (PING, b''), (CLOSE, None, '')])
    )


def test_text_split_inside_a_character_across_fragments(ws):
    """UTF-8 is checked on the joined message, so a fragment may end mid-character."""
    data = 'é€😀'.encode()
    stream = b''.join(
        client_frame(data[i : i + 1], TEXT if i == 0 else CONTINUATION, fin=i == len(data) - 1)
        for i in range(len(data))
    )
    assert ws.FrameReader(LIMIT).feed(stream) == ['é€😀']


@given(stream=streams(), cuts=cuts_for(), one_byte=st.booleans())
def test_round_trip_any_split(ws, stream, cuts, one_byte):
    """Property: any messages, masks, fragmentations and splits give back the messages."""
    frames, expected = stream
    pieces = (
        [frames[i : i + 1] for i in range(len(frames))] if one_byte else pieces_of(frames, cuts)
    )
    events = feed_all(ws.FrameReader(LIMIT), pieces)
    assert list(map(typed, events)) == list(map(typed, expected))


@given(message=any_text(60) | st.binary(max_size=300), key=KEYS, cuts=cuts_for(4))
def test_encode_frame_read_back(ws, message, key, cuts):
    """Property: a server frame, masked as a client would send it, reads back as itself."""
    try:
        frame = ws.encode_frame(message)
    except EncodeError:
        assert isinstance(message, str)  # lone surrogates cannot go on the wire
        return
    events = feed_all(ws.FrameReader(LIMIT), pieces_of(mask_server_frame(frame, key), cuts))
    assert list(map(typed, events)) == [typed(message)]


# -- protocol errors ------------------------------------------------------------------------

FRAGMENT = client_frame(b'ab', TEXT, fin=False)

PROTOCOL_ERRORS = [
    ('unmasked', client_frame(b'hi', TEXT, masked=False), 1002, 'client frame is not masked'),
    ('rsv2', client_frame(b'hi', TEXT, rsv=RSV2), 1002, 'RSV2 or RSV3 set'),
    ('rsv3', client_frame(b'hi', TEXT, rsv=RSV3), 1002, 'RSV2 or RSV3 set'),
    ('rsv1', client_frame(b'hi', TEXT, rsv=RSV1), 1002, 'RSV1 set without permessage-deflate'),
    ('rsv1 ping', client_frame(b'', PING, rsv=RSV1), 1002, 'RSV1 set on a control frame'),
    *[
        ('opcode %d' % op, client_frame(b'', op), 1002, 'unknown opcode %d' % op)
        for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF)
    ],
    ('fragmented ping', client_frame(b'', PING, fin=False), 1002, 'fragmented control frame'),
    ('fragmented close', client_frame(b'', CLOSE, fin=False), 1002, 'fragmented control frame'),
    *[
        (
            'control %d bytes' % n,
            client_frame(b'x' * n, PONG),
            1002,
            'control frame payload over 125 bytes',
        )
        for n in (126, 300, 70000)
    ],
    (
        'control 16-bit length',
        client_frame(b'x', PING, length_bytes=2),
        1002,
        'control frame payload over 125 bytes',
    ),
    (
        'lone continuation',
        client_frame(b'x', CONTINUATION),
        1002,
        'continuation frame without a message in progress',
    ),
    (
        'text inside fragments',
        FRAGMENT + client_frame(b'x', TEXT),
        1002,
        'data frame inside a fragmented message',
    ),
    (
        'binary inside fragments',
        FRAGMENT + client_frame(b'x', BINARY, fin=False),
        1002,
        'data frame inside a fragmented message',
    ),
    (
        'continuation after the end',
        client_frame(b'x', TEXT) + client_frame(b'y', CONTINUATION),
        1002,
        'continuation frame without a message in progress',
    ),
    (
        'rsv1 continuation',
        FRAGMENT + client_frame(b'x', CONTINUATION, rsv=RSV1),
        1002,
        'RSV1 set on a continuation frame',
    ),
    (
        'top bit',
        bytes([0x82, 0xFF]) + (1 << 63).to_bytes(8, 'big'),
        1002,
        'frame length has its top bit set',
    ),
    ('bad utf-8', client_frame(b'\xff', TEXT), 1007, 'text message is not valid UTF-8'),
    (
        'surrogate',
        client_frame(b'\xed\xa0\x80', TEXT),
        1007,
        'text message is not valid UTF-8',
    ),
    (
        'bad utf-8 across fragments',
        client_frame(b'ok\xe2\x82', TEXT, fin=False) + client_frame(b'x', CONTINUATION),
        1007,
        'text message is not valid UTF-8',
    ),
    (
        'truncated utf-8 at the end',
        client_frame(b'ok', TEXT, fin=False) + client_frame(b'\xe2\x82', CONTINUATION),
        1007,
        'text message is not valid UTF-8',
    ),
    ('close 1 byte', client_frame(b'\x03', CLOSE), 1002, 'close frame payload of 1 byte'),
    (
        'close reason',
        client_frame(b'\x03\xe8\xff', CLOSE),
        1007,
        'close reason is not valid UTF-8',
    ),
]


@pytest.mark.parametrize(
    ('stream', 'code', 'message'),
    [pytest.param(*case[1:], id=case[0]) for case in PROTOCOL_ERRORS],
)
def test_protocol_errors(ws, stream, code, message):
    """issue 17: each broken rule raises WebSocketProtocolError with its close code."""
    assert protocol_error(ws, stream) == (code, message)
    # The same error comes out when the stream trickles in one byte at a time.
    reader = ws.FrameReader(LIMIT)
    with pytest.raises(WebSocketProtocolError) as info:
        for i in range(len(stream)):
            reader.feed(stream[i : i + 1])
    assert (info.value.code, info.value.reason) == (code, message)


HEADER_ERRORS = {
    'unmasked',
    'rsv2',
    'rsv3',
    'rsv1',
    'rsv1 ping',
    'fragmented ping',
    'control 126 bytes',
    'control 300 bytes',
    'control 70000 bytes',
    'lone continuation',
    *('opcode %d' % op for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF)),
}


@pytest.mark.parametrize(
    ('stream', 'code', 'message'),
    [pytest.param(*case[1:], id=case[0]) for case in PROTOCOL_ERRORS if case[0] in HEADER_ERRORS],
)
def test_header_errors_need_only_two_bytes(ws, stream, code, message):
    """A frame is refused on its first two bytes, before its length or payload arrive."""
    assert protocol_error(ws, stream[:2]) == (code, message)


def test_events_before_an_error_are_lost_with_it(ws):
    """Documented: a feed that raises returns nothing, even the frames before the bad one."""
    stream = client_frame(b'ok', TEXT) + client_frame(b'', 5)
    with pytest.raises(WebSocketProtocolError):
        ws.FrameReader(LIMIT).feed(stream)


def test_control_frames_between_fragments(ws):
    """Pings, pongs and a close may come between the fragments of a message."""
    stream = (
        client_frame(b'a', BINARY, fin=False)
        + client_frame(b'1', PING)
        + client_frame(b'b', CONTINUATION, fin=False)
        + client_frame(b'2', PONG)
        + client_frame(b'', CLOSE)
        + client_frame(b'c', CONTINUATION)
    )
    assert ws.FrameReader(LIMIT).feed(stream) == [
        (PING, b'1'),
        (PONG, b'2'),
        (CLOSE, None, ''),
        b'abc',
    ]


# -- size limits ------------------------------------------------------------------------------


@pytest.mark.parametrize('length', [101, 65536, 1 << 40, (1 << 63) - 1])
def test_declared_length_over_the_limit_fails_before_the_payload(ws, length):
    """1009 as soon as the header declares too much: nothing of the payload is buffered."""
    header = client_header(length)
    assert protocol_error(ws, header, limit=100) == (
        1009,
        'message of %d bytes over the limit of 100' % length,
    )
    # Without the mask key, too: the length alone decides.
    assert protocol_error(ws, header[:-4], limit=100)[0] == 1009


def test_message_at_the_limit_passes(ws):
    assert ws.FrameReader(100).feed(client_frame(b'x' * 100, BINARY)) == [b'x' * 100]


def test_fragments_count_towards_the_limit(ws):
    """The sum of fragments is the message size; the fragment that crosses it fails at its header."""
    reader = ws.FrameReader(100)
    assert reader.feed(client_frame(b'x' * 60, BINARY, fin=False)) == []
    assert reader.feed(client_frame(b'x' * 40, CONTINUATION, fin=False)) == []
    with pytest.raises(WebSocketProtocolError) as info:
        reader.feed(client_header(1, CONTINUATION))
    assert (info.value.code, info.value.reason) == (
        1009,
        'message of 101 bytes over the limit of 100',
    )


def test_control_frames_are_not_counted(ws):
    """The limit is on messages; a 125-byte ping passes a 10-byte limit."""
    assert ws.FrameReader(10).feed(client_frame(b'p' * 125, PING)) == [(PING, b'p' * 125)]


def test_limit_resets_after_each_message(ws):
    reader = ws.FrameReader(100)
    stream = client_frame(b'x' * 60, BINARY, fin=False) + client_frame(b'x' * 40, CONTINUATION)
    assert reader.feed(stream * 3) == [b'x' * 100] * 3


def test_limit_must_be_a_non_negative_int(ws):
    with pytest.raises(ValueError, match='max_message_size must be >= 0'):
        ws.FrameReader(-1)
    with pytest.raises(TypeError):
        ws.FrameReader(1.5)
    assert ws.FrameReader(0).feed(client_frame(b'', TEXT)) == ['']


# -- close frames -------------------------------------------------------------------------------

SENDABLE = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]
NOT_SENDABLE = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535]


def sendable(code: int) -> bool:
    """RFC 6455 section 7.4: the codes an endpoint may put in a close frame."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


@pytest.mark.parametrize('code', SENDABLE)
def test_close_with_a_valid_code(ws, code):
    frame = client_frame(code.to_bytes(2, 'big') + 'café'.encode(), CLOSE)
    assert ws.FrameReader(LIMIT).feed(frame) == [(CLOSE, code, 'café')]


@pytest.mark.parametrize('code', NOT_SENDABLE)
def test_close_with_a_code_that_may_not_be_sent(ws, code):
    frame = client_frame(code.to_bytes(2, 'big'), CLOSE)
    assert protocol_error(ws, frame) == (1002, 'close code %d may not be sent' % code)


@given(code=st.integers(min_value=0, max_value=65535), reason=st.binary(max_size=123))
def test_close_codes_and_reasons(ws, code, reason):
    """Property: a close frame is accepted exactly when its code is sendable and its reason UTF-8."""
    frame = client_frame(code.to_bytes(2, 'big') + reason, CLOSE)
    reader = ws.FrameReader(LIMIT)
    if not sendable(code):
        assert protocol_error(ws, frame)[0] == 1002
        return
    try:
        text = reason.decode('utf-8')
    except UnicodeDecodeError:
        assert protocol_error(ws, frame)[0] == 1007
        return
    assert reader.feed(frame) == [(CLOSE, code, text)]


# -- the inflate hook -------------------------------------------------------------------------------


class RecordingInflater:
    """An inflater that records its calls and returns the payload reversed."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, int]] = []

    def inflate(self, payload: bytes, limit: int) -> bytes:
        self.calls.append((payload, limit))
        return payload[::-1]


def test_inflate_is_called_once_per_compressed_message(ws):
    """RSV1 on the first frame: the joined payload goes to inflate, then text is decoded."""
    inflater = RecordingInflater()
    reader = ws.FrameReader(50, inflater)
    stream = (
        client_frame(b'ab', TEXT, fin=False, rsv=RSV1)
        + client_frame(b'1', PING)
        + client_frame(b'cd', CONTINUATION)
        + client_frame(b'xy', TEXT)
        + client_frame(b'\x01\x02', BINARY, rsv=RSV1)
    )
    assert reader.feed(stream) == [(PING, b'1'), 'dcba', 'xy', b'\x02\x01']
    assert inflater.calls == [(b'abcd', 50), (b'\x01\x02', 50)]


def test_inflate_errors_pass_through(ws):
    class Bomb:
        def inflate(self, payload: bytes, limit: int) -> bytes:
            raise WebSocketProtocolError(1009, 'too big')

    frame = client_frame(b'x', BINARY, rsv=RSV1)
    assert protocol_error(ws, frame, inflate=Bomb()) == (1009, 'too big')


def test_inflated_text_must_be_utf8(ws):
    frame = client_frame(b'\xff', TEXT, rsv=RSV1)
    assert protocol_error(ws, frame, inflate=RecordingInflater()) == (
        1007,
        'text message is not valid UTF-8',
    )


@given(
    messages=st.lists(st.text(max_size=200) | st.binary(max_size=200), max_size=5),
    no_context=st.booleans(),
    fragments=st.integers(min_value=1, max_value=3),
    cuts=cuts_for(6),
)
def test_permessage_deflate_round_trip_through_the_reader(
    ws, messages, no_context, fragments, cuts
):
    """Property: messages deflated by a client and sent with RSV1 read back, any split."""
    client = PerMessageDeflate(6, 0, server_no_context_takeover=no_context)
    server = PerMessageDeflate(6, 0, client_no_context_takeover=no_context)
    stream = b''
    for message in messages:
        data = message.encode() if isinstance(message, str) else message
        compressed = client.deflate(data)
        step = -(-len(compressed) // fragments) or 1
        chunks = [compressed[i : i + step] for i in range(0, len(compressed), step)] or [b'']
        for i, chunk in enumerate(chunks):
            opcode = (TEXT if isinstance(message, str) else BINARY) if i == 0 else CONTINUATION
            stream += client_frame(
                chunk, opcode, fin=i == len(chunks) - 1, rsv=RSV1 if i == 0 else 0
            )
    events = feed_all(ws.FrameReader(LIMIT, server), pieces_of(stream, cuts))
    assert list(map(typed, events)) == list(map(typed, messages))


def test_zip_bomb_hits_1009_through_the_reader(ws):
    bomb = PerMessageDeflate(9, 0).deflate(b'\0' * 5_000_000)
    frame = client_frame(bomb, BINARY, rsv=RSV1)
    code, _ = protocol_error(ws, frame, limit=100_000, inflate=PerMessageDeflate(1, 0))
    assert code == 1009


# -- encode_frame / encode_close -----------------------------------------------------------------


def test_encode_frame_rfc_vectors(ws):
    """RFC 6455 section 5.7: unmasked text, ping, 256-byte and 64 KiB binary."""
    assert ws.encode_frame('Hello') == bytes.fromhex('810548656c6c6f')
    assert ws.encode_frame(b'Hello', PING) == bytes.fromhex('890548656c6c6f')
    assert ws.encode_frame(b'Hello', PONG) == bytes.fromhex('8a0548656c6c6f')
    data = bytes(256)
    assert ws.encode_frame(data) == b'\x82\x7e\x01\x00' + data
    data = bytes(65536)
    assert ws.encode_frame(data) == b'\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00' + data


@pytest.mark.parametrize(
    ('payload', 'opcode', 'rsv1', 'expected'),
    [
        ('', 0, False, b'\x81\x00'),
        (b'', 0, False, b'\x82\x00'),
        ('é', 0, False, b'\x81\x02\xc3\xa9'),
        ('hi', BINARY, False, b'\x82\x02hi'),
        (b'hi', TEXT, False, b'\x81\x02hi'),
        (b'hi', 0, True, b'\xc2\x02hi'),
        ('hi', 0, True, b'\xc1\x02hi'),
        (bytearray(b'hi'), 0, False, b'\x82\x02hi'),
        (memoryview(b'xhi')[1:], 0, False, b'\x82\x02hi'),
        (array('H', [1, 2]), 0, False, b'\x82\x04' + array('H', [1, 2]).tobytes()),
        (b'x' * 125, PING, False, b'\x89\x7d' + b'x' * 125),
        ('x' * 125, 0, False, b'\x81\x7d' + b'x' * 125),
        ('x' * 126, 0, False, b'\x81\x7e\x00\x7e' + b'x' * 126),
        ('x' * 65535, 0, False, b'\x81\x7e\xff\xff' + b'x' * 65535),
        ('x' * 65536, 0, False, b'\x81\x7f' + (65536).to_bytes(8, 'big') + b'x' * 65536),
    ],
)
def test_encode_frame_vectors(ws, payload, opcode, rsv1, expected):
    frame = ws.encode_frame(payload, opcode, rsv1)
    assert type(frame) is bytes
    assert frame == expected


@pytest.mark.parametrize(
    ('args', 'error', 'message'),
    [
        (('x', 3), EncodeError, 'unknown opcode 3'),
        (('x', -1), EncodeError, 'unknown opcode -1'),
        (('x', 16), EncodeError, 'unknown opcode 16'),
        ((b'x' * 126, PING), EncodeError, 'control frame payload over 125 bytes'),
        ((b'', CLOSE, True), EncodeError, 'RSV1 set on a control frame'),
        ((1,), TypeError, 'payload must be str or a C-contiguous bytes-like object, not int'),
        ((memoryview(b'abcd')[::2],), TypeError, 'not memoryview'),
        (('\ud800',), EncodeError, 'frame text is not valid UTF-8'),
    ],
)
def test_encode_frame_refuses(ws, args, error, message):
    with pytest.raises(error) as info:
        ws.encode_frame(*args)
    assert message in str(info.value)


def test_encode_close_vectors(ws):
    assert ws.encode_close() == b'\x88\x00'
    assert ws.encode_close(1000) == b'\x88\x02\x03\xe8'
    assert ws.encode_close(1001, 'bye') == b'\x88\x05\x03\xe9bye'
    assert ws.encode_close(4999, 'é' * 61) == b'\x88\x7c\x13\x87' + 'é'.encode() * 61


@pytest.mark.parametrize(
    ('args', 'message'),
    [
        ((None, 'x'), 'a close reason needs a close code'),
        ((1005,), 'close code 1005 may not be sent'),
        ((999,), 'close code 999 may not be sent'),
        ((5000,), 'close code 5000 may not be sent'),
        ((1000, 'x' * 124), 'control frame payload over 125 bytes'),
        ((1000, '\udc80'), 'close reason is not valid UTF-8'),
    ],
)
def test_encode_close_refuses(ws, args, message):
    with pytest.raises(EncodeError, match=message):
        ws.encode_close(*args)


def test_encode_close_reads_back(ws):
    frame = mask_server_frame(ws.encode_close(1011, 'oops'), b'\x01\x02\x03\x04')
    assert ws.FrameReader(LIMIT).feed(frame) == [(CLOSE, 1011, 'oops')]


# -- Engine.IO packets (split_packets) -------------------------------------------------------------

#: Text whose first two characters are what the split looks at.
PACKET_TEXTS = st.builds(
    lambda head, rest: head + rest,
    st.text(st.sampled_from('0123456789b{ "-x\u00e9\u00b2\u0663\u4e00'), max_size=2),
    any_text(40),
)


def lenient_loads(text: str) -> Any:
    """A JSON decoder the codec does not know to be strict."""
    return strict_json.loads(text)


@pytest.mark.parametrize(
    'text, strict, expected',
    [
        ('4hello', True, (4, 'hello')),
        ('4hello', False, '4hello'),
        ('4', True, (4, '')),
        ('41', False, (4, '1')),
        ('2probe', True, (2, 'probe')),
        ('6', False, (6, '')),
        ('4{"a":1}', True, '4{"a":1}'),
        ('4 x', True, '4 x'),
        ('8x', True, '8x'),
        ('b4AA', True, 'b4AA'),
        ('4\u00e9t\u00e9', True, (4, '\u00e9t\u00e9')),
        ('', True, ''),
    ],
)
def test_split_packets_examples(ws, text, strict, expected):
    """issue 17: plain text packets come out split; JSON-looking text stays for the codec."""
    reader = ws.FrameReader(LIMIT)
    reader.split_packets(strict)
    assert typed_list(reader.feed(client_frame(text.encode(), TEXT))) == typed_list([expected])


def typed_list(events: list) -> list:
    return [(type(event), event) for event in events]


@given(text=PACKET_TEXTS, strict=st.booleans(), fragments=st.integers(1, 3), key=KEYS)
@example(text='4' + 'x' * 600, strict=True, fragments=1, key=b'\x01\x02\x03\x04')
def test_split_packets_reads_as_the_codec(ws, text, strict, fragments, key):
    """Property (issue 17): a split packet is what ``decode_packet`` reads from the text,
    with a type below the control opcodes; anything else is the text itself."""
    data = text.encode('utf-8')
    cut = len(data) // fragments
    chunks = [data[:cut], data[cut : 2 * cut], data[2 * cut :]][: fragments - 1] + (
        [data[(fragments - 1) * cut :]]
    )
    stream = b''.join(
        client_frame(chunk, TEXT if i == 0 else CONTINUATION, fin=i == len(chunks) - 1, key=key)
        for i, chunk in enumerate(chunks)
    )
    reader = ws.FrameReader(LIMIT)
    reader.split_packets(strict)
    [event] = reader.feed(stream)
    if type(event) is tuple:
        assert 0 <= event[0] < CLOSE
        loads = strict_json.loads if strict else lenient_loads
        assert event == _codec_py.decode_packet(text, loads)[:2]
        assert type(event[1]) is str
    else:
        assert type(event) is str and event == text


@given(packet_type=st.integers(min_value=-20, max_value=20), text=any_text(300))
@example(packet_type=4, text='x' * 70000)
@example(packet_type=4, text='x' * 124)
def test_encode_text_packet_is_the_frame_of_the_packet_text(ws, packet_type, text):
    """Property (issue 17): one step gives what ``encode_frame`` gives for the packet's
    text form, or raises what it raises (text that is not valid UTF-8)."""
    assert call(ws.encode_text_packet, packet_type, text) == call(
        ws.encode_frame, str(packet_type) + text, TEXT
    )


@pytest.mark.parametrize(
    'args, error',
    [
        ((True, 'x'), 'packet type must be int, not bool'),
        (('4', 'x'), 'packet type must be int, not str'),
        ((4, b'x'), 'packet text must be str, not bytes'),
        ((4, None), 'packet text must be str, not NoneType'),
    ],
)
def test_encode_text_packet_refuses_other_types(ws, args, error):
    with pytest.raises(TypeError) as info:
        ws.encode_text_packet(*args)
    assert str(info.value) == error


# -- parity ----------------------------------------------------------------------------------------


def call(fn: Callable, *args: Any) -> tuple:
    """What a call did: the typed result, or the exception's class and message."""
    try:
        result = fn(*args)
    except Exception as exc:  # compared, never swallowed
        return ('raise', type(exc), str(exc))
    return ('return', type(result), result)


def assert_same_run(ws_py, ws_c, pieces, limit, deflate_options, split=None) -> None:
    """Both twins do the same with ``pieces`` (a fresh inflater each when given)."""
    make = (
        (lambda: PerMessageDeflate(1, 0, **deflate_options))
        if deflate_options is not None
        else (lambda: None)
    )
    py = run(ws_py, pieces, limit, make(), split)
    c = run(ws_c, pieces, limit, make(), split)
    assert py == c, 'pieces %r:\n  py -> %r\n   c -> %r' % (pieces, py, c)


LIMITS = st.sampled_from([0, 1, 5, 100, 200, LIMIT])
DEFLATE = st.none() | st.fixed_dictionaries({'client_no_context_takeover': st.booleans()})
#: ``split_packets`` not called, or called with strict or lenient JSON.
SPLIT = st.sampled_from([None, True, False])


@given(data=st.binary(max_size=400), cuts=cuts_for(), limit=LIMITS, deflate=DEFLATE, split=SPLIT)
@example(
    data=bytes.fromhex('818537fa213d7f9f4d5158'), cuts=[], limit=LIMIT, deflate=None, split=None
)
@example(data=bytes([0x82, 0xFF]) + b'\xff' * 8, cuts=[3], limit=LIMIT, deflate=None, split=None)
def test_parity_on_any_bytes(ws_py, ws_c, data, cuts, limit, deflate, split):
    """Property: arbitrary bytes, split anywhere, do the same on both twins."""
    assert_same_run(ws_py, ws_c, pieces_of(data, cuts), limit, deflate, split)


@st.composite
def mutated_streams(draw: Callable) -> bytes:
    """A valid stream with a few bytes changed, inserted or cut off."""
    stream = bytearray(draw(streams())[0])
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        if not stream:
            break
        position = draw(st.integers(min_value=0, max_value=len(stream) - 1))
        action = draw(st.sampled_from(['xor', 'xor', 'insert', 'delete']))
        if action == 'xor':
            stream[position] ^= draw(st.integers(min_value=1, max_value=255))
        elif action == 'insert':
            stream[position:position] = draw(st.binary(min_size=1, max_size=4))
        else:
            del stream[position]
    if draw(st.booleans()):
        stream += client_frame(draw(st.binary(max_size=40)), draw(st.integers(0, 15)), rsv=RSV1)
    return bytes(stream)


@given(
    stream=mutated_streams(),
    cuts=cuts_for(),
    one_byte=st.booleans(),
    limit=LIMITS,
    deflate=DEFLATE,
    split=SPLIT,
)
def test_parity_on_mutated_frames(ws_py, ws_c, stream, cuts, one_byte, limit, deflate, split):
    """Property: nearly valid streams (flipped bits, bad lengths, bad UTF-8) agree on both twins."""
    pieces = (
        [stream[i : i + 1] for i in range(len(stream))] if one_byte else pieces_of(stream, cuts)
    )
    assert_same_run(ws_py, ws_c, pieces, limit, deflate, split)


@given(
    stream=streams(),
    cuts=cuts_for(),
    kind=st.sampled_from([bytes, bytearray, memoryview]),
    split=SPLIT,
)
def test_parity_on_valid_streams_and_buffer_types(ws_py, ws_c, stream, cuts, kind, split):
    pieces = [kind(piece) for piece in pieces_of(stream[0], cuts)]
    assert_same_run(ws_py, ws_c, pieces, LIMIT, None, split)


PAYLOADS = (
    any_text(140)
    | st.binary(max_size=140)
    | st.binary(max_size=140).map(bytearray)
    | st.binary(max_size=140).map(memoryview)
    | st.sampled_from([1, None, 'x' * 70000, b'y' * 66000, memoryview(b'abcd')[::2], array('I')])
)


@given(
    payload=PAYLOADS,
    opcode=st.integers(min_value=-2, max_value=17),
    rsv1=st.booleans(),
)
def test_parity_encode_frame(ws_py, ws_c, payload, opcode, rsv1):
    """Property: encode_frame returns the same bytes or raises the same error on both twins."""
    assert call(ws_py.encode_frame, payload, opcode, rsv1) == call(
        ws_c.encode_frame, payload, opcode, rsv1
    )


@given(
    code=st.none() | st.integers(min_value=-1, max_value=70000) | st.sampled_from([1000.0, '1000']),
    reason=any_text(130) | st.sampled_from([b'x', None]),
)
def test_parity_encode_close(ws_py, ws_c, code, reason):
    """Property: encode_close agrees on both twins, errors included."""
    assert call(ws_py.encode_close, code, reason) == call(ws_c.encode_close, code, reason)


def test_unmask_is_exact_on_long_payloads(ws):
    """The C twin unmasks 8 bytes at a time: every alignment of the tail reads back exactly."""
    for size in range(0, 40):
        data = bytes(range(size))
        key = b'\x9a\xbc\xde\xf0'
        assert ws.FrameReader(LIMIT).feed(client_frame(data, BINARY, key=key)) == [data]
    data = zlib.crc32(b'seed').to_bytes(4, 'big') * 5000
    assert ws.FrameReader(LIMIT).feed(client_frame(data, BINARY, key=b'\xff\x00\x55\xaa')) == [data]


# -- permessage-deflate (shared by both twins) -----------------------------------------------------

ON = WebSocketCompression(enabled=True, threshold=512, level=3)


@pytest.mark.parametrize(
    ('offer', 'response'),
    [
        # Chrome, Edge, Node's ws and undici.
        ('permessage-deflate; client_max_window_bits', 'permessage-deflate'),
        # Firefox, Safari.
        ('permessage-deflate', 'permessage-deflate'),
        # python websockets' client (server and client window of 12).
        (
            'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12',
            'permessage-deflate; server_max_window_bits=12; client_max_window_bits=12',
        ),
        (
            'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
            'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
        ),
        (
            'permessage-deflate; server_max_window_bits=15',
            'permessage-deflate; server_max_window_bits=15',
        ),
        (
            'permessage-deflate; server_max_window_bits=9',
            'permessage-deflate; server_max_window_bits=9',
        ),
        (
            'permessage-deflate; client_max_window_bits=8',
            'permessage-deflate; client_max_window_bits=8',
        ),
        # Case, spacing and quoted values are tolerated.
        (
            'PerMessage-Deflate ;  Client_Max_Window_Bits = "10" ;',
            'permessage-deflate; client_max_window_bits=10',
        ),
        # The first acceptable offer wins; unknown extensions are skipped.
        (
            'x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=10, permessage-deflate',
            'permessage-deflate; server_max_window_bits=10',
        ),
        # Offers we cannot accept are skipped, not fatal.
        ('permessage-deflate; server_max_window_bits=8, permessage-deflate', 'permessage-deflate'),
        ('permessage-deflate; foo, permessage-deflate', 'permessage-deflate'),
        # Nothing acceptable.
        ('x-webkit-deflate-frame', None),
        ('permessage-deflate; server_max_window_bits=8', None),
        ('permessage-deflate; server_max_window_bits', None),
        ('permessage-deflate; server_max_window_bits=16', None),
        ('permessage-deflate; server_max_window_bits=07', None),
        ('permessage-deflate; server_max_window_bits=1e1', None),
        ('permessage-deflate; client_max_window_bits=7', None),
        ('permessage-deflate; client_max_window_bits=', None),
        ('permessage-deflate; server_no_context_takeover=1', None),
        ('permessage-deflate; client_no_context_takeover; client_no_context_takeover', None),
        ('permessage-deflate; unknown_param', None),
        ('', None),
        (None, None),
    ],
)
def test_negotiate_offers(offer, response):
    deflate, header = negotiate(offer, ON)
    assert header == response
    assert (deflate is None) == (response is None)
    if deflate is not None:
        assert (deflate.level, deflate.threshold) == (3, 512)


def test_negotiate_applies_the_offer_to_the_object():
    offer = 'permessage-deflate; server_no_context_takeover; client_max_window_bits=10'
    deflate, _ = negotiate(offer, ON)
    assert deflate.server_no_context_takeover is True
    assert deflate.client_no_context_takeover is False
    assert (deflate.server_max_window_bits, deflate.client_max_window_bits) == (15, 10)


def test_negotiate_is_off_unless_enabled():
    assert negotiate('permessage-deflate', WebSocketCompression()) == (None, None)


@pytest.mark.parametrize(
    ('offer', 'response', 'window'),
    [
        ('permessage-deflate', 'permessage-deflate; server_max_window_bits=10', 10),
        (
            'permessage-deflate; server_max_window_bits=12',
            'permessage-deflate; server_max_window_bits=10',
            10,
        ),
        (
            'permessage-deflate; server_max_window_bits=9',
            'permessage-deflate; server_max_window_bits=9',
            9,
        ),
    ],
)
def test_negotiate_caps_the_server_window(offer, response, window):
    """The option's server_max_window_bits is announced, the client's smaller cap obeyed."""
    option = WebSocketCompression(enabled=True, server_max_window_bits=10)
    deflate, header = negotiate(offer, option)
    assert header == response
    assert deflate.server_max_window_bits == window


def test_inflate_limit_is_exact():
    data = b'abc' * 100
    compressed = PerMessageDeflate(1, 0).deflate(data)
    assert PerMessageDeflate(1, 0).inflate(compressed, 300) == data
    with pytest.raises(WebSocketProtocolError) as info:
        PerMessageDeflate(1, 0).inflate(compressed, 299)
    assert (info.value.code, info.value.reason) == (
        1009,
        'decompressed message over the limit of 299 bytes',
    )


def test_inflate_stops_a_zip_bomb():
    """10 MB of zeros in about 10 KB: refused after limit + 1 bytes of output."""
    bomb = PerMessageDeflate(9, 0).deflate(b'\0' * 10_000_000)
    assert len(bomb) < 20_000
    with pytest.raises(WebSocketProtocolError) as info:
        PerMessageDeflate(1, 0).inflate(bomb, 1_000_000)
    assert info.value.code == 1009


def test_inflate_refuses_data_that_is_not_deflate():
    with pytest.raises(WebSocketProtocolError) as info:
        PerMessageDeflate(1, 0).inflate(b'\xff\xff\xff', 100)
    assert (info.value.code, info.value.reason) == (1002, 'invalid permessage-deflate data')


def test_inflate_starts_afresh_after_a_final_block():
    """A client may end a message with BFINAL: the next message is a new stream."""
    receiver = PerMessageDeflate(1, 0)
    for data in (b'first', b'second'):
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        assert receiver.inflate(compressor.compress(data) + compressor.flush(), 100) == data


def test_deflate_strips_the_sync_tail():
    out = PerMessageDeflate(1, 0).deflate(b'hello')
    assert not out.endswith(b'\x00\x00\xff\xff')
    assert zlib.decompressobj(-15).decompress(out + b'\x00\x00\xff\xff') == b'hello'


@pytest.mark.parametrize('no_context', [False, True])
def test_context_takeover_shrinks_repeated_messages(no_context):
    """With context takeover a repeated message refers back to the last; without, it cannot."""
    sender = PerMessageDeflate(6, 0, server_no_context_takeover=no_context)
    receiver = PerMessageDeflate(6, 0, client_no_context_takeover=no_context)
    message = bytes(range(256)) * 2
    first, second = sender.deflate(message), sender.deflate(message)
    assert (len(second) == len(first)) is no_context
    assert len(second) < len(first) or no_context
    assert receiver.inflate(first, 10_000) == message
    assert receiver.inflate(second, 10_000) == message


@given(
    messages=st.lists(st.binary(max_size=2000), max_size=6),
    server_no_context=st.booleans(),
    window=st.integers(min_value=9, max_value=15),
    level=st.integers(min_value=-1, max_value=9),
)
def test_deflate_inflate_round_trip(messages, server_no_context, window, level):
    """Property: what the server deflates, a peer with matching settings inflates."""
    sender = PerMessageDeflate(
        level, 0, server_no_context_takeover=server_no_context, server_max_window_bits=window
    )
    receiver = PerMessageDeflate(
        level, 0, client_no_context_takeover=server_no_context, client_max_window_bits=window
    )
    for message in messages:
        assert receiver.inflate(sender.deflate(message), len(message)) == message


def test_compiled_reader_refuses_a_reentrant_feed(ws_c):
    """The C reader parses from its own buffer across Python calls: a nested feed must not move it."""

    class Reentrant:
        def inflate(self, payload: bytes, limit: int) -> bytes:
            reader.feed(client_frame(b'x' * 5000, BINARY))
            return payload

    reader = ws_c.FrameReader(LIMIT, Reentrant())
    frame = client_frame(b'hi', BINARY, rsv=RSV1)
    # With a byte pending, the next feed parses from the reader's own buffer.
    assert reader.feed(frame[:1]) == []
    with pytest.raises(RuntimeError, match='FrameReader.feed is already running'):
        reader.feed(frame[1:])


@given(
    packet_type=st.integers(min_value=-(1 << 70), max_value=1 << 70)
    | st.sampled_from([True, None, 4.0, '4']),
    text=any_text(140) | st.binary(max_size=10) | st.none(),
)
def test_parity_encode_text_packet(ws_py, ws_c, packet_type, text):
    """Property: encode_text_packet returns the same bytes or raises the same error on both twins."""
    assert call(ws_py.encode_text_packet, packet_type, text) == call(
        ws_c.encode_text_packet, packet_type, text
    )
