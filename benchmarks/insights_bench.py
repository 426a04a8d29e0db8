"""Insights benchmark: what recording a search adds to /episode search, at 1,000 and 10,000 episodes.

For each query of search_bench's mix, in the same run and alternating: the search alone; the search
and the start of its recording (what the listener waits for: the write runs in the background); and
the search with its write awaited (the whole cost). CPU is process_time (the event loop's thread and
SQLite's together); each figure is the median over several runs of the p95, next to its goal.

Run: .venv/bin/python benchmarks/insights_bench.py [--episodes 1000 10000] [--runs 5] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.search_bench import percentile, query_mix, synthetic_catalogue  # noqa: E402
from bot.community.insights import Insights  # noqa: E402
from bot.db import Database, EpisodeRepository  # noqa: E402
from bot.db.insights import InsightsRepository  # noqa: E402
from bot.db.suggestions import SuggestionRepository  # noqa: E402
from bot.search import EpisodeSearch  # noqa: E402

ADDED_GOAL_MS = 0.5  # p95 CPU the recording may add to what the listener waits for
GUILD = 1


async def cpu_ms(call: Callable[[], Awaitable[object]]) -> float:
    started = time.process_time()
    await call()
    return (time.process_time() - started) * 1000


async def one_run(search: EpisodeSearch, insights: Insights, queries: list[str]) -> dict[str, float]:
    async def plain(query: str) -> None:
        await search.search(query, limit=30)

    async def recorded(query: str) -> None:
        hits = await search.search(query, limit=30)
        insights.record_search(GUILD, query, len(hits))

    async def written(query: str) -> None:
        await recorded(query)
        await insights.settle()

    times: dict[str, list[float]] = {
        "search alone": [],
        "search + recording (reply)": [],
        "with the write": [],
    }
    for position, query in enumerate(queries):
        order = list(zip(times, (plain, recorded, written), strict=True))
        if position % 2:
            order.reverse()  # neither comes first every time: caches warm for both
        for name, call in order:
            times[name].append(await cpu_ms(lambda call=call, query=query: call(query)))
        await insights.settle()
    return {name: percentile(values, 0.95) for name, values in times.items()}


async def run(count: int, seed: int, runs: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        database = await Database.open(Path(folder) / "bench.sqlite3")
        try:
            episodes = synthetic_catalogue(count, seed)
            repository = EpisodeRepository(database)
            await repository.upsert_many(episodes, seen_at=datetime(2025, 1, 1, tzinfo=UTC))
            search = EpisodeSearch(repository)
            insights = Insights(
                InsightsRepository(database), SuggestionRepository(database), retention=timedelta(days=90)
            )
            await search.search("warm up")
            queries = [query for _, query in query_mix(episodes, seed)]
            results = [await one_run(search, insights, queries) for _ in range(runs)]
        finally:
            await database.close()
    medians = {name: statistics.median(result[name] for result in results) for name in results[0]}
    print(f"\n{count:,} episodes, {len(queries)} queries, median of {runs} runs of the p95 CPU:")
    for name, value in medians.items():
        print(f"  {name:<28} {value:7.3f} ms")
    added = medians["search + recording (reply)"] - medians["search alone"]
    met = added <= ADDED_GOAL_MS
    print(f"  added to the reply: {added:+.3f} ms  goal <= {ADDED_GOAL_MS} ms  {'met' if met else 'MISSED'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    met = [asyncio.run(run(count, args.seed, args.runs)) for count in args.episodes]
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
