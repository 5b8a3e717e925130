"""Server-side WebSocket framing (RFC 6455), the pure-Python twin of ``_ws_c``.

How the reader works: ``feed`` appends to one bytearray and walks it frame by
frame.  A frame is judged as soon as the bytes that decide it are there: its
first two bytes (reserved bits, opcode, FIN, mask flag, 7-bit length), then
its extended length, which is checked against ``max_message_size`` before any
payload is buffered.  A complete frame is unmasked and becomes an event:
control frames at once, data frames once their message's last fragment is
in.  The consumed prefix is dropped at the end of each ``feed`` (a bytearray
drops a prefix without copying the rest).

A ``WebSocketProtocolError`` loses the events parsed before it in the same
``feed`` call and leaves the reader unusable: the caller closes the
connection with the error's code.

After ``split_packets()``, a text message that is an Engine.IO packet with
plain text data (type ``0`` to ``7``, then a digit, or with strict JSON
anything that cannot start a JSON value) comes out as ``(type, data)``,
exactly as the codec's ``decode_packet`` reads it.  Any other text stays a
``str`` for the codec.  Control events are told apart by their opcode (8
and up).
"""

from __future__ import annotations

import struct
from operator import index
from typing import TYPE_CHECKING

from .exceptions import EncodeError, WebSocketProtocolError

if TYPE_CHECKING:  # the inflater's type only
    from ._ws_deflate import PerMessageDeflate

TEXT = 0x1
BINARY = 0x2
CLOSE = 0x8
PING = 0x9
PONG = 0xA

_OPCODES = frozenset((0, TEXT, BINARY, CLOSE, PING, PONG))
#: Characters that may begin a JSON value: the codec's set.
_JSON_FIRST_CHARS = frozenset(' \t\n\r"{[-tfnNI0123456789')
_HEADER_16 = struct.Struct('!BBH').pack
_HEADER_64 = struct.Struct('!BBQ').pack
_EMPTY_CLOSE = b'\x88\x00'


def _sendable(code: int) -> bool:
    """Whether ``code`` may appear in a close frame (RFC 6455 section 7.4)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def _unmask(data: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    """XOR ``data`` with the repeated 4-byte ``mask``, as one big integer."""
    n = len(data)
    if not n:
        return b''
    key = (mask * ((n + 3) >> 2))[:n]
    return (int.from_bytes(data, 'little') ^ int.from_bytes(key, 'little')).to_bytes(n, 'little')


def _split_packet(text: str, strict: bool) -> str | tuple:
    """``(type, data)`` of a text Engine.IO packet whose data the codec would keep
    as text without a JSON attempt, else ``text`` unchanged."""
    if not text or not '0' <= text[0] <= '7':
        return text
    if len(text) == 1:
        return (ord(text[0]) - 48, '')
    lead = text[1]
    if lead.isnumeric() or (strict and lead not in _JSON_FIRST_CHARS):
        return (ord(text[0]) - 48, text[1:])
    return text


def _close_event(payload: bytes) -> tuple:
    """``(CLOSE, code or None, reason)`` from a close frame's payload."""
    if not payload:
        return (CLOSE, None, '')
    if len(payload) == 1:
        raise WebSocketProtocolError(1002, 'close frame payload of 1 byte')
    code = payload[0] << 8 | payload[1]
    if not _sendable(code):
        raise WebSocketProtocolError(1002, 'close code %d may not be sent' % code)
    try:
        reason = payload[2:].decode('utf-8')
    except UnicodeDecodeError:
        raise WebSocketProtocolError(1007, 'close reason is not valid UTF-8') from None
    return (CLOSE, code, reason)


