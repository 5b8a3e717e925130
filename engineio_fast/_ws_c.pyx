# cython: language_level=3, embedsignature=True, freethreading_compatible=True
"""Server-side WebSocket framing (RFC 6455), compiled twin of ``_ws_py``.

Same names, events and exceptions as the pure-Python twin, which is the
specification.  What this module adds is cost: while nothing is pending,
``feed`` parses the caller's buffer in place and keeps only an incomplete
tail; otherwise it appends to a C buffer that is compacted only when it
would have to grow.  Payloads are unmasked 8 bytes at a time straight into
the result object (or a stack buffer for text, decoded by
``PyUnicode_DecodeUTF8``).
"""

from operator import index

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_CheckBuffer, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memcpy, memmove

from .exceptions import EncodeError, WebSocketProtocolError


cdef extern from "Python.h":
    bint Py_UNICODE_ISNUMERIC(Py_UCS4 ch)
    object PyUnicode_DecodeUTF8(const char* data, Py_ssize_t size, const char* errors)
    const char* PyUnicode_AsUTF8AndSize(object text, Py_ssize_t* size) except NULL
    Py_ssize_t PY_SSIZE_T_MAX


cdef enum:
    _TEXT = 0x1
    _BINARY = 0x2
    _CLOSE = 0x8
    _PING = 0x9
    _PONG = 0xA
    # Text payloads up to this size are unmasked on the stack.
    _STACK_TEXT = 512
    # An empty buffer larger than this is freed rather than kept.
    _KEEP_BUFFER = 65536

TEXT = _TEXT
BINARY = _BINARY
CLOSE = _CLOSE
PING = _PING
PONG = _PONG

cdef bytes _EMPTY_CLOSE = b'\x88\x00'


cdef int _get_buffer(object data, Py_buffer* view, str error) except -1:
    """A contiguous view of ``data``, or the twin's TypeError naming its type."""
    if PyObject_CheckBuffer(data):
        try:
            PyObject_GetBuffer(data, view, PyBUF_SIMPLE)
            return 0
        except BufferError:
            pass
    raise TypeError(error % type(data).__name__)


cdef inline bint _sendable(int code) noexcept:
    """Whether ``code`` may appear in a close frame (RFC 6455 section 7.4)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


cdef inline void _unmask(
    unsigned char* dst, const unsigned char* src, Py_ssize_t n, const unsigned char* mask
) noexcept:
    """XOR ``n`` bytes of ``src`` with the repeated 4-byte ``mask`` into ``dst``."""
    cdef uint32_t key4
    cdef uint64_t key8, chunk
    cdef Py_ssize_t i = 0
    memcpy(&key4, mask, 4)
    # Both halves hold the mask bytes in wire order, whatever the endianness.
    key8 = (<uint64_t>key4 << 32) | key4
    while i + 8 <= n:
        memcpy(&chunk, src + i, 8)
        chunk ^= key8
        memcpy(dst + i, &chunk, 8)
        i += 8
    while i < n:
        dst[i] = src[i] ^ mask[i & 3]
        i += 1


cdef inline bytes _unmask_bytes(const unsigned char* src, Py_ssize_t n, const unsigned char* mask):
    """The unmasked payload as a new ``bytes``."""
    cdef bytes out = PyBytes_FromStringAndSize(NULL, n)
    _unmask(<unsigned char*>PyBytes_AS_STRING(out), src, n, mask)
    return out


cdef inline bint _json_can_start(Py_UCS4 ch) noexcept:
    """Whether ``ch`` may begin a JSON value: the codec's set."""
    return ch < 128 and ch in ' \t\n\r"{[-tfnNI0123456789'


cdef object _split_packet(str text, int strict):
    """``(type, data)`` of a text Engine.IO packet whose data the codec would keep
    as text without a JSON attempt, else ``text`` unchanged (the twin's rule)."""
    cdef Py_ssize_t n = len(text)
    cdef Py_UCS4 first, lead
    if n == 0:
        return text
    first = text[0]
    if first < u'0' or first > u'7':
        return text
    if n == 1:
        return (<int>first - 48, '')
    lead = text[1]
    if Py_UNICODE_ISNUMERIC(lead) or (strict and not _json_can_start(lead)):
        return (<int>first - 48, text[1:])
    return text


