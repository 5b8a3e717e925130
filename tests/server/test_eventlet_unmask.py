"""The eventlet driver's websocket unmasking equals eventlet's own, only faster (issue 8).

Over real sockets it runs in every eventlet-mode websocket test; 15 MB of
client messages (tests/server/test_send_features.py) took eventlet's version
seconds of CPU without yielding.
"""

from __future__ import annotations

from eventlet import websocket as eventlet_websocket
from hypothesis import given
from hypothesis import strategies as st

from engineio_fast.async_drivers.eventlet import unmask


@given(
    data=st.binary(max_size=200),
    mask=st.tuples(*[st.integers(0, 255)] * 4),
    offset=st.integers(0, 1000),
    whole=st.booleans(),
)
def test_unmask_matches_eventlet(data, mask, offset, whole):
    length = None if whole else len(data)
    expected = eventlet_websocket.RFC6455WebSocket._apply_mask(data, mask, length, offset)
    assert unmask(data, mask, length, offset) == expected
