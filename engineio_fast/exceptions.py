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


class ConnectionError(EngineIOError):  # noqa: A001 - upstream name
    """A client could not connect; ``args[1]`` may hold the server's answer."""


class DecodeError(EngineIOError, ValueError):
    """Malformed packet, payload, base64 or compressed data from the peer."""


class EncodeError(EngineIOError, ValueError):
    """Data that cannot be put on the wire (binary non-message, lone surrogate)."""