cdef object _decode_text(const unsigned char* buf, Py_ssize_t n, int split):
    """A text payload decoded as strict UTF-8 (1007 when it is not); with ``split``
    >= 0, its ``_split_packet``, the data decoded without the whole."""
    cdef unsigned char first, lead
    try:
        if split >= 0 and n >= 2:
            first = buf[0]
            lead = buf[1]
            if (
                c'0' <= first <= c'7'
                and lead < 128
                and (c'0' <= lead <= c'9' or (split and not _json_can_start(lead)))
            ):
                return (first - 48, PyUnicode_DecodeUTF8(<const char*>buf + 1, n - 1, NULL))
        text = PyUnicode_DecodeUTF8(<const char*>buf, n, NULL)
    except UnicodeDecodeError:
        raise WebSocketProtocolError(1007, 'text message is not valid UTF-8') from None
    return text if split < 0 else _split_packet(text, split)


cdef object _unmask_text(
    const unsigned char* src, Py_ssize_t n, const unsigned char* mask, int split
):
    """``_decode_text`` of the unmasked payload, unmasked on the stack when small."""
    cdef unsigned char stack[_STACK_TEXT]
    cdef unsigned char* buf = stack
    if n > _STACK_TEXT:
        buf = <unsigned char*>PyMem_Malloc(n)
        if buf == NULL:
            raise MemoryError()
    try:
        _unmask(buf, src, n, mask)
        return _decode_text(buf, n, split)
    finally:
        if buf != stack:
            PyMem_Free(buf)


cdef tuple _close_event(bytes payload):
    """``(CLOSE, code or None, reason)`` from a close frame's payload."""
    cdef Py_ssize_t n = len(payload)
    cdef int code
    if n == 0:
        return (CLOSE, None, '')
    if n == 1:
        raise WebSocketProtocolError(1002, 'close frame payload of 1 byte')
    code = (<unsigned char>payload[0]) << 8 | <unsigned char>payload[1]
    if not _sendable(code):
        raise WebSocketProtocolError(1002, 'close code %d may not be sent' % code)
    try:
        reason = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(payload) + 2, n - 2, NULL)
    except UnicodeDecodeError:
        raise WebSocketProtocolError(1007, 'close reason is not valid UTF-8') from None
    return (CLOSE, code, reason)


