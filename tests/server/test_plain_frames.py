"""Websocket frames built by the threading driver equal wsproto's (F-03, issue 8).

The driver frames messages itself when no extension was negotiated, and
reuses the frame of one encoded packet for all recipients of a broadcast;
every threading-mode websocket test sends through it over real sockets.
"""

from __future__ import annotations

import pytest
from wsproto.frame_protocol import FrameProtocol

from engineio_fast.async_drivers._websocket_wsgi import plain_frame


@pytest.mark.parametrize('size', [0, 1, 125, 126, 127, 65535, 65536, 100_000])
@pytest.mark.parametrize('kind', ['text', 'binary'])
def test_plain_frame_matches_wsproto(size, kind):
    message = 'é' * (size // 2) + 'x' * (size % 2) if kind == 'text' else bytes(size)
    expected = FrameProtocol(client=False, extensions=[]).send_data(message, fin=True)
    assert plain_frame(message) == bytes(expected)


def test_one_message_object_is_framed_once():
    message = '4broadcast'
    assert plain_frame(message) is plain_frame(message)
    assert plain_frame('4other') == plain_frame('4' + 'other')
