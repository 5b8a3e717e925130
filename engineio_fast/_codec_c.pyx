# cython: language_level=3, embedsignature=True, freethreading_compatible=True
"""Engine.IO v4 codec, compiled twin of ``_codec_py``.

Same functions, results and exceptions as the pure-Python twin, which is the
specification; this module only makes them cheap: base64 is done in C loops
writing straight into the result object, packets are sliced without
intermediate objects, and ASCII bodies are joined with ``memcpy``.
"""

import json as _stdlib_json
from json.encoder import c_make_encoder
from operator import index as _index
from json.encoder import encode_basestring_ascii as _json_string
from urllib.parse import unquote_plus

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.long cimport PyLong_AsLongAndOverflow
from libc.string cimport memcpy

from . import json as _safe_json
from ._constants import RECORD_SEPARATOR
from ._http_compression import compress as compress
from ._http_compression import decompress as decompress
from .exceptions import ContentTooLongError, DecodeError, EncodeError


cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void* PyUnicode_DATA(object text)
    int PyUnicode_KIND(object text)
    bint PyUnicode_IS_ASCII(object text)
    Py_ssize_t PyUnicode_GET_LENGTH(object text)
    Py_UCS4 PyUnicode_READ_CHAR(object text, Py_ssize_t index)
    object PyUnicode_Substring(object text, Py_ssize_t start, Py_ssize_t end)
    object PyUnicode_DecodeUTF8(const char* data, Py_ssize_t size, const char* errors)
    bint Py_UNICODE_ISNUMERIC(Py_UCS4 ch)
    int PyUnicode_1BYTE_KIND
    int PyUnicode_2BYTE_KIND


cdef enum:
    MESSAGE = 4

cdef tuple _DIGITS = tuple('0123456789')
cdef tuple _COMPACT = (',', ':')
# A cached C encoder without circular check; RecursionError is retried
# through the full encoder so circular data raises json's own ValueError.
cdef object _COMPACT_ENCODER = _stdlib_json.JSONEncoder(separators=_COMPACT)
cdef object _compact_chunks = (
    c_make_encoder(None, _COMPACT_ENCODER.default, _json_string, None, ':', ',', False, False, True)
    if c_make_encoder is not None
    else None
)
cdef object _stdlib_dumps = _stdlib_json.dumps
cdef object _guarded_loads = _safe_json.loads
# The loaders whose grammar we know (a live set: json_fast adds its own).
cdef object _strict_loads = _safe_json._STRICT_LOADS
cdef tuple _BINARY_TYPES = (bytes, bytearray, memoryview)

cdef const char* _B64_ALPHABET = b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
cdef signed char _B64_VALUE[256]
# Every 12-bit value as its two base64 characters: half the lookups.
cdef unsigned short _B64_PAIR[4096]


cdef void _init_b64_table() noexcept:
    cdef int i
    for i in range(256):
        _B64_VALUE[i] = -1
    for i in range(64):
        _B64_VALUE[<unsigned char>_B64_ALPHABET[i]] = <signed char>i
    for i in range(4096):
        (<unsigned char*>&_B64_PAIR[i])[0] = _B64_ALPHABET[i >> 6]
        (<unsigned char*>&_B64_PAIR[i])[1] = _B64_ALPHABET[i & 63]


_init_b64_table()


# -- helpers -----------------------------------------------------------------


cdef inline bint _json_can_start(Py_UCS4 ch) noexcept:
    """True when ``ch`` may begin a JSON value (after optional whitespace)."""
    if ch >= 128:
        return False
    return ch in ' \t\n\r"{[-tfnNI0123456789'


cdef inline object _type_text(object ptype):
    """``str(ptype)``, without a conversion for the usual single digit."""
    cdef int overflow = 0
    cdef long value
    if type(ptype) is int:
        value = PyLong_AsLongAndOverflow(ptype, &overflow)
        if overflow == 0 and 0 <= value <= 9:
            return _DIGITS[value]
    return str(ptype)