cdef class FrameReader:
    """Turns a client's byte stream into messages and control frames.

    :param max_message_size: the largest message accepted, in bytes (the
                             sum of its fragments, and its inflated size).
    :param inflate: the negotiated permessage-deflate object (anything with
                    ``inflate(payload, limit) -> bytes``), or None.
    """

    cdef unsigned char* _buf
    cdef Py_ssize_t _start, _end, _cap
    cdef Py_ssize_t _max
    cdef object _max_obj
    cdef object _inflate
    # TEXT or BINARY while a fragmented message is in progress, else 0.
    cdef int _opcode
    cdef bint _compressed
    cdef list _fragments
    cdef Py_ssize_t _size
    # Set while feed runs: _parse holds a pointer into _buf across Python calls.
    cdef bint _busy
    # -1, or whether the JSON decoder is strict (split_packets).
    cdef int _split

    def __init__(self, max_message_size, inflate=None):
        max_message_size = index(max_message_size)
        if max_message_size < 0:
            raise ValueError('max_message_size must be >= 0')
        # No frame can reach past PY_SSIZE_T_MAX, so a larger limit is the same.
        self._max = min(max_message_size, PY_SSIZE_T_MAX)
        self._max_obj = max_message_size
        self._inflate = inflate
        self._fragments = []
        self._split = -1

    def split_packets(self, strict_json):
        """From now on, return text Engine.IO packets split as ``(type, data)``.

        :param strict_json: the codec's ``loads`` accepts exactly the JSON
                            grammar, so text that cannot start a JSON value is
                            never given to it.
        """
        self._split = 1 if strict_json else 0

    def __dealloc__(self):
        PyMem_Free(self._buf)

    def feed(self, data):
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
        cdef Py_buffer view
        cdef list events = []
        cdef Py_ssize_t used
        if self._busy:
            raise RuntimeError('FrameReader.feed is already running (another thread?)')
        _get_buffer(data, &view, 'feed() needs a C-contiguous bytes-like object, not %s')
        self._busy = True
        try:
            if self._start == self._end:
                # Nothing pending: parse the caller's bytes, keep only the tail.
                used = self._parse(<const unsigned char*>view.buf, view.len, events)
                if used < view.len:
                    self._start = self._end = 0
                    self._append(<const unsigned char*>view.buf + used, view.len - used)
            else:
                self._append(<const unsigned char*>view.buf, view.len)
                used = self._parse(self._buf + self._start, self._end - self._start, events)
                self._start += used
                if self._start == self._end:
                    self._start = self._end = 0
                    if self._cap > _KEEP_BUFFER:
                        PyMem_Free(self._buf)
                        self._buf = NULL
                        self._cap = 0
        finally:
            PyBuffer_Release(&view)
            self._busy = False
        return events

    cdef int _append(self, const unsigned char* data, Py_ssize_t n) except -1:
        """Copy ``n`` bytes after the pending ones, compacting or growing if needed."""
        cdef Py_ssize_t pending, cap
        cdef unsigned char* grown
        if self._end + n > self._cap:
            pending = self._end - self._start
            if self._start:
                memmove(self._buf, self._buf + self._start, pending)
                self._start = 0
                self._end = pending
            if pending + n > self._cap:
                cap = max(self._cap * 2, pending + n, 1024)
                grown = <unsigned char*>PyMem_Realloc(self._buf, cap)
                if grown == NULL:
                    raise MemoryError()
                self._buf = grown
                self._cap = cap
        memcpy(self._buf + self._end, data, n)
        self._end += n
        return 0

    cdef Py_ssize_t _parse(self, const unsigned char* p, Py_ssize_t n, list events) except -1:
        """Turn every complete frame in ``p[:n]`` into events; return the bytes used."""
        cdef Py_ssize_t pos = 0, avail, head, start
        cdef unsigned char first, second
        cdef int opcode
        cdef uint64_t length
        cdef int i
        while n - pos >= 2:
            first = p[pos]
            second = p[pos + 1]
            opcode = first & 0x0F
            self._check_header(first, second, opcode)
            avail = n - pos
            length = second & 0x7F
            if length == 126:
                if avail < 4:
                    break
                length = (<uint64_t>p[pos + 2] << 8) | p[pos + 3]
                head = pos + 4
            elif length == 127:
                if avail < 10:
                    break
                length = 0
                for i in range(2, 10):
                    length = (length << 8) | p[pos + i]
                if length >> 63:
                    raise WebSocketProtocolError(1002, 'frame length has its top bit set')
                head = pos + 10
            else:
                head = pos + 2
            if opcode < _CLOSE and <uint64_t>self._size + length > <uint64_t>self._max:
                raise WebSocketProtocolError(
                    1009,
                    'message of %d bytes over the limit of %d' % (self._size + length, self._max_obj),
                )
            start = head + 4
            if start > n or <uint64_t>(n - start) < length:
                break
            self._frame(first, opcode, p + start, <Py_ssize_t>length, p + head, events)
            pos = start + <Py_ssize_t>length
        return pos

    cdef int _check_header(self, unsigned char first, unsigned char second, int opcode) except -1:
        """Refuse a frame on its first two bytes."""
        if first & 0x30:
            raise WebSocketProtocolError(1002, 'RSV2 or RSV3 set')
        if opcode > _PONG or _BINARY < opcode < _CLOSE:
            raise WebSocketProtocolError(1002, 'unknown opcode %d' % opcode)
        if opcode >= _CLOSE:
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
        return 0

    cdef int _frame(
        self,
        unsigned char first,
        int opcode,
        const unsigned char* data,
        Py_ssize_t length,
        const unsigned char* mask,
        list events,
    ) except -1:
        """Handle one complete, checked frame."""
        if opcode >= _CLOSE:
            payload = _unmask_bytes(data, length, mask)
            events.append(_close_event(payload) if opcode == _CLOSE else (opcode, payload))
        elif opcode:
            if not first & 0x80:
                self._opcode = opcode
                self._compressed = first & 0x40
                self._fragments = [_unmask_bytes(data, length, mask)]
                self._size = length
            elif opcode == _TEXT and not first & 0x40:
                events.append(_unmask_text(data, length, mask, self._split))
            else:
                events.append(
                    self._message(opcode, first & 0x40, _unmask_bytes(data, length, mask))
                )
        else:
            self._fragments.append(_unmask_bytes(data, length, mask))
            self._size += length
            if first & 0x80:
                message = b''.join(self._fragments)
                events.append(self._message(self._opcode, self._compressed, message))
                self._opcode = 0
                self._fragments = []
                self._size = 0
        return 0

    cdef object _message(self, int opcode, bint compressed, object payload):
        """A complete message: inflated if compressed, decoded if text."""
        cdef bytes data
        if compressed:
            payload = self._inflate.inflate(payload, self._max_obj)
        if opcode == _BINARY:
            return payload
        data = payload
        return _decode_text(<const unsigned char*>PyBytes_AS_STRING(data), len(data), self._split)


