"""Websocket close codes that mean the connection failed, not that the peer closed it.

A driver whose websocket ended with one of these codes, sent by the peer or by
the websocket library on an invalid frame, raises ``ConnectionAbortedError``
from ``wait()``: the session then closes with ``transport error`` instead of
``transport close``.  Normal closure (1000), going away (1001), no status
(1005), abnormal closure (1006, a vanished peer) and restart (1012) stay a close.
"""
# P-44

from __future__ import annotations

from .._constants import (
    INTERNAL_ERROR,
    INVALID_PAYLOAD,
    MANDATORY_EXTENSION,
    MESSAGE_TOO_BIG,
    POLICY_VIOLATION,
    PROTOCOL_ERROR,
    UNSUPPORTED_DATA,
)

FAILURE_CODES = frozenset(
    {
        PROTOCOL_ERROR,
        UNSUPPORTED_DATA,
        INVALID_PAYLOAD,
        POLICY_VIOLATION,
        MESSAGE_TOO_BIG,
        MANDATORY_EXTENSION,
        INTERNAL_ERROR,
    }
)


def check_close_code(code: int | None) -> None:
    """Raise ``ConnectionAbortedError`` when ``code`` says the websocket failed."""
    if code in FAILURE_CODES:
        raise ConnectionAbortedError('websocket closed with code %d' % code)
