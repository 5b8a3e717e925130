"""Exceptions raised by engineio_fast (upstream names, plus decode/encode errors)."""


class EngineIOError(Exception):
    """Base class of every engineio_fast exception."""


class ContentTooLongError(EngineIOError):
    """A request body or message is larger than the configured limit."""


class UnknownPacketError(EngineIOError):
    """A packet type the peer may not send in the current state."""


class QueueEmpty(EngineIOError):
    """A long-poll wait expired with nothing to send."""


class SocketIsClosedError(EngineIOError):
    """Sending on a session that is already closed."""


class QueueFullError(EngineIOError):
    """A packet was dropped because the session's send queue was full."""

    # F-04


class ConnectionError(EngineIOError):  # shadows the builtin: upstream name
    """A client could not connect; ``args[1]`` may hold the server's answer."""


class DecodeError(EngineIOError, ValueError):
    """Malformed packet, payload, base64 or compressed data from the peer."""


class EncodeError(EngineIOError, ValueError):
    """Data that cannot be put on the wire (binary non-message, lone surrogate)."""


class ProtocolError(EngineIOError):
    """A request the protocol refuses, with the HTTP answer it deserves.

    :param status: HTTP status code to answer with (400, 403, 413).
    :param message: text for the error body (a JSON string in the legacy
                    format).
    :param code: the Node.js server's error code for the JSON error format
                 (0 unknown transport, 1 unknown session, 2 bad handshake
                 method, 3 bad request, 4 forbidden, 5 unsupported version).
    """

    def __init__(self, status: int, message: str, code: int = 3):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class WebSocketProtocolError(EngineIOError):
    """A client broke the WebSocket protocol: close the connection with ``code``.

    :param code: the close code to send (RFC 6455 section 7.4.1: 1002
                 protocol error, 1007 invalid data, 1009 message too big).
    :param reason: why, for the close frame and the log.
    """

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason
