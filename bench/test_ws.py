"""WebSocket framing micro-benchmarks (issue 17): one small message each way.

Run with ``--benchmark-group-by=func``: each group compares ``c`` and ``py``
(``engineio_fast._ws_c`` / ``_ws_py``) with ``upstream``, wsproto's frame
layer that python-engineio's simple-websocket uses.  A socket.io chat
message is about 40 bytes on the wire.
"""

from __future__ import annotations

from typing import Any

#: A 34-character socket.io event in a 40-byte masked client text frame.
TEXT_34 = '42["chat","hello there, how r u?"]'
KEY = b'\x37\xfa\x21\x3d'
FRAME_40 = (
    bytes([0x81, 0x80 | len(TEXT_34)])
    + KEY
    + bytes(byte ^ KEY[i % 4] for i, byte in enumerate(TEXT_34.encode()))
)
assert len(FRAME_40) == 40
#: A 40-character message for the server to send.
TEXT_40 = '42["chat",{"user":"alice","text":"hi!"}]'
assert len(TEXT_40) == 40


def test_ws_feed_text_40(benchmark: Any, ws_impl: Any) -> None:
    """One 40-byte masked text frame through a reader's ``feed``."""
    function, args = ws_impl.feed(FRAME_40)
    assert benchmark(function, *args) == [TEXT_34]


def test_ws_encode_text_40(benchmark: Any, ws_impl: Any) -> None:
    """A 40-character ``str`` as an unmasked server text frame."""
    function, args = ws_impl.encode_frame(TEXT_40)
    assert benchmark(function, *args) == b'\x81\x28' + TEXT_40.encode()