class FrameReader:
    """Turns a client's byte stream into messages and control frames.

    :param max_message_size: the largest message accepted, in bytes (the
                             sum of its fragments, and its inflated size).
    :param inflate: the negotiated permessage-deflate object (anything with
                    ``inflate(payload, limit) -> bytes``), or None.
    """

    def __init__(self, max_message_size: int, inflate: PerMessageDeflate | None = None) -> None:
        max_message_size = index(max_message_size)
        if max_message_size < 0:
            raise ValueError('max_message_size must be >= 0')
        self._buffer = bytearray()
        self._max = max_message_size
        self._inflate = inflate
        #: TEXT or BINARY while a fragmented message is in progress, else 0.
        self._opcode = 0
        self._compressed = False
        self._fragments: list[bytes] = []
        self._size = 0
        #: None, or whether the JSON decoder is strict (``split_packets``).
        self._split: bool | None = None

    def split_packets(self, strict_json: bool) -> None:
        """From now on, return text Engine.IO packets split as ``(type, data)``.

        :param strict_json: the codec's ``loads`` accepts exactly the JSON
                            grammar, so text that cannot start a JSON value is
                            never given to it.
        """
        self._split = bool(strict_json)

    def feed(self, data: bytes | bytearray | memoryview) -> list:
        """Add ``data`` and return the events of every frame it completes.

        :param data: the next bytes from the client, split anywhere.
        :returns: in stream order, ``str`` and ``bytes`` messages (and
                  ``(type, data)`` packets after ``split_packets``),
                  ``(PING, payload)``, ``(PONG, payload)`` and
                  ``(CLOSE, code or None, reason)`` tuples.
        :raises WebSocketProtocolError: the client broke the protocol; the events
                                        parsed before it in this call are lost,
                                        and the reader is unusable after it.
        """
        buffer = self._buffer
        try:
            buffer += data
        except TypeError:
            raise TypeError(
                'feed() needs a C-contiguous bytes-like object, not %s' % type(data).__name__
            ) from None
        events: list = []
        pos = 0
        end = len(buffer)
        while end - pos >= 2:
            first = buffer[pos]
            second = buffer[pos + 1]
            opcode = first & 0x0F
            self._check_header(first, second, opcode)
            length = second & 0x7F
            if length == 126:
                if end - pos < 4:
                    break
                length = buffer[pos + 2] << 8 | buffer[pos + 3]
                head = pos + 4
            elif length == 127:
                if end - pos < 10:
                    break
                length = int.from_bytes(buffer[pos + 2 : pos + 10], 'big')
                if length >> 63:
                    raise WebSocketProtocolError(1002, 'frame length has its top bit set')
                head = pos + 10
            else:
                head = pos + 2
            if opcode < CLOSE and self._size + length > self._max:
                raise WebSocketProtocolError(
                    1009,
                    'message of %d bytes over the limit of %d' % (self._size + length, self._max),
                )
            start = head + 4
            if end - start < length:
                break
            pos = start + length
            payload = _unmask(buffer[start:pos], buffer[head:start])
            if opcode >= CLOSE:
                events.append(_close_event(payload) if opcode == CLOSE else (opcode, payload))
            elif opcode:
                if first & 0x80:
                    events.append(self._message(opcode, first & 0x40, payload))
                else:
                    self._opcode = opcode
                    self._compressed = bool(first & 0x40)
                    self._fragments = [payload]
                    self._size = length
            else:
                self._fragments.append(payload)
                self._size += length
                if first & 0x80:
                    message = b''.join(self._fragments)
                    events.append(self._message(self._opcode, self._compressed, message))
                    self._opcode = 0
                    self._fragments = []
                    self._size = 0
        del buffer[:pos]
        return events

    def _check_header(self, first: int, second: int, opcode: int) -> None:
        """Refuse a frame on its first two bytes."""
        if first & 0x30:
            raise WebSocketProtocolError(1002, 'RSV2 or RSV3 set')
        if opcode > PONG or BINARY < opcode < CLOSE:
            raise WebSocketProtocolError(1002, 'unknown opcode %d' % opcode)
        if opcode >= CLOSE:
            if not first & 0x80:
                raise WebSocketProtocolError(1002, 'fragmented control frame')
            if second & 0x7F > 125:
                raise WebSocketProtocolError(1002, 'control frame payload over 125 bytes')
            if first & 0x40:
                raise WebSocketProtocolError(1002, 'RSV1 set on a control frame')
        elif opcode:
            if self._opcode:
                raise WebSocketProtocolError(1002, 'data frame inside a fragmented message')
            if first & 0x40 and self._inflate is None:
                raise WebSocketProtocolError(1002, 'RSV1 set without permessage-deflate')
        else:
            if not self._opcode:
                raise WebSocketProtocolError(
                    1002, 'continuation frame without a message in progress'
                )
            if first & 0x40:
                raise WebSocketProtocolError(1002, 'RSV1 set on a continuation frame')
        if not second & 0x80:
            raise WebSocketProtocolError(1002, 'client frame is not masked')

    def _message(self, opcode: int, compressed: int, payload: bytes) -> str | bytes | tuple:
        """A complete message: inflated if compressed, decoded if text."""
        if compressed:
            # _check_header refused RSV1 when no inflater was negotiated.
            payload = self._inflate.inflate(payload, self._max)  # type: ignore[union-attr]
        if opcode == BINARY:
            return payload
        try:
            text = payload.decode('utf-8')
        except UnicodeDecodeError:
            raise WebSocketProtocolError(1007, 'text message is not valid UTF-8') from None
        return text if self._split is None else _split_packet(text, self._split)


