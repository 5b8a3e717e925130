"""JSON module for packet data: the stdlib's, with a guard on huge integers.

Integer literals longer than 100 digits are refused, because ``int()`` on
them costs quadratic time and a peer could use them to burn CPU.
"""

from json import *  # noqa: F403
from json import JSONDecoder as _JSONDecoder
from json import loads as _stdlib_loads
from typing import Any as _Any

_MAX_INT_DIGITS = 100


def _bounded_int(text: str) -> int:
    """Parse a JSON integer literal, refusing absurd lengths."""
    if len(text) > _MAX_INT_DIGITS:
        raise ValueError('Integer is too large')
    return int(text)


# json.loads(parse_int=...) builds a decoder per call; the common call reuses
# this one (decoders keep no state between calls).
_guarded_decoder = _JSONDecoder(parse_int=_bounded_int)


# Replaces the stdlib loads that the star import brought in.
def loads(s: str | bytes | bytearray, **kwargs: _Any) -> _Any:  # type: ignore[no-redef]
    """Like :func:`json.loads`, but integers over 100 digits raise ValueError."""
    if not kwargs and type(s) is str and not s.startswith('\ufeff'):
        return _guarded_decoder.decode(s)
    kwargs.setdefault('parse_int', _bounded_int)
    return _stdlib_loads(s, **kwargs)


#: The ``loads`` functions that accept exactly the stdlib's grammar: the codec
#: keeps text that cannot start a JSON value without calling them (a raised
#: JSONDecodeError costs more than the whole decode).  json_fast adds its own.
_STRICT_LOADS = {loads, _stdlib_loads}
