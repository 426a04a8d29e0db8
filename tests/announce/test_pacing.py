"""The pacer spreads requests under Discord's global limit of 50 per second."""

from __future__ import annotations

import asyncio

import pytest

from bot.announce.pacing import RequestPacer


async def test_no_second_holds_more_requests_than_the_rate() -> None:
    pacer = RequestPacer(rate=100)
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def request() -> None:
        async with pacer.slot():
            times.append(loop.time())

    await asyncio.gather(*(request() for _ in range(150)))

    assert len(times) == 150
    # A busy machine only delays requests further: the bounds hold whatever the load.
    for start in times:
        assert sum(1 for moment in times if start <= moment < start + 1.0) <= 101
    assert times[-1] - times[0] >= 1.48  # 149 gaps of 10 ms


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestPacer(rate=0)