def encode_frame(
    payload: str | bytes | bytearray | memoryview, opcode: int = 0, rsv1: bool = False
) -> bytes:
    """One unmasked frame with FIN set.

    :param payload: ``str`` (sent UTF-8 encoded) or a bytes-like object.
    :param opcode: 0 picks TEXT for ``str`` and BINARY for bytes; or any
                   of TEXT, BINARY, CLOSE, PING, PONG.
    :param rsv1: set RSV1 (a permessage-deflate compressed message).
    """
    if opcode not in _OPCODES:
        raise EncodeError('unknown opcode %r' % (opcode,))
    if isinstance(payload, str):
        try:
            payload = payload.encode('utf-8')
        except UnicodeEncodeError:
            raise EncodeError('frame text is not valid UTF-8') from None
        size = len(payload)
        opcode = opcode or TEXT
    else:
        try:
            with memoryview(payload) as view:
                size = view.nbytes if view.c_contiguous else -1
        except TypeError:
            size = -1
        if size < 0:
            raise TypeError(
                'payload must be str or a C-contiguous bytes-like object, not %s'
                % type(payload).__name__
            )
        opcode = opcode or BINARY
    if opcode >= CLOSE:
        if size > 125:
            raise EncodeError('control frame payload over 125 bytes')
        if rsv1:
            raise EncodeError('RSV1 set on a control frame')
    first = 0xC0 | opcode if rsv1 else 0x80 | opcode
    if size < 126:
        header = bytes((first, size))
    elif size < 65536:
        header = _HEADER_16(first, 126, size)
    else:
        header = _HEADER_64(first, 127, size)
    return header + payload


def encode_text_packet(packet_type: int, text: str) -> bytes:
    """The TEXT frame of an Engine.IO packet with text data: ``str(packet_type) + text``.

    :param packet_type: the packet type, an int.
    :param text: the packet's data, a ``str``.
    """
    if type(packet_type) is not int:
        raise TypeError('packet type must be int, not %s' % type(packet_type).__name__)
    if type(text) is not str:
        raise TypeError('packet text must be str, not %s' % type(text).__name__)
    return encode_frame(str(packet_type) + text, TEXT)


def encode_close(code: int | None = None, reason: str = '') -> bytes:
    """A close frame: empty when ``code`` is None, else the code and ``reason``."""
    if code is None:
        if reason:
            raise EncodeError('a close reason needs a close code')
        return _EMPTY_CLOSE
    if not _sendable(code):
        raise EncodeError('close code %r may not be sent' % (code,))
    try:
        encoded = reason.encode('utf-8')
    except UnicodeEncodeError:
        raise EncodeError('close reason is not valid UTF-8') from None
    return encode_frame(code.to_bytes(2, 'big') + encoded, CLOSE)
