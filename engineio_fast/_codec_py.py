"""Engine.IO v4 codec, pure-Python reference twin of ``_codec_c``.

Functions over plain values: packets are ``(type, data, binary)`` triples,
payloads are lists of encoded packet strings, bodies are ``bytes``.  This
module is the specification of the codec: the compiled twin must return the
same values and raise the same exceptions (class and message) for any input.
"""

from __future__ import annotations

import binascii
import json as _stdlib_json
import re
import sys
from json.encoder import c_make_encoder  # type: ignore[attr-defined]  # private, not in typeshed
from json.encoder import encode_basestring_ascii as _json_string
from operator import index as _index
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import unquote_plus

from . import json as _safe_json
from ._constants import BASE64_PREFIX, MESSAGE, RECORD_SEPARATOR
from ._http_compression import compress as compress
from ._http_compression import decompress as decompress
from .exceptions import ContentTooLongError, DecodeError, EncodeError

_BINARY_TYPES = (bytes, bytearray, memoryview)
_COMPACT = (',', ':')

# The loaders whose grammar we know (a live set, see json.py): with them a
# remainder whose first character cannot start a JSON value is returned raw
# without calling ``loads`` (a raised JSONDecodeError costs more than the
# whole decode).
_STRICT_JSON_LOADS = _safe_json._STRICT_LOADS
_JSON_FIRST_CHARS = frozenset(' \t\n\r"{[-tfnNI0123456789')

# json.dumps() with separators builds a new encoder per call.  For the
# stdlib dumps one cached C encoder gives the same text; it runs without a
# circular-reference check, so a RecursionError is retried through the full
# encoder to raise json's own ValueError for circular data.
_COMPACT_ENCODER = _stdlib_json.JSONEncoder(separators=_COMPACT)
_compact_chunks = (
    c_make_encoder(None, _COMPACT_ENCODER.default, _json_string, None, ':', ',', False, False, True)
    if c_make_encoder is not None
    else None
)

_B64_TEXT = re.compile(r'[A-Za-z0-9+/]*={0,2}')
_HAS_STRICT_B64 = sys.version_info >= (3, 11)

_QVALUE = re.compile(r'(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)')


# -- packets -----------------------------------------------------------------


def encode_packet(
    ptype: int, data: Any, b64: bool, dumps: Callable[..., str] | None
) -> str | bytes:
    """Encode one packet: text form, raw bytes, or ``b``-prefixed base64.

    ``dumps`` may be None when ``data`` is not a dict or list.
    """
    if isinstance(data, str):
        return str(ptype) + data
    if isinstance(data, _BINARY_TYPES):
        if ptype != MESSAGE:
            raise EncodeError('Binary packets can only be of type MESSAGE')
        if b64:
            return BASE64_PREFIX + b64_encode(data)
        return bytes(data)
    if data is None:
        return str(ptype)
    if isinstance(data, (dict, list)):
        if dumps is _stdlib_json.dumps:
            return str(ptype) + _compact_json(data)
        return str(ptype) + dumps(data, separators=_COMPACT)  # type: ignore[misc]  # see docstring
    return str(ptype) + str(data)


def _compact_json(data: Any) -> str:
    """``json.dumps(data, separators=(',', ':'))``, with a cached encoder."""
    if _compact_chunks is None:  # pragma: no cover - CPython without _json
        return _COMPACT_ENCODER.encode(data)
    try:
        return ''.join(_compact_chunks(data, 0))
    except RecursionError:
        return _COMPACT_ENCODER.encode(data)


def decode_packet(encoded: str | bytes | bytearray | memoryview, loads: Callable) -> tuple:
    """Decode one packet into ``(packet_type, data, binary)``."""
    if isinstance(encoded, str):
        if not encoded:
            raise DecodeError('Invalid empty packet received')
        first = encoded[0]
        if first == BASE64_PREFIX:
            return MESSAGE, b64_decode(encoded[1:]), True
        if not '0' <= first <= '9':
            raise DecodeError('Invalid packet type')
        ptype = ord(first) - 48
        if len(encoded) == 1:
            return ptype, '', False
        rest = encoded[1:]
        lead = rest[0]
        # Numbers stay text (upstream issue 75: "4123" is the string "123").
        if lead.isnumeric():
            return ptype, rest, False
        if lead not in _JSON_FIRST_CHARS and loads in _STRICT_JSON_LOADS:
            return ptype, rest, False
        try:
            return ptype, loads(rest), False
        except ValueError:
            return ptype, rest, False
        except RecursionError:
            raise DecodeError('Packet data is nested too deeply') from None
    if isinstance(encoded, _BINARY_TYPES):
        return MESSAGE, bytes(encoded), True
    raise TypeError('Packet must be str or bytes-like, not ' + type(encoded).__name__)