cdef str _b64_encode_ptr(const unsigned char* src, Py_ssize_t size, bint prefix):
    """Base64 of ``src`` as a new ASCII str, optionally led by ``b``."""
    cdef Py_ssize_t out_len = ((size + 2) // 3) * 4 + (1 if prefix else 0)
    cdef object out = PyUnicode_New(out_len, 127)
    cdef unsigned char* dst = <unsigned char*>PyUnicode_DATA(out)
    cdef Py_ssize_t i = 0
    cdef Py_ssize_t full = size - size % 3
    cdef unsigned int chunk
    if prefix:
        dst[0] = b'b'
        dst += 1
    while i < full:
        chunk = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2]
        memcpy(dst, &_B64_PAIR[chunk >> 12], 2)
        memcpy(dst + 2, &_B64_PAIR[chunk & 4095], 2)
        dst += 4
        i += 3
    if size - full == 1:
        chunk = src[i] << 16
        dst[0] = _B64_ALPHABET[(chunk >> 18) & 63]
        dst[1] = _B64_ALPHABET[(chunk >> 12) & 63]
        dst[2] = b'='
        dst[3] = b'='
    elif size - full == 2:
        chunk = (src[i] << 16) | (src[i + 1] << 8)
        dst[0] = _B64_ALPHABET[(chunk >> 18) & 63]
        dst[1] = _B64_ALPHABET[(chunk >> 12) & 63]
        dst[2] = _B64_ALPHABET[(chunk >> 6) & 63]
        dst[3] = b'='
    return out


cdef str _b64_encode_obj(object data, bint prefix):
    """Base64 of a bytes-like object, through the buffer protocol if needed."""
    cdef Py_buffer view
    if type(data) is bytes:
        return _b64_encode_ptr(<const unsigned char*>PyBytes_AS_STRING(data),
                               PyBytes_GET_SIZE(data), prefix)
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        return _b64_encode_ptr(<const unsigned char*>view.buf, view.len, prefix)
    finally:
        PyBuffer_Release(&view)


