"""Write-through sends on an AsyncSocket (issue 8), with a driver websocket stub.

Over real sockets the path is exercised by every asyncio-mode test; here a
stub websocket whose ``send`` waits in the two ways a driver can (a bare
event-loop turn, then a future) checks that a send that had to wait is
finished by the writer before anything queued after it, in order.
"""

from __future__ import annotations

import asyncio

from engineio_fast import AsyncServer


class PausedWebSocket:
    """Records sent messages; while ``paused`` each send yields once and then waits."""

    def __init__(self) -> None:
        self.sent: list = []
        self.resumed = asyncio.Event()
        self.paused = True
        self.closed = asyncio.Event()

    async def send(self, message) -> None:
        if self.paused:
            await asyncio.sleep(0)
            await self.resumed.wait()
        self.sent.append(message)

    async def close(self, code=None) -> None:
        self.closed.set()


async def scenario() -> tuple[list, list]:
    eio = AsyncServer(async_mode='asgi', monitor_clients=False)
    socket = eio._new_socket('sid1')
    socket.connected = socket.upgraded = True
    eio.sockets['sid1'] = socket
    ws = PausedWebSocket()
    writer = asyncio.ensure_future(socket._websocket_writer(ws))
    await asyncio.sleep(0)  # the writer is idle: sends write through
    outcomes: list = []
    await eio.send('sid1', 'a', callback=outcomes.append)  # waits: left to the writer
    await eio.send('sid1', 'b', callback=outcomes.append)  # queued behind it
    assert ws.sent == [] and outcomes == []
    ws.paused = False
    ws.resumed.set()
    for _ in range(50):
        if len(outcomes) == 2:
            break
        await asyncio.sleep(0.01)
    await eio.send('sid1', 'c', callback=outcomes.append)  # idle again: written at once
    sent_now = list(ws.sent)
    await socket.close(abort=True)
    await asyncio.wait_for(writer, 5)
    return sent_now, outcomes


def test_a_waiting_write_through_is_finished_in_order():
    """P-12, F-04: '4a' waited, '4b' queued behind it, '4c' written at once."""
    sent, outcomes = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert sent == ['4a', '4b', '4c']
    assert outcomes == [None, None, None]
