"""Engine.IO polling payload, API-compatible with ``engineio.payload``."""

from __future__ import annotations

from typing import Any

from . import _codec, packet
from ._constants import DEFAULT_MAX_DECODE_PACKETS


class Payload:
    """Engine.IO payload: the packets of one polling request or response.

    :param packets: a list of :class:`~engineio_fast.packet.Packet`.
    :param encoded_payload: a payload as received, decoded into this object.
    """

    #: Largest number of packets accepted in one payload; more raises
    #: ``DecodeError('Too many packets in payload')``.
    max_decode_packets = DEFAULT_MAX_DECODE_PACKETS

    def __init__(
        self, packets: list[packet.Packet] | None = None, encoded_payload: Any = None
    ) -> None:
        self.packets = packets or []
        if encoded_payload is not None:
            self.decode(encoded_payload)

    def encode(self, jsonp_index: int | None = None) -> str:
        """Encode the payload for transmission.

        :param jsonp_index: wrap the payload in the JSONP callback with this
                            index.
        """
        text = _codec.encode_payload([pkt.encode(b64=True) for pkt in self.packets])
        if jsonp_index is not None:
            return _codec.jsonp_wrap(text, jsonp_index)
        return text

    def decode(self, encoded_payload: str | bytes) -> None:
        """Decode a received payload into ``self.packets``.

        :param encoded_payload: the body as str or bytes, JSONP ``d=`` form
                                included.
        """
        self.packets = []
        encoded = _codec.split_payload(encoded_payload, self.max_decode_packets, None)
        self.packets = [packet.Packet(encoded_packet=item) for item in encoded]