cdef bytes _b64_decode_ptr(const unsigned char* src, Py_ssize_t size):
    """Strict base64 decode: padding required, standard alphabet only."""
    cdef Py_ssize_t pad = 0
    cdef Py_ssize_t i
    cdef Py_ssize_t last
    cdef int a, b, c, d
    cdef bytes out
    cdef unsigned char* dst
    if size % 4:
        raise DecodeError('Invalid base64 data')
    if size == 0:
        return b''
    if src[size - 1] == b'=':
        pad = 2 if src[size - 2] == b'=' else 1
    out = PyBytes_FromStringAndSize(NULL, (size // 4) * 3 - pad)
    dst = <unsigned char*>PyBytes_AS_STRING(out)
    last = size - 4
    i = 0
    while i < last:
        a = _B64_VALUE[src[i]]
        b = _B64_VALUE[src[i + 1]]
        c = _B64_VALUE[src[i + 2]]
        d = _B64_VALUE[src[i + 3]]
        if (a | b | c | d) < 0:
            raise DecodeError('Invalid base64 data')
        dst[0] = <unsigned char>((a << 2) | (b >> 4))
        dst[1] = <unsigned char>((b << 4) | (c >> 2))
        dst[2] = <unsigned char>((c << 6) | d)
        dst += 3
        i += 4
    a = _B64_VALUE[src[i]]
    b = _B64_VALUE[src[i + 1]]
    if (a | b) < 0:
        raise DecodeError('Invalid base64 data')
    dst[0] = <unsigned char>((a << 2) | (b >> 4))
    if pad == 2:
        return out
    c = _B64_VALUE[src[i + 2]]
    if c < 0:
        raise DecodeError('Invalid base64 data')
    dst[1] = <unsigned char>((b << 4) | (c >> 2))
    if pad == 1:
        return out
    d = _B64_VALUE[src[i + 3]]
    if d < 0:
        raise DecodeError('Invalid base64 data')
    dst[2] = <unsigned char>((c << 6) | d)
    return out


cdef bytes _b64_decode_text(object text, Py_ssize_t start):
    """Decode ``text[start:]`` as strict base64 without slicing it."""
    if not PyUnicode_IS_ASCII(text):
        raise DecodeError('Invalid base64 data')
    return _b64_decode_ptr(<const unsigned char*>PyUnicode_DATA(text) + start,
                           PyUnicode_GET_LENGTH(text) - start)


cdef object _compact_json(object data):
    """``json.dumps(data, separators=(',', ':'))``, with a cached encoder."""
    if _compact_chunks is None:
        return _COMPACT_ENCODER.encode(data)
    try:
        return ''.join(_compact_chunks(data, 0))
    except RecursionError:
        return _COMPACT_ENCODER.encode(data)


# -- packets -----------------------------------------------------------------


def encode_packet(ptype, data, b64, dumps):
    """Encode one packet: text form, raw bytes, or ``b``-prefixed base64."""
    if isinstance(data, str):
        return _type_text(ptype) + data
    if isinstance(data, _BINARY_TYPES):
        if ptype != MESSAGE:
            raise EncodeError('Binary packets can only be of type MESSAGE')
        if b64:
            return _b64_encode_obj(data, True)
        return data if type(data) is bytes else bytes(data)
    if data is None:
        return _type_text(ptype)
    if isinstance(data, (dict, list)):
        if dumps is _stdlib_dumps:
            return _type_text(ptype) + _compact_json(data)
        return _type_text(ptype) + dumps(data, separators=_COMPACT)
    return _type_text(ptype) + str(data)


def decode_packet(encoded, loads):
    """Decode one packet into ``(packet_type, data, binary)``."""
    cdef Py_ssize_t size
    cdef Py_UCS4 first
    cdef Py_UCS4 lead
    cdef int ptype
    cdef object rest
    if type(encoded) is bytes:
        return (MESSAGE, encoded, True)
    if isinstance(encoded, str):
        size = PyUnicode_GET_LENGTH(encoded)
        if size == 0:
            raise DecodeError('Invalid empty packet received')
        first = PyUnicode_READ_CHAR(encoded, 0)
        if first == u'b':
            return (MESSAGE, _b64_decode_text(encoded, 1), True)
        if first < u'0' or first > u'9':
            raise DecodeError('Invalid packet type')
        ptype = <int>first - 48
        if size == 1:
            return (ptype, '', False)
        rest = PyUnicode_Substring(encoded, 1, size)
        lead = PyUnicode_READ_CHAR(encoded, 1)
        # Numbers stay text (upstream issue 75: "4123" is the string "123").
        if Py_UNICODE_ISNUMERIC(lead):
            return (ptype, rest, False)
        if not _json_can_start(lead) and (loads is _guarded_loads or loads in _strict_loads):
            return (ptype, rest, False)
        try:
            return (ptype, loads(rest), False)
        except ValueError:
            return (ptype, rest, False)
        except RecursionError:
            raise DecodeError('Packet data is nested too deeply') from None
    if isinstance(encoded, _BINARY_TYPES):
        return (MESSAGE, bytes(encoded), True)
    raise TypeError('Packet must be str or bytes-like, not ' + type(encoded).__name__)


# -- payloads ----------------------------------------------------------------


def encode_payload(encoded):
    """Join text-form packets into one polling payload."""
    return RECORD_SEPARATOR.join(encoded)


def encode_payload_bytes(encoded, jsonp_index=None):
    """Join text-form packets into a UTF-8 response body, JSONP-wrapped if asked."""
    cdef list items
    cdef Py_ssize_t total = 0
    cdef Py_ssize_t count
    cdef Py_ssize_t length
    cdef Py_ssize_t i
    cdef bytes out
    cdef char* dst
    cdef object item
    if jsonp_index is not None:
        return jsonp_wrap(RECORD_SEPARATOR.join(encoded), jsonp_index).encode('ascii')
    items = encoded if type(encoded) is list else list(encoded)
    count = len(items)
    for i in range(count):
        item = items[i]
        if type(item) is not str or not PyUnicode_IS_ASCII(item):
            total = -1
            break
        total += PyUnicode_GET_LENGTH(item)
    if total < 0:
        # Non-ASCII (or a type error the join reports): the general path.
        text = RECORD_SEPARATOR.join(items)
        try:
            return text.encode('utf-8')
        except UnicodeEncodeError:
            raise EncodeError('Packet text is not valid UTF-8') from None
    if count == 0:
        return b''
    out = PyBytes_FromStringAndSize(NULL, total + count - 1)
    dst = PyBytes_AS_STRING(out)
    for i in range(count):
        item = items[i]
        if i:
            dst[0] = b'\x1e'
            dst += 1
        length = PyUnicode_GET_LENGTH(item)
        memcpy(dst, PyUnicode_DATA(item), length)
        dst += length
    return out


def split_payload(body, max_packets, max_bytes):
    """Split a polling body into packet strings, enforcing both limits first."""
    cdef Py_ssize_t size
    cdef bytes raw
    cdef list packets
    cdef object text
    cdef object item
    if isinstance(body, str):
        size = utf8_len(body)
    elif isinstance(body, _BINARY_TYPES):
        size = memoryview(body).nbytes if type(body) is not bytes else PyBytes_GET_SIZE(body)
    else:
        raise TypeError('Payload must be str or bytes-like, not ' + type(body).__name__)
    if max_bytes is not None and size > max_bytes:
        raise ContentTooLongError(
            'Payload of %d bytes exceeds the limit of %d bytes' % (size, max_bytes)
        )
    if isinstance(body, str):
        text = body
    else:
        raw = body if type(body) is bytes else bytes(body)
        try:
            text = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw), NULL)
        except UnicodeDecodeError:
            raise DecodeError('Payload is not valid UTF-8') from None
    if text.startswith('d='):
        text = _jsonp_post_data(text)
    if not text:
        return []
    if max_packets is not None and text.count(RECORD_SEPARATOR) >= max_packets:
        raise DecodeError('Too many packets in payload')
    packets = text.split(RECORD_SEPARATOR)
    for item in packets:
        if PyUnicode_GET_LENGTH(item) == 0:
            raise DecodeError('Invalid empty packet received')
    return packets


