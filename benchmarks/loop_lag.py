"""The event loop's worst lag while some work runs: how long anything else on the loop (a command,
a heartbeat) would have waited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def worst_lag_while(work: Awaitable[T], *, tick: float, settle: float = 0.02) -> tuple[float, T, float]:
    """(worst lag in ms, what `work` returned, its wall time in s), the loop sampled every `tick`
    from `settle` seconds before `work` starts."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(tick)
            worst = max(worst, time.perf_counter() - before - tick)

    probe = asyncio.create_task(ticker())
    await asyncio.sleep(settle)
    started = time.perf_counter()
    result = await work
    elapsed = time.perf_counter() - started
    done.set()
    await probe
    return worst * 1000, result, elapsed
