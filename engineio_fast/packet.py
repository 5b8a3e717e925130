"""Engine.IO packet, API-compatible with ``engineio.packet``."""

from __future__ import annotations

from typing import Any, Callable, Literal, overload

from . import _codec
from . import json as _json
from ._constants import CLOSE, MESSAGE, NOOP, OPEN, PACKET_NAMES, PING, PONG, UPGRADE

__all__ = [
    'OPEN',
    'CLOSE',
    'PING',
    'PONG',
    'MESSAGE',
    'UPGRADE',
    'NOOP',
    'packet_names',
    'binary_types',
    'Packet',
]

packet_names = PACKET_NAMES
binary_types = (bytes, bytearray)
_binary_data_types = (bytes, bytearray, memoryview)
# The data python-engineio's Packet.encode() passes to ``json.dumps``.
_json_data_types = (dict, list)


class Packet:
    """Engine.IO packet.

    :param packet_type: one of ``OPEN`` .. ``NOOP``.
    :param data: str, bytes-like, or any JSON-encodable value.
    :param encoded_packet: a packet as received, decoded into this object.
    """

    #: JSON module used for dict/list data; replaceable process-wide.
    json = _json
    #: Base64 form of a binary packet, set on first ``encode(b64=True)``.
    encode_cache_b64: str | bytes | None = None

    def __init__(self, packet_type: int = NOOP, data: Any = None, encoded_packet: Any = None):
        self.packet_type = packet_type
        self.data = data
        self.encode_cache: str | bytes | None = None
        if encoded_packet is not None:
            self.decode(encoded_packet)
            return
        binary = data.__class__ is not str and isinstance(data, _binary_data_types)
        if binary and packet_type != MESSAGE:
            raise ValueError('Binary packets can only be of type MESSAGE')
        self.binary = binary

    # b64=True always gives text: binary data becomes ``b``-prefixed base64.
    @overload
    def encode(self, b64: Literal[True]) -> str: ...
    @overload
    def encode(self, b64: bool = False) -> str | bytes: ...

    def encode(self, b64: bool = False) -> str | bytes:
        """Encode the packet for transmission.

        The encoding is cached per form (raw or base64) on first use, so a
        packet reused for a broadcast is encoded once per form; later changes
        to ``data`` are not reflected.

        :param b64: encode binary data as ``b``-prefixed base64 text.
        """
        if b64 and self.binary:
            cached = self.encode_cache_b64
            if cached is None:
                cached = self.encode_cache_b64 = _codec.encode_packet(
                    self.packet_type, self.data, True, None
                )
            return cached
        cached = self.encode_cache
        if cached is None:
            data = self.data
            # Like python-engineio, read json only for the data that needs it:
            # a str packet still encodes when Packet.json was replaced.  (str and
            # binary first: the common cases skip the isinstance call.)
            if data.__class__ is str or self.binary or not isinstance(data, _json_data_types):
                dumps = None
            else:
                dumps = self.json.dumps
            cached = self.encode_cache = _codec.encode_packet(self.packet_type, data, False, dumps)
        return cached

    def decode(self, encoded_packet: str | bytes) -> None:
        """Decode a received packet into this object.

        :param encoded_packet: the packet as str or bytes-like.
        """
        self.packet_type, self.data, self.binary = _codec.decode_packet(
            encoded_packet, _json_loads(self)
        )
        self.encode_cache = self.encode_cache_b64 = None


class _DeferredJson:
    """Calls ``owner.json.<name>``, looked up only when called.

    Handed to the codec in place of a ``loads`` (or ``dumps``) that the
    current JSON object lacks, for instance after a test left
    ``Packet.json = 'foo'``: python-engineio reads ``Packet.json`` only when
    it decodes JSON text, so the AttributeError must come only then, not for
    a binary, numeric or empty packet.  The usual path (the attribute exists)
    passes the function itself, so the codec's fast paths still apply.
    """

    __slots__ = ('owner', 'name')

    def __init__(self, owner: Any, name: str):
        self.owner = owner
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.owner.json, self.name)(*args, **kwargs)


def _json_loads(owner: Any = None) -> Callable[..., Any]:
    """``owner.json.loads`` (``Packet.json.loads`` by default) for the codec.

    When the JSON object has no ``loads``, a stand-in that raises python-engineio's
    AttributeError only if a packet really needs it (see ``_DeferredJson``).
    """
    if owner is None:
        owner = Packet
    try:
        loads: Callable[..., Any] = owner.json.loads
        return loads
    except AttributeError:
        return _DeferredJson(owner, 'loads')
