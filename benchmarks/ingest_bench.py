"""Ingest benchmark: a changed 5,000-item feed, against feedparser's own parse of it in the same run.

Prints, each next to its goal: the event loop's worst lag while the changed feed is stored (the
catalogue already holds the previous version), and the whole ingest (parse in the worker process,
transfer, clean, store) over feedparser.parse() of the same document in-process, worker start-up
excluded; medians of several runs.

Run from the project root:  .venv/bin/python benchmarks/ingest_bench.py [--items 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.loop_lag import worst_lag_while
from benchmarks.parse_lag import make_feed
from bot.db import Database, EpisodeRepository, FeedRepository
from bot.feed.ingest import FeedIngestor
from bot.feed.isolation import parse_feed_isolated, shutdown_parser_workers

STORE_LAG_GOAL_MS = 20.0
INGEST_RATIO_GOAL = 1.1
TICK = 0.002


def changed(body: bytes) -> bytes:
    """The same feed a week later: one item's notes edited."""
    return body.replace(b"word7 ", b"word7 edited ", 1)


async def one_run(previous: bytes, current: bytes, run: int) -> tuple[float, float, float]:
    """(worst loop lag while storing, in ms; feedparser's parse, in s; the whole ingest, in s)."""
    started = time.perf_counter()
    feedparser.parse(current)  # the baseline: feedparser alone, in this process
    feedparser_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as directory:
        database = await Database.open(Path(directory) / "bench.sqlite3")
        try:
            episodes = EpisodeRepository(database)
            seen = datetime(2026, 1, 1, tzinfo=UTC)
            await episodes.upsert_many(
                (await parse_feed_isolated(previous, timeout=120)).episodes, seen_at=seen
            )
            parsed = await parse_feed_isolated(current, timeout=120)
            stored = await worst_lag_while(episodes.upsert_many(parsed.episodes, seen_at=seen), tick=TICK)
            # The whole ingest of a changed document, from the bytes to the rows stored.
            await episodes.upsert_many(
                (await parse_feed_isolated(previous, timeout=120)).episodes, seen_at=seen
            )
            ingestor = FeedIngestor(FeedRepository(database), episodes, fetcher=None)  # type: ignore[arg-type]
            started = time.perf_counter()
            result = await ingestor.ingest_document(current, f"file:///bench-{run}.xml")
            ingest_seconds = time.perf_counter() - started
            assert result.changed
        finally:
            await database.close()
    return stored.lag_ms, feedparser_seconds, ingest_seconds


async def main(items: int, runs: int) -> int:
    previous = make_feed(items)
    current = changed(previous)
    print(f"feed: {items} items, {len(current) / 1e6:.1f} MB; {runs} runs, medians")
    try:
        await parse_feed_isolated(make_feed(1))  # start the worker outside the measurement
        measured = [await one_run(previous, current, run) for run in range(runs)]
    finally:
        await shutdown_parser_workers()
    store_lag = statistics.median(lag for lag, _, _ in measured)
    baseline = statistics.median(seconds for _, seconds, _ in measured)
    ingest = statistics.median(seconds for _, _, seconds in measured)
    ratio = ingest / baseline
    print(f"baseline: feedparser.parse in-process  {baseline * 1000:8.0f} ms")
    print(f"ingest (worker parse, transfer, clean, store) {ingest * 1000:8.0f} ms")
    store_ok, ratio_ok = store_lag <= STORE_LAG_GOAL_MS, ratio <= INGEST_RATIO_GOAL
    print(
        f"storing the changed feed, worst loop lag {store_lag:8.2f} ms  goal <= {STORE_LAG_GOAL_MS:g} ms  "
        f"{'met' if store_ok else 'MISSED'}"
    )
    print(
        f"ingest / feedparser                      {ratio:8.2f}     goal <= {INGEST_RATIO_GOAL:g}     "
        f"{'met' if ratio_ok else 'MISSED'}"
    )
    return 0 if store_ok and ratio_ok else 1


if __name__ == "__main__":  # the spawned worker imports this module; it must not run the benchmark
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.items, arguments.runs)))
