"""parse_feed in a worker process: same results, and time, memory and crash limits that hold."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest

from bot.feed.isolation import ParserWorker, parse_feed_isolated, parse_time_limit, shutdown_parser_workers
from bot.feed.parse import MAX_FEED_BYTES, FeedParseError, parse_feed
from tests.feed.conftest import many_attributes_feed, simple_feed

pytestmark = pytest.mark.timeout(30)

FEED_URL = "https://datascienceathome.com/feed.xml"


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def _started(worker: ParserWorker) -> int:
    await worker.parse(simple_feed(1))
    assert worker.pid is not None
    return worker.pid


async def test_result_equals_parse_feed(parser_worker: ParserWorker, dsh_feed: bytes) -> None:
    assert await parser_worker.parse(dsh_feed, FEED_URL) == parse_feed(dsh_feed, FEED_URL)


async def test_one_worker_serves_every_call(parser_worker: ParserWorker) -> None:
    pid = await _started(parser_worker)

    results = await asyncio.gather(*(parser_worker.parse(simple_feed(n)) for n in (1, 2, 3)))

    assert [len(result.episodes) for result in results] == [1, 2, 3]
    assert parser_worker.pid == pid


async def test_parse_errors_come_back_and_keep_the_worker(parser_worker: ParserWorker) -> None:
    pid = await _started(parser_worker)

    with pytest.raises(FeedParseError, match=r"^not a feed$"):
        await parser_worker.parse(b"<!DOCTYPE html><html><body><p>Hello</p></body></html>")
    assert parser_worker.pid == pid


async def test_slow_parse_is_killed_at_the_time_limit(parser_worker: ParserWorker) -> None:
    pid = await _started(parser_worker)
    started = time.monotonic()

    with pytest.raises(FeedParseError, match=r"^parsing took longer than 0\.5 s$"):
        await parser_worker.parse(many_attributes_feed(60_000), timeout=0.5)

    assert time.monotonic() - started < 3
    assert parser_worker.pid is None
    assert _gone(pid)
    assert len((await parser_worker.parse(simple_feed(2))).episodes) == 2
    assert parser_worker.pid not in (None, pid)


async def test_memory_limit_is_a_parse_error_and_the_worker_is_replaced(parser_worker: ParserWorker) -> None:
    pid = await _started(parser_worker)
    # A 19 MB description needs about 150-200 MB of address space in the worker (which idles at ~30 MB).
    huge = simple_feed(1, notes="A" * 19_000_000)

    with pytest.raises(FeedParseError, match=r"^parsing needed more than 100 MB of memory$"):
        await parser_worker.parse(huge, memory_limit_bytes=100 << 20)

    assert _gone(pid)
    assert len((await parser_worker.parse(huge)).episodes) == 1  # the default limit is 1 GiB


async def test_worker_killed_mid_parse_is_a_parse_error(parser_worker: ParserWorker) -> None:
    pid = await _started(parser_worker)
    job = asyncio.create_task(parser_worker.parse(many_attributes_feed(60_000)))
    await asyncio.sleep(0.5)

    os.kill(pid, signal.SIGKILL)

    with pytest.raises(FeedParseError, match=r"^parser worker died \(exit code -9\)$"):
        await job
    assert len((await parser_worker.parse(simple_feed(1))).episodes) == 1


async def test_worker_that_died_while_idle_is_replaced_silently(parser_worker: ParserWorker) -> None:
    pid = await _started(parser_worker)
    os.kill(pid, signal.SIGKILL)
    await asyncio.sleep(0.2)

    assert len((await parser_worker.parse(simple_feed(3))).episodes) == 3
    assert parser_worker.pid not in (None, pid)


async def test_cancelled_caller_does_not_wedge_the_worker(parser_worker: ParserWorker) -> None:
    await _started(parser_worker)
    job = asyncio.create_task(parser_worker.parse(many_attributes_feed(60_000), timeout=1))
    await asyncio.sleep(0.1)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job

    # The abandoned job runs into its time limit; the next caller then gets a fresh worker.
    assert len((await parser_worker.parse(simple_feed(1))).episodes) == 1


async def test_oversized_body_is_refused_without_starting_a_worker(parser_worker: ParserWorker) -> None:
    with pytest.raises(FeedParseError, match=r"^feed larger than 20 MB$"):
        await parser_worker.parse(b" " * 20_000_001)
    assert parser_worker.pid is None


async def test_aclose_leaves_no_process_behind(parser_worker: ParserWorker) -> None:
    pid = await _started(parser_worker)

    await parser_worker.aclose()

    assert parser_worker.pid is None
    assert _gone(pid)
    assert pid not in [child.pid for child in multiprocessing.active_children()]


async def test_aclose_during_a_parse_stops_it(parser_worker: ParserWorker) -> None:
    pid = await _started(parser_worker)
    job = asyncio.create_task(parser_worker.parse(many_attributes_feed(60_000)))
    await asyncio.sleep(0.3)

    await asyncio.wait_for(parser_worker.aclose(), timeout=5)

    with pytest.raises(FeedParseError, match=r"^parser worker died"):
        await job
    assert _gone(pid)


async def test_event_loop_stays_responsive_while_a_big_feed_parses(parser_worker: ParserWorker) -> None:
    await _started(parser_worker)
    body = simple_feed(3000, notes="<p>" + "word " * 200 + "</p>")
    worst_lag = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst_lag
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            worst_lag = max(worst_lag, time.perf_counter() - before - 0.005)

    probe = asyncio.create_task(ticker())
    started = time.perf_counter()
    feed = await parser_worker.parse(body)
    elapsed = time.perf_counter() - started
    done.set()
    await probe

    assert len(feed.episodes) == 3000
    assert elapsed > 0.3  # long enough for the lag measurement to mean something
    # On the loop, the parse would have blocked it for about `elapsed`; a ratio, not a fixed time,
    # so a loaded machine cannot make the test flaky.
    assert worst_lag < elapsed / 4, f"worst lag {worst_lag * 1000:.0f} ms while parsing for {elapsed:.1f} s"


@pytest.fixture
async def shared_worker() -> AsyncIterator[None]:
    yield
    await shutdown_parser_workers()


@pytest.mark.usefixtures("shared_worker")
async def test_module_functions_use_one_shared_worker(dsh_feed: bytes) -> None:
    first = await parse_feed_isolated(dsh_feed, FEED_URL)
    workers = multiprocessing.active_children()
    second = await parse_feed_isolated(dsh_feed, FEED_URL, timeout=10, memory_limit_bytes=512 << 20)

    assert first == second
    assert len(first.episodes) == 93
    assert len(workers) == 1
    assert multiprocessing.active_children() == workers

    await shutdown_parser_workers()

    assert multiprocessing.active_children() == []


def test_a_large_honest_feed_gets_more_time_than_a_small_one() -> None:
    # 20 s cuts a small hostile document short; a 20 MB feed takes ~15 s of CPU on its own.
    assert parse_time_limit(50_000) == pytest.approx(20.2)
    assert parse_time_limit(MAX_FEED_BYTES) == pytest.approx(100.0)
