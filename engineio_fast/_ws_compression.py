"""The ``websocket_compression`` server option: its checked form and warnings.

Drivers negotiate permessage-deflate (RFC 7692) with what their websocket
library allows.  Each driver's ``_async`` dict names the parts it applies in
``'websocket_compression'`` (a subset of ``FEATURES``); the server warns
once about the parts a user asked for and the driver ignores.
"""
# F-02

from __future__ import annotations

import logging
from dataclasses import dataclass

from ._constants import DEFAULT_COMPRESSION_LEVEL

#: ``negotiate``: on/off; ``threshold``: small messages sent uncompressed;
#: ``level``: zlib level; ``window_bits``: ``server_max_window_bits``.
FEATURES = frozenset({'negotiate', 'threshold', 'level', 'window_bits'})
_KEYS = {'threshold': 'threshold', 'level': 'level', 'server_max_window_bits': 'window_bits'}


@dataclass(frozen=True)
class WebSocketCompression:
    """The checked option; off unless asked for, as on the JS server."""

    enabled: bool = False
    threshold: int = 1024
    level: int = DEFAULT_COMPRESSION_LEVEL
    server_max_window_bits: int | None = None
    #: The parts the user set (``FEATURES`` names), for the ignored-option warning.
    requested: frozenset = frozenset()

    def compresses(self, size: int) -> bool:
        """Whether a message of ``size`` bytes goes compressed (negotiated and enabled)."""
        return size >= self.threshold


def parse(value: object) -> WebSocketCompression:
    """Check ``None | False | True | {threshold, level, server_max_window_bits}``.

    None (the default) is off where the driver negotiates, as on the JS
    server: a peer that compresses on a thread pool (Node's ``ws``) delivers
    each small message milliseconds late, behind its own later HTTP requests
    (the protocol suite's upgrade cases fail), and compressing every small
    message costs CPU on both ends.
    """
    if value is None:
        return WebSocketCompression()
    if value is True or value is False:
        return WebSocketCompression(enabled=value, requested=frozenset({'negotiate'}))
    if not isinstance(value, dict):
        raise ValueError('websocket_compression must be None, True, False or a dict')
    unknown = set(value) - set(_KEYS)
    if unknown:
        raise ValueError('unknown websocket_compression keys: %s' % ', '.join(sorted(unknown)))
    threshold = value.get('threshold', 1024)
    level = value.get('level', DEFAULT_COMPRESSION_LEVEL)
    bits = value.get('server_max_window_bits')
    if not isinstance(threshold, int) or threshold < 0:
        raise ValueError('websocket_compression threshold must be an int >= 0')
    if not isinstance(level, int) or not -1 <= level <= 9:
        raise ValueError('websocket_compression level must be an int from -1 to 9')
    if bits is not None and (not isinstance(bits, int) or not 9 <= bits <= 15):
        raise ValueError('websocket_compression server_max_window_bits must be 9 to 15')
    return WebSocketCompression(
        enabled=True,
        threshold=threshold,
        level=level,
        server_max_window_bits=bits,
        requested=frozenset({'negotiate'} | {_KEYS[key] for key in value}),
    )


def warn_ignored(
    logger: logging.Logger, option: WebSocketCompression, driver: str, supported: frozenset
) -> None:
    """Log once (per call site's server) the requested parts ``driver`` cannot apply."""
    ignored = option.requested - supported
    if ignored:
        logger.warning(
            'websocket_compression: %s not supported by the %s driver, ignored',
            ', '.join(sorted(ignored)),
            driver,
        )
