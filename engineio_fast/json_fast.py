"""Faster JSON module for packet data: orjson where it gives the stdlib's answer.

A drop-in for :mod:`engineio_fast.json`, opted into with
``Server(json=engineio_fast.json_fast)`` (python-socketio and the clients
take the same ``json=``).  Without orjson installed (``pip install
engineio-fast[fast]``) it is :mod:`engineio_fast.json` itself.

With orjson, ``dumps(obj, separators=(',', ':'))`` (the call the packet
encoders make) and ``loads(text)`` on a ``str`` run through orjson, and the
result is kept only where orjson's answer is known to equal the stdlib's:

* ``dumps``: orjson writes non-ASCII characters as UTF-8, which are
  turned into the stdlib's ``\\uXXXX`` escapes (by the stdlib's own string
  encoder, run only on them).  It writes NaN and infinities as ``null``, so
  output with ``null`` is checked for non-finite floats.  It writes the raw
  DEL character and small floats as ``1e-7`` or ``0.00001`` where the
  stdlib writes ``1e-07`` and ``1e-05``, and refuses integers beyond 64
  bits, lone surrogates and non-``str`` keys: the stdlib encodes those.
  Subclasses of ``str``/``int``/``dict``/``list``, dataclasses and datetimes
  go to the stdlib too; ``uuid.UUID`` and ``enum.Enum`` members, which
  orjson always encodes and the stdlib refuses, are the one difference.
* ``loads``: orjson turns integers beyond 64 bits into floats and refuses
  ``NaN``, ``Infinity``, lone surrogates and floats that overflow.  Text
  with a run of 19 or more digits, and every refusal, is parsed by the
  guarded stdlib loader, so results, errors (``ValueError`` subclasses) and
  the 100-digit integer guard are those of :mod:`engineio_fast.json`.

Any other call (other keyword arguments, ``bytes`` input) goes straight to
:mod:`engineio_fast.json`.
"""

import codecs
import re
from json.encoder import encode_basestring_ascii as _escape_string

from . import json as _safe_json
from .json import *  # noqa: F403
from .json import dumps as _safe_dumps
from .json import loads as _safe_loads

try:
    import orjson as _orjson
except ImportError:  # optional dependency: the stdlib module serves alone
    _orjson = None  # type: ignore[assignment]  # the module or None, tested below

#: True when orjson is installed and used.
USES_ORJSON = _orjson is not None

_COMPACT = (',', ':')
# A one-digit negative exponent (orjson ``1e-7``, stdlib ``1e-07``).
_SHORT_NEG_EXPONENT = re.compile(r'[0-9]e-[0-9](?![0-9])')
# A literal orjson may read as a float where the stdlib keeps an int:
# 19 digits reach below -2**63, 20 beyond 2**64.  Text is checked as bytes
# with every digit mapped to b'0' (C speed; a regex costs more than the parse).
_DIGITS_TO_ZERO = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_LONG_DIGIT_RUN = b'0' * 19
_ESCAPE_ERRORS = 'engineio_fast.json_escape'


def _escape_non_ascii(error: UnicodeEncodeError) -> tuple[str, int]:
    """Codec error handler: the stdlib's ``\\uXXXX`` escapes for a run of non-ASCII text."""
    return _escape_string(error.object[error.start : error.end])[1:-1], error.end


# Used for encoding only, so the error is always a UnicodeEncodeError.
codecs.register_error(_ESCAPE_ERRORS, _escape_non_ascii)  # type: ignore[arg-type]


def _has_non_finite(obj) -> bool:
    """Whether a value orjson encoded holds a NaN or an infinity (it wrote ``null``)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if item - item != 0.0:  # NaN for NaN and both infinities
                return True
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
    return False


def _stdlib_text(out: bytes, obj) -> str | None:
    """orjson's compact ``out`` made the stdlib's text, or None where it cannot be."""
    # Searching str is several times faster than searching bytes here.
    text = out.decode('utf-8')
    if '0.0000' in text or '\x7f' in text:
        return None
    if 'e-' in text and _SHORT_NEG_EXPONENT.search(text) is not None:
        return None
    if 'null' in text and _has_non_finite(obj):
        return None
    if text.isascii():
        return text
    # Non-ASCII characters are only ever inside strings, where the stdlib escapes them.
    return text.encode('ascii', _ESCAPE_ERRORS).decode('ascii')


if _orjson is None:
    dumps = _safe_dumps
    loads = _safe_loads
else:
    _orjson_dumps = _orjson.dumps
    _orjson_loads = _orjson.loads
    _JSONDecodeError = _orjson.JSONDecodeError
    _PASSTHROUGH = (
        _orjson.OPT_PASSTHROUGH_SUBCLASS
        | _orjson.OPT_PASSTHROUGH_DATACLASS
        | _orjson.OPT_PASSTHROUGH_DATETIME
    )

    # Same call as the stdlib's dumps/loads above; their keywords pass through **kwargs.
    def dumps(obj, **kwargs):  # type: ignore[misc]
        """Like :func:`json.dumps`; compact output comes from orjson when it matches."""
        separators = kwargs.get('separators')
        if len(kwargs) == 1 and separators is not None and tuple(separators) == _COMPACT:
            try:
                out = _orjson_dumps(obj, option=_PASSTHROUGH)
            except TypeError:  # orjson.JSONEncodeError: refused, let the stdlib answer
                pass
            else:
                text = _stdlib_text(out, obj)
                if text is not None:
                    return text
        return _safe_dumps(obj, **kwargs)

    def loads(s, **kwargs):  # type: ignore[misc]
        """Like :func:`engineio_fast.json.loads`; plain ``str`` input goes through orjson."""
        if not kwargs and type(s) is str:
            try:
                raw = s.encode('utf-8')
            except UnicodeEncodeError:  # lone surrogates: orjson refuses them
                raw = None
            if raw is not None and _LONG_DIGIT_RUN not in raw.translate(_DIGITS_TO_ZERO):
                try:
                    return _orjson_loads(raw)
                except _JSONDecodeError:  # refused: the stdlib accepts or raises its own error
                    pass
        return _safe_loads(s, **kwargs)

    # Same grammar as the stdlib's: the codec may skip calling it on non-JSON text.
    _safe_json._STRICT_LOADS.add(loads)
