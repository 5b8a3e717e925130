"""Protocol constants shared by every layer: packet ids, separators, limits."""

EIO_VERSION = '4'

OPEN, CLOSE, PING, PONG, MESSAGE, UPGRADE, NOOP = 0, 1, 2, 3, 4, 5, 6
PACKET_NAMES = ['OPEN', 'CLOSE', 'PING', 'PONG', 'MESSAGE', 'UPGRADE', 'NOOP']

#: Separates packets inside a polling payload.
RECORD_SEPARATOR = '\x1e'
#: Prefix marking a base64-encoded binary message in text form.
BASE64_PREFIX = 'b'

#: Default cap on packets in one decoded payload (the protocol lets clients
#: batch up to maxPayload bytes, so 16 is far too low).
DEFAULT_MAX_DECODE_PACKETS = 1000
DEFAULT_MAX_HTTP_BUFFER_SIZE = 1_000_000

# Websocket close codes (RFC 6455 section 7.4.1), the ones this package sends
# or tells apart (P-44).
NORMAL_CLOSURE = 1000
PROTOCOL_ERROR = 1002
UNSUPPORTED_DATA = 1003
#: Reserved, never on the wire: the connection ended without a close frame.
ABNORMAL_CLOSURE = 1006
INVALID_PAYLOAD = 1007
POLICY_VIOLATION = 1008
# H-43
#: Also the close code for a message over max_http_buffer_size.
MESSAGE_TOO_BIG = 1009
MANDATORY_EXTENSION = 1010
INTERNAL_ERROR = 1011

COMPRESSION_METHODS = ['gzip', 'deflate']
#: zlib level 1: several times faster than 9 on JSON-like bodies, and
#: polling responses are short-lived.
DEFAULT_COMPRESSION_LEVEL = 1

#: Returned up to ``Server.handle_request`` by a websocket that ended under
#: gunicorn, which wants the app to raise ``StopIteration`` instead of
#: answering; raised inside a coroutine flow it would become a RuntimeError
#: (PEP 479), so only ``handle_request`` raises it.
DROP_CONNECTION = object()

# Why a session ended, as the ``disconnect`` handler is told (``Server.reason``).
SERVER_DISCONNECT = 'server disconnect'
CLIENT_DISCONNECT = 'client disconnect'
PING_TIMEOUT = 'ping timeout'
TRANSPORT_CLOSE = 'transport close'
TRANSPORT_ERROR = 'transport error'