cdef bytes _build(
    const unsigned char* data, Py_ssize_t size, int opcode, bint rsv1, int prefix=-1
):
    """An unmasked FIN frame around ``data`` (after the byte ``prefix``, if >= 0)."""
    cdef Py_ssize_t head, i
    cdef bytes frame
    cdef unsigned char* out
    if prefix >= 0:
        size += 1
    if opcode >= _CLOSE:
        if size > 125:
            raise EncodeError('control frame payload over 125 bytes')
        if rsv1:
            raise EncodeError('RSV1 set on a control frame')
    head = 2 if size < 126 else 4 if size < 65536 else 10
    frame = PyBytes_FromStringAndSize(NULL, head + size)
    out = <unsigned char*>PyBytes_AS_STRING(frame)
    out[0] = (0xC0 if rsv1 else 0x80) | opcode
    if head == 2:
        out[1] = <unsigned char>size
    elif head == 4:
        out[1] = 126
        out[2] = <unsigned char>(size >> 8)
        out[3] = <unsigned char>size
    else:
        out[1] = 127
        for i in range(8):
            out[9 - i] = <unsigned char>(<uint64_t>size >> (8 * i))
    if prefix >= 0:
        out[head] = <unsigned char>prefix
        head += 1
        size -= 1
    memcpy(out + head, data, size)
    return frame


def encode_frame(payload, int opcode=0, bint rsv1=False):
    """One unmasked frame with FIN set.

    :param payload: ``str`` (sent UTF-8 encoded) or a bytes-like object.
    :param opcode: 0 picks TEXT for ``str`` and BINARY for bytes; or any
                   of TEXT, BINARY, CLOSE, PING, PONG.
    :param rsv1: set RSV1 (a permessage-deflate compressed message).
    """
    cdef Py_buffer view
    cdef const char* text
    cdef Py_ssize_t size
    if not (0 <= opcode <= _BINARY or _CLOSE <= opcode <= _PONG):
        raise EncodeError('unknown opcode %r' % (opcode,))
    if isinstance(payload, str):
        try:
            text = PyUnicode_AsUTF8AndSize(payload, &size)
        except UnicodeEncodeError:
            raise EncodeError('frame text is not valid UTF-8') from None
        return _build(<const unsigned char*>text, size, opcode or _TEXT, rsv1)
    _get_buffer(payload, &view, 'payload must be str or a C-contiguous bytes-like object, not %s')
    try:
        return _build(<const unsigned char*>view.buf, view.len, opcode or _BINARY, rsv1)
    finally:
        PyBuffer_Release(&view)


def encode_text_packet(packet_type, text):
    """The TEXT frame of an Engine.IO packet with text data: ``str(packet_type) + text``.

    :param packet_type: the packet type, an int.
    :param text: the packet's data, a ``str``.
    """
    cdef const char* utf8
    cdef Py_ssize_t size
    if type(packet_type) is not int:
        raise TypeError('packet type must be int, not %s' % type(packet_type).__name__)
    if type(text) is not str:
        raise TypeError('packet text must be str, not %s' % type(text).__name__)
    if not 0 <= packet_type <= 9:
        return encode_frame(str(packet_type) + text, _TEXT)
    try:
        utf8 = PyUnicode_AsUTF8AndSize(text, &size)
    except UnicodeEncodeError:
        raise EncodeError('frame text is not valid UTF-8') from None
    return _build(<const unsigned char*>utf8, size, _TEXT, False, 48 + <int>packet_type)


def encode_close(code=None, reason=''):
    """A close frame: empty when ``code`` is None, else the code and ``reason``."""
    if code is None:
        if reason:
            raise EncodeError('a close reason needs a close code')
        return _EMPTY_CLOSE
    if not (1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999):
        raise EncodeError('close code %r may not be sent' % (code,))
    try:
        reason = reason.encode('utf-8')
    except UnicodeEncodeError:
        raise EncodeError('close reason is not valid UTF-8') from None
    return encode_frame(code.to_bytes(2, 'big') + reason, _CLOSE)
