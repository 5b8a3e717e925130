"""permessage-deflate (RFC 7692): the negotiation and the per-message zlib work.

One definition for both framing twins: the work is zlib's, so a compiled
copy would gain nothing.  ``FrameReader`` calls ``inflate`` once per
compressed message; the sender calls ``deflate`` and sets RSV1.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING, NamedTuple

from .exceptions import WebSocketProtocolError

if TYPE_CHECKING:  # the option's type only: this layer imports no peer at run time
    from ._ws_compression import WebSocketCompression

EXTENSION = 'permessage-deflate'
#: Every message ends with an empty stored block (section 7.2.1), sent without it.
_TAIL = b'\x00\x00\xff\xff'
#: zlib refuses 8-bit windows for raw deflate, so the server never compresses with one.
_MIN_SERVER_WINDOW_BITS = 9


class PerMessageDeflate:
    """The negotiated permessage-deflate state of one connection.

    :param level: the zlib compression level of sent messages.
    :param threshold: messages shorter than this are best sent uncompressed
                      (the sender's choice; kept here for it).
    :param server_no_context_takeover: start each sent message afresh.
    :param client_no_context_takeover: the client starts each message afresh.
    :param server_max_window_bits: the window of sent messages (9 to 15).
    :param client_max_window_bits: the window of received messages (8 to 15).
    """

    def __init__(
        self,
        level: int,
        threshold: int,
        server_no_context_takeover: bool = False,
        client_no_context_takeover: bool = False,
        server_max_window_bits: int = 15,
        client_max_window_bits: int = 15,
    ) -> None:
        self.level = level
        self.threshold = threshold
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.server_max_window_bits = server_max_window_bits
        self.client_max_window_bits = client_max_window_bits
        self._compressor = self._new_compressor()
        self._decompressor = self._new_decompressor()

    def _new_compressor(self) -> zlib._Compress:
        """A raw deflate stream with the negotiated window."""
        return zlib.compressobj(self.level, zlib.DEFLATED, -self.server_max_window_bits)

    def _new_decompressor(self) -> zlib._Decompress:
        """A raw inflate stream for the client's window."""
        # zlib's deflate turns a window of 8 into 9, so a client saying 8 may send 9.
        return zlib.decompressobj(-max(self.client_max_window_bits, 9))

    def inflate(self, payload: bytes, limit: int) -> bytes:
        """Decompress one received message of at most ``limit`` bytes.

        :raises WebSocketProtocolError: 1009 past ``limit``, 1002 for data
                                        that is not deflate.
        """
        decompressor = self._decompressor
        if self.client_no_context_takeover or decompressor.eof:
            # A stream that ended (BFINAL) cannot take another message either.
            decompressor = self._decompressor = self._new_decompressor()
        try:
            # One byte past the limit tells "exactly limit" from "more".
            data = decompressor.decompress(payload + _TAIL, limit + 1)
        except zlib.error:
            raise WebSocketProtocolError(1002, 'invalid permessage-deflate data') from None
        if len(data) > limit:
            raise WebSocketProtocolError(
                1009, 'decompressed message over the limit of %d bytes' % limit
            )
        return data

    def deflate(self, data: bytes) -> bytes:
        """Compress one message to send (with RSV1 set on its frame)."""
        if self.server_no_context_takeover:
            self._compressor = self._new_compressor()
        compressor = self._compressor
        out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        return out[:-4] if out.endswith(_TAIL) else out


def _window_bits(value: str) -> int | None:
    """A window size parameter's value (8 to 15), or None when invalid."""
    value = value.strip('"')
    if not value.isdigit() or not value.isascii() or value.startswith('0'):
        return None
    bits = int(value)
    return bits if 8 <= bits <= 15 else None


class _Answer(NamedTuple):
    """The server's side of one accepted offer."""

    server_no_context_takeover: bool
    client_no_context_takeover: bool
    #: The window we compress with, and whether the offer capped it (then we must say it).
    server_max_window_bits: int
    server_bits_offered: bool
    #: The client's window cap, echoed back when it gave one.
    client_max_window_bits: int | None


def _accept(params: list[str], option: WebSocketCompression) -> _Answer | None:
    """The server's answer to one offer's parameters, or None to decline it."""
    seen = set()
    server_no_context = client_no_context = False
    server_bits = client_bits = None
    for param in params:
        name, eq, value = param.partition('=')
        name = name.strip().lower()
        value = value.strip()
        if name in seen:
            return None
        seen.add(name)
        if name in ('server_no_context_takeover', 'client_no_context_takeover'):
            if eq:
                return None
            if name == 'server_no_context_takeover':
                server_no_context = True
            else:
                client_no_context = True
        elif name == 'server_max_window_bits':
            server_bits = _window_bits(value)
            if server_bits is None:
                return None
        elif name == 'client_max_window_bits':
            # Without a value the client only says it supports the parameter.
            if eq:
                client_bits = _window_bits(value)
                if client_bits is None:
                    return None
        else:
            return None
    ours = option.server_max_window_bits or 15
    window = ours if server_bits is None else min(server_bits, ours)
    if window < _MIN_SERVER_WINDOW_BITS:
        return None
    return _Answer(
        server_no_context, client_no_context, window, server_bits is not None, client_bits
    )


def negotiate(
    header_value: str | None, option: WebSocketCompression
) -> tuple[PerMessageDeflate | None, str | None]:
    """Accept the first permessage-deflate offer of ``Sec-WebSocket-Extensions`` we can.

    :param header_value: the client's ``Sec-WebSocket-Extensions``, or None.
    :param option: the server's ``websocket_compression`` option.
    :returns: the connection's ``PerMessageDeflate`` and the response header
              value, or ``(None, None)`` when off or no offer fits.
    """
    if not header_value or not option.enabled:
        return None, None
    for offer in header_value.split(','):
        name, *params = offer.split(';')
        if name.strip().lower() != EXTENSION:
            continue
        answer = _accept([p for p in params if p.strip()], option)
        if answer is None:
            continue
        response = [EXTENSION]
        if answer.server_no_context_takeover:
            response.append('server_no_context_takeover')
        if answer.client_no_context_takeover:
            response.append('client_no_context_takeover')
        if answer.server_bits_offered or answer.server_max_window_bits != 15:
            response.append('server_max_window_bits=%d' % answer.server_max_window_bits)
        if answer.client_max_window_bits is not None:
            response.append('client_max_window_bits=%d' % answer.client_max_window_bits)
        deflate = PerMessageDeflate(
            option.level,
            option.threshold,
            server_no_context_takeover=answer.server_no_context_takeover,
            client_no_context_takeover=answer.client_no_context_takeover,
            server_max_window_bits=answer.server_max_window_bits,
            client_max_window_bits=answer.client_max_window_bits or 15,
        )
        return deflate, '; '.join(response)
    return None, None