# -- payloads ----------------------------------------------------------------


def encode_payload(encoded: Iterable[str]) -> str:
    """Join text-form packets into one polling payload."""
    return RECORD_SEPARATOR.join(encoded)


def encode_payload_bytes(encoded: Iterable[str], jsonp_index: int | None = None) -> bytes:
    """Join text-form packets into a UTF-8 response body, JSONP-wrapped if asked."""
    text = RECORD_SEPARATOR.join(encoded)
    if jsonp_index is not None:
        return jsonp_wrap(text, jsonp_index).encode('ascii')
    try:
        return text.encode('utf-8')
    except UnicodeEncodeError:
        raise EncodeError('Packet text is not valid UTF-8') from None


def split_payload(
    body: str | bytes | bytearray | memoryview, max_packets: int | None, max_bytes: int | None
) -> list[str]:
    """Split a polling body into packet strings, enforcing both limits first."""
    if isinstance(body, str):
        size = utf8_len(body)
    elif isinstance(body, _BINARY_TYPES):
        size = memoryview(body).nbytes
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
            text = raw.decode('utf-8')
        except UnicodeDecodeError:
            raise DecodeError('Payload is not valid UTF-8') from None
    if text.startswith('d='):
        text = _jsonp_post_data(text)
    if not text:
        return []
    if max_packets is not None and text.count(RECORD_SEPARATOR) >= max_packets:
        raise DecodeError('Too many packets in payload')
    packets = text.split(RECORD_SEPARATOR)
    if '' in packets:
        raise DecodeError('Invalid empty packet received')
    return packets


def _jsonp_post_data(text: str) -> str:
    """Return the url-decoded ``d`` field of a JSONP POST body."""
    value = text[2:].split('&', 1)[0]
    try:
        return unquote_plus(value, errors='strict')
    except UnicodeDecodeError:
        raise DecodeError('Payload is not valid UTF-8') from None


def jsonp_wrap(text: str, index: int) -> str:
    """Wrap a payload in the JSONP callback, as an ASCII-safe JS string literal."""
    # JSON with ensure_ascii escapes quotes, backslashes, control characters,
    # U+2028/U+2029 and lone surrogates: a literal every JS engine parses.
    return '___eio[%s](%s);' % (_index(index), _json_string(text))


# -- base64 and sizes --------------------------------------------------------


def b64_encode(data: bytes | bytearray | memoryview) -> str:
    """Standard padded base64 of ``data``, as str."""
    return binascii.b2a_base64(data, newline=False).decode('ascii')


def b64_decode(text: str) -> bytes:
    """Decode strict standard base64 (padding required, no other characters)."""
    if not isinstance(text, str):
        raise TypeError('Base64 data must be str, not ' + type(text).__name__)
    if len(text) % 4:
        raise DecodeError('Invalid base64 data')
    if _HAS_STRICT_B64:
        # strict_mode refuses all but runs of excess padding ("AAAA====").
        if text.endswith('==='):
            raise DecodeError('Invalid base64 data')
        try:
            # strict_mode is Python 3.11+, guarded by _HAS_STRICT_B64.
            return binascii.a2b_base64(text, strict_mode=True)  # type: ignore[call-arg,unused-ignore]
        except ValueError:
            raise DecodeError('Invalid base64 data') from None
    if _B64_TEXT.fullmatch(text) is None:  # pragma: no cover - Python 3.10
        raise DecodeError('Invalid base64 data')
    return binascii.a2b_base64(text)  # pragma: no cover - Python 3.10


def utf8_len(text: str) -> int:
    """Length of ``text`` in UTF-8 bytes (a lone surrogate counts 3)."""
    if not isinstance(text, str):
        raise TypeError('utf8_len() argument must be str, not ' + type(text).__name__)
    if text.isascii():
        return len(text)
    return len(text.encode('utf-8', 'surrogatepass'))


# -- handshake ---------------------------------------------------------------


def open_packet_json(
    sid: str, upgrades: Sequence[str], timeout_ms: int, interval_ms: int, max_payload: int
) -> str:
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


def negotiate_encoding(header: str | None, methods: Sequence[str]) -> str | None:
    """Pick the method from ``methods`` the Accept-Encoding ``header`` prefers.

    Highest q-value wins, ties go to the earlier method, ``q=0`` refuses,
    ``*`` covers methods not named, malformed tokens are skipped.
    """
    if not header:
        return None
    named: dict[str, float] = {}
    star = 0.0
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
                q = float(value) if _QVALUE.fullmatch(value) else -1.0
                break
        if q < 0:
            continue
        if name == '*':
            star = q
        else:
            named.setdefault(name, q)
    best = None
    best_q = 0.0
    for method in methods:
        q = named.get(method, star)
        if q > best_q:
            best, best_q = method, q
    return best
