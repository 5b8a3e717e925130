"""Client side of the protocol, without I/O: URLs, handshake checks, replies, batching.

How it works: ``Client`` and ``AsyncClient`` do the requests and WebSocket
frames; they hand this module what came back (an HTTP status and body, a
frame) and get plain values in return, or a ``ConnectionError`` carrying the
exact message python-engineio uses.  A connection goes

    polling handshake GET -> OPEN (+ any packets queued by the server's
    connect handler) -> optional upgrade: ``2probe`` / ``3probe`` / ``5``
    -> read loop (GET or frames) and write loop (POST or frames)

or starts directly on a WebSocket whose first frame is the OPEN packet.
Nothing here reads the clock or touches a socket.
"""
# CL-03

from __future__ import annotations

from typing import Any, NamedTuple, Sequence
from urllib.parse import urlparse

from .. import _codec, json, packet, payload
from .._constants import CLOSE, EIO_VERSION, OPEN, PING, PONG, UPGRADE
from ..exceptions import ConnectionError

VALID_TRANSPORTS = ('polling', 'websocket')

# The ConnectionError messages python-socketio forwards to applications (CL-03).
CONNECTION_REFUSED = 'Connection refused by the server'
UNEXPECTED_RESPONSE = 'Unexpected response from server'
# python-engineio's messages for a first packet that is not OPEN (C-07: python-socketio
# passes them on as its own ConnectionError).
NO_OPEN_POLLING = 'OPEN packet not returned by server'
NO_OPEN_WEBSOCKET = 'no OPEN packet'
UNEXPECTED_STATUS = 'Unexpected status code %d in server response'
CONNECT_HANDLER_FAILED = 'Connect handler failed: '
NOT_DISCONNECTED = 'Client is not in a disconnected state'
NO_VALID_TRANSPORTS = 'No valid transports provided'

PROBE = packet.Packet(PING, 'probe').encode()
PROBE_REPLY = packet.Packet(PONG, 'probe').encode()
UPGRADE_PACKET = packet.Packet(UPGRADE).encode()
CLOSE_PACKET: str = packet.Packet(CLOSE).encode()  # type: ignore[assignment]  # a text packet
#: Polling POSTs announce their encoding; the body is always UTF-8 (P-13).
POST_HEADERS = {'Content-Type': 'text/plain;charset=UTF-8'}


class HttpResult(NamedTuple):
    """An HTTP answer as the client layers hand it over: status and raw body."""

    status: int
    body: bytes


class Handshake(NamedTuple):
    """The server's OPEN packet, checked and converted (intervals in seconds)."""

    sid: str
    upgrades: list
    ping_interval: float
    ping_timeout: float
    max_payload: int | None


def select_transports(transports: str | Sequence[str] | None) -> list[str]:
    """The transports to use, in order; ValueError when none is valid."""
    # CL-02
    if transports is None:
        return list(VALID_TRANSPORTS)
    if isinstance(transports, str):
        transports = [transports]
    selected = [name for name in transports if name in VALID_TRANSPORTS]
    if not selected:
        raise ValueError(NO_VALID_TRANSPORTS)
    return selected


def engineio_url(url: str, engineio_path: str, transport: str) -> str:
    """The endpoint URL for ``transport``, keeping the caller's query string."""
    parsed = urlparse(url)
    scheme = 'http' if transport == 'polling' else 'ws'
    if parsed.scheme in ('https', 'wss'):
        scheme += 's'
    query = parsed.query + '&' if parsed.query else ''
    return '%s://%s/%s/?%stransport=%s&EIO=%s' % (
        scheme,
        parsed.netloc,
        engineio_path.strip('/'),
        query,
        transport,
        EIO_VERSION,
    )


def error_body(body: bytes | None) -> Any:
    """The JSON value of an error answer, or None when it is not JSON (``args[1]``)."""
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def status_error(status: int, body: bytes | None) -> ConnectionError:
    """The ConnectionError for a refused handshake, with the parsed body as ``args[1]``."""
    return ConnectionError(UNEXPECTED_STATUS % status, error_body(body))


def is_success(status: int) -> bool:
    """Whether an HTTP status counts as accepted."""
    return 200 <= status < 300


