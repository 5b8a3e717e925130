"""JSON module for packet data: the stdlib's, with a guard on huge integers.

Integer literals longer than 100 digits are refused, because ``int()`` on
them costs quadratic time and a peer could use them to burn CPU.
"""

from json import *  # noqa: F401,F403
from json import loads as _stdlib_loads

_MAX_INT_DIGITS = 100


def _bounded_int(text: str) -> int:
    """Parse a JSON integer literal, refusing absurd lengths."""
    if len(text) > _MAX_INT_DIGITS:
        raise ValueError('Integer is too large')
    return int(text)


def loads(*args, **kwargs):
    """Like :func:`json.loads`, but integers over 100 digits raise ValueError."""
    kwargs.setdefault('parse_int', _bounded_int)
    return _stdlib_loads(*args, **kwargs)
