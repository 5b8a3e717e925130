"""The long polls' shared timeouts (``async_socket.Expiries``) on a real event loop.

Waits whose deadlines come in order share one loop timer and expire in
order; one that would end sooner gets a timer of its own; a wait that ends
first is forgotten; a server used on a second loop starts afresh there.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import uvloop

from engineio_fast import AsyncServer
from engineio_fast.async_socket import Expiries, _Wakeup


def run(flow):
    return asyncio.run(asyncio.wait_for(flow, 10))


async def timed_wait(wakeup: _Wakeup, timeout: float) -> float:
    """Seconds until ``wakeup.wait(timeout)`` returned."""
    start = time.monotonic()
    await wakeup.wait(timeout)
    return time.monotonic() - start


def test_waits_in_deadline_order_share_one_timer_and_each_expires_on_time():
    async def main():
        expiries = Expiries()
        wakeups = [_Wakeup(expiries) for _ in range(3)]
        tasks = []
        for wakeup in wakeups:
            tasks.append(asyncio.ensure_future(timed_wait(wakeup, 0.2)))
            await asyncio.sleep(0.05)
        assert len(expiries.waits) == 3
        elapsed = await asyncio.gather(*tasks)
        assert not expiries.waits
        assert expiries.timer is None
        return elapsed

    for seconds in run(main()):
        assert 0.18 <= seconds < 1.0


def test_a_short_wait_after_longer_ones_ended_early_expires_on_time():
    # The first wait ends early and is forgotten, but the shared timer stays
    # armed for its deadline: a shorter wait after it must not wait for that.
    async def main():
        expiries = Expiries()
        first = _Wakeup(expiries)
        waiting = asyncio.ensure_future(timed_wait(first, 5.0))
        await asyncio.sleep(0.01)
        first.set()
        await waiting
        assert not expiries.waits
        return await timed_wait(_Wakeup(expiries), 0.1)

    assert 0.09 <= run(main()) < 1.0


@pytest.mark.parametrize(
    'loop_factory', [asyncio.new_event_loop, uvloop.new_event_loop], ids=['asyncio', 'uvloop']
)
def test_waits_after_one_already_due_on_both_loops(loop_factory):
    # A wait whose deadline has passed when it starts, and others in the same
    # turn of the loop: uvloop answers call_at with a handle that has no when();
    # the waits after it still expire on time.
    async def main():
        expiries = Expiries()
        due, *later = await asyncio.gather(
            timed_wait(_Wakeup(expiries), 0),
            timed_wait(_Wakeup(expiries), 0.1),
            timed_wait(_Wakeup(expiries), 0.15),
        )
        return due, later

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        due, later = runner.run(asyncio.wait_for(main(), 10))
    assert due < 0.5
    assert 0.09 <= later[0] < 1.0
    assert 0.14 <= later[1] < 1.0


def test_a_wait_ending_sooner_than_the_last_gets_its_own_timer():
    async def main():
        expiries = Expiries()
        slow = asyncio.ensure_future(timed_wait(_Wakeup(expiries), 1.0))
        await asyncio.sleep(0)
        fast = await timed_wait(_Wakeup(expiries), 0.1)
        assert not slow.done()
        assert len(expiries.waits) == 1  # only the slow one shares the timer
        return fast, await slow

    fast, slow = run(main())
    assert 0.09 <= fast < 0.6
    assert 0.95 <= slow < 2.0


def test_a_wait_set_before_its_deadline_is_forgotten():
    async def main():
        expiries = Expiries()
        first, second = _Wakeup(expiries), _Wakeup(expiries)
        waiting = asyncio.ensure_future(first.wait(0.1))
        later = asyncio.ensure_future(timed_wait(second, 0.3))
        await asyncio.sleep(0.02)
        first.set()
        await waiting
        assert len(expiries.waits) == 1
        return await later

    assert 0.28 <= run(main()) < 1.0


def test_a_server_used_on_a_second_loop_times_its_polls_out_there():
    # The server outlives a loop that ended with a poll still waiting (as in
    # python-engineio's own tests, which run each test on a new loop).
    server = AsyncServer(async_mode='asgi')

    stale = _Wakeup(server._expiries).wait(5)

    async def start_poll():
        stale.send(None)  # suspended on its future; never resumed

    first = asyncio.new_event_loop()
    first.run_until_complete(start_poll())
    first.close()
    assert len(server._expiries.waits) == 1

    async def one_poll():
        return await timed_wait(_Wakeup(server._expiries), 0.1)

    try:
        assert 0.09 <= run(one_poll()) < 0.6
    finally:
        stale.close()