cdef object _jsonp_post_data(object text):
    """Return the url-decoded ``d`` field of a JSONP POST body."""
    value = text[2:].split('&', 1)[0]
    try:
        return unquote_plus(value, errors='strict')
    except UnicodeDecodeError:
        raise DecodeError('Payload is not valid UTF-8') from None


def jsonp_wrap(text, index):
    """Wrap a payload in the JSONP callback, as an ASCII-safe JS string literal."""
    return '___eio[%s](%s);' % (_index(index), _json_string(text))


# -- base64 and sizes --------------------------------------------------------


def b64_encode(data):
    """Standard padded base64 of ``data``, as str."""
    return _b64_encode_obj(data, False)


def b64_decode(text):
    """Decode strict standard base64 (padding required, no other characters)."""
    if not isinstance(text, str):
        raise TypeError('Base64 data must be str, not ' + type(text).__name__)
    return _b64_decode_text(text, 0)


def utf8_len(text):
    """Length of ``text`` in UTF-8 bytes (a lone surrogate counts 3)."""
    cdef Py_ssize_t size
    cdef Py_ssize_t total
    cdef Py_ssize_t i
    cdef int kind
    cdef void* data
    cdef Py_UCS4 ch
    if not isinstance(text, str):
        raise TypeError('utf8_len() argument must be str, not ' + type(text).__name__)
    size = PyUnicode_GET_LENGTH(text)
    if PyUnicode_IS_ASCII(text):
        return size
    kind = PyUnicode_KIND(text)
    data = PyUnicode_DATA(text)
    total = size
    if kind == PyUnicode_1BYTE_KIND:
        for i in range(size):
            if (<const unsigned char*>data)[i] >= 0x80:
                total += 1
    elif kind == PyUnicode_2BYTE_KIND:
        for i in range(size):
            ch = (<const unsigned short*>data)[i]
            if ch >= 0x800:
                total += 2
            elif ch >= 0x80:
                total += 1
    else:
        for i in range(size):
            ch = (<const Py_UCS4*>data)[i]
            if ch >= 0x10000:
                total += 3
            elif ch >= 0x800:
                total += 2
            elif ch >= 0x80:
                total += 1
    return total


# -- handshake ---------------------------------------------------------------


def open_packet_json(sid, upgrades, timeout_ms, interval_ms, max_payload):
    """The OPEN packet's JSON: exactly the five v4 keys, in protocol order."""
    return '{"sid":%s,"upgrades":[%s],"pingTimeout":%s,"pingInterval":%s,"maxPayload":%s}' % (
        _json_string(sid),
        ','.join([_json_string(name) for name in upgrades]),
        _index(timeout_ms),
        _index(interval_ms),
        _index(max_payload),
    )


# -- compression -------------------------------------------------------------

# compress and decompress (imported above) are zlib's work: both twins
# re-export the one definition in _http_compression (K-02).


cdef inline bint _is_qvalue(str value):
    """Whether ``value`` is an HTTP qvalue: ``0[.ddd]`` or ``1[.000]``."""
    cdef Py_ssize_t size = PyUnicode_GET_LENGTH(value)
    cdef Py_ssize_t i
    cdef Py_UCS4 first
    cdef Py_UCS4 ch
    if size == 0 or size > 5:
        return False
    first = PyUnicode_READ_CHAR(value, 0)
    if first != u'0' and first != u'1':
        return False
    if size == 1:
        return True
    if PyUnicode_READ_CHAR(value, 1) != u'.':
        return False
    for i in range(2, size):
        ch = PyUnicode_READ_CHAR(value, i)
        if first == u'1':
            if ch != u'0':
                return False
        elif ch < u'0' or ch > u'9':
            return False
    return True


def negotiate_encoding(header, methods):
    """Pick the method from ``methods`` the Accept-Encoding ``header`` prefers.

    Highest q-value wins, ties go to the earlier method, ``q=0`` refuses,
    ``*`` covers methods not named, malformed tokens are skipped.
    """
    cdef dict named
    cdef double star = 0.0
    cdef double q
    cdef double best_q = 0.0
    if not header:
        return None
    named = {}
    for token in header.split(','):
        name, *params = token.split(';')
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition('=')
            if key.strip().lower() == 'q':
                value = value.strip()
                q = float(value) if _is_qvalue(value) else -1.0
                break
        if q < 0:
            continue
        if name == '*':
            star = q
        elif name not in named:
            named[name] = q
    best = None
    for method in methods:
        q = named.get(method, star)
        if q > best_q:
            best = method
            best_q = q
    return best