def parse_open(pkt: packet.Packet, not_open: str = UNEXPECTED_RESPONSE) -> Handshake:
    """Check an OPEN packet: another packet type raises ``not_open``, a malformed one is
    an unexpected response."""
    data = pkt.data
    if pkt.packet_type != OPEN:
        raise ConnectionError(not_open)
    if not isinstance(data, dict):
        raise ConnectionError(UNEXPECTED_RESPONSE)
    # The peer's JSON: any type until `valid` below has checked it.
    sid: Any = data.get('sid')
    upgrades = data.get('upgrades', [])
    interval: Any = data.get('pingInterval')
    timeout: Any = data.get('pingTimeout')
    max_payload = data.get('maxPayload')
    valid = (
        isinstance(sid, str)
        and sid != ''
        and isinstance(upgrades, list)
        and all(isinstance(name, str) for name in upgrades)
        and _is_duration(interval)
        and _is_duration(timeout)
        and (max_payload is None or (_is_duration(max_payload) and max_payload > 0))
    )
    if not valid:
        raise ConnectionError(UNEXPECTED_RESPONSE)
    return Handshake(
        sid,
        upgrades,
        interval / 1000.0,
        timeout / 1000.0,
        None if max_payload is None else int(max_payload),
    )


def _is_duration(value: Any) -> bool:
    """A non-negative JSON number (``bool`` is an int in Python, not here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def parse_polling_handshake(result: HttpResult) -> tuple[Handshake, list[packet.Packet]]:
    """The OPEN of a polling handshake and the packets queued after it."""
    # P-09
    if not is_success(result.status):
        raise status_error(result.status, result.body)
    try:
        packets = decode_poll(result.body)
    except (ValueError, TypeError, RecursionError):
        raise ConnectionError(UNEXPECTED_RESPONSE) from None
    if not packets:
        raise ConnectionError(UNEXPECTED_RESPONSE)
    return parse_open(packets[0], NO_OPEN_POLLING), packets[1:]


def parse_open_frame(frame: str | bytes | None) -> Handshake:
    """The OPEN packet that starts a WebSocket-only session."""
    if not isinstance(frame, str) or not frame:
        raise ConnectionError(UNEXPECTED_RESPONSE)
    try:
        pkt = packet.Packet(encoded_packet=frame)
    except (ValueError, RecursionError):
        raise ConnectionError(UNEXPECTED_RESPONSE) from None
    return parse_open(pkt, NO_OPEN_WEBSOCKET)


def decode_poll(body: bytes) -> list[packet.Packet]:
    """The packets of a polling response; ``Payload.max_decode_packets`` bounds them."""
    return payload.Payload(encoded_payload=body).packets


def is_probe_reply(frame: str | bytes | None) -> bool:
    """Whether the server answered the upgrade probe with ``3probe``."""
    return frame == PROBE_REPLY


def pong_for(pkt: packet.Packet) -> packet.Packet:
    """The answer to a server ping, echoing its data."""
    return packet.Packet(PONG, pkt.data)


def poll_timeout(ping_interval: float, ping_timeout: float) -> float:
    """How long a GET may wait, and the write loop may idle, before the server is dead."""
    # CL-08
    return max(ping_interval, ping_timeout) + 5


def websocket_read_timeout(ping_interval: float, ping_timeout: float) -> float:
    """Silence on the WebSocket longer than this means the server is gone."""
    # CL-08
    return ping_interval + ping_timeout


def polling_bodies(
    encoded: Sequence[str], max_payload: int | None, max_packets: int | None
) -> tuple[list[bytes], list[str]]:
    """Group text-form packets into POST bodies within the server's limits.

    Returns the bodies and the packets left out because they cannot be UTF-8
    encoded (a lone surrogate).  A single packet larger than
    ``max_payload`` still goes alone: the server decides what to do with it.
    """
    # CL-08, K-14
    dropped = [text for text in encoded if not _utf8_encodable(text)]
    if dropped:
        encoded = [text for text in encoded if _utf8_encodable(text)]
    groups: list[list[str]] = []
    group: list[str] = []
    size = 0
    for text in encoded:
        length = _codec.utf8_len(text)
        extra = length + 1 if group else length
        full = max_packets is not None and len(group) >= max_packets
        if group and (full or (max_payload is not None and size + extra > max_payload)):
            groups.append(group)
            group, size, extra = [], 0, length
        group.append(text)
        size += extra
    if group:
        groups.append(group)
    return [_codec.encode_payload_bytes(group) for group in groups], dropped


def _utf8_encodable(text: str) -> bool:
    """Whether ``text`` has a UTF-8 form (no lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return True
