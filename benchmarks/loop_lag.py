"""The event loop's worst lag while some work runs: how long anything else on the loop (a command,
a heartbeat) would have waited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Generic, NamedTuple, TypeVar

from bot.search.steps import switching_often

T = TypeVar("T")


class LoopLag(NamedTuple, Generic[T]):
    lag_ms: float  # the loop's worst lag
    result: T  # what the work returned
    seconds: float  # the work's wall time
    # CPU time every thread of the process used during that worst tick: near lag_ms, its threads
    # were busy (a long call holding the GIL, say); near zero, the machine stalled the whole process
    # (CPU steal on a shared virtual machine, for one).
    ran_ms: float


async def worst_lag_while(work: Awaitable[T], *, tick: float, settle: float = 0.02) -> LoopLag[T]:
    """The loop sampled every `tick` from `settle` seconds before `work` starts until it is done."""
    worst, worst_ran = 0.0, 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst, worst_ran
        while not done.is_set():
            before, ran_before = time.perf_counter(), time.process_time()
            await asyncio.sleep(tick)
            late = time.perf_counter() - before - tick
            if late > worst:
                worst, worst_ran = late, time.process_time() - ran_before

    probe = asyncio.create_task(ticker())
    await asyncio.sleep(settle)
    started = time.perf_counter()
    result = await work
    elapsed = time.perf_counter() - started
    done.set()
    await probe
    return LoopLag(worst * 1000, result, elapsed, worst_ran * 1000)


def _plain_python(seconds: float) -> int:
    """Python work that holds the GIL in no long call: words counted in a sentence, again and again."""
    words = ("plain", "python", "code", "and", "nothing", "else", "the", "loop", "waits", "for")
    counts: dict[str, int] = {}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    return sum(counts.values())


async def baseline_lag(seconds: float, *, tick: float) -> LoopLag[int]:
    """The loop's worst lag while a thread runs plain Python for `seconds`, the GIL switched as
    often as the search engine's builds do: what this machine adds on its own (a VM's CPU steal, the
    scheduler), measured in the same run as the work it is set against.
    """

    def run() -> int:
        with switching_often():
            return _plain_python(seconds)

    return await worst_lag_while(asyncio.to_thread(run), tick=tick)
