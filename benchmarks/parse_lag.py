"""Event-loop lag while a 5,000-item feed is parsed: in the worker process versus on the loop itself.

Run from the project root:  .venv/bin/python benchmarks/parse_lag.py [--items N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.loop_lag import worst_lag_while
from bot.feed.isolation import parse_feed_isolated, shutdown_parser_workers
from bot.feed.parse import parse_feed
from bot.models import ParsedFeed

TICK = 0.005


def make_feed(items: int, *, words: int = 120) -> bytes:
    """A plausible podcast feed: HTML show notes of `words` words (~1 KB for 120) per item, twice,
    iTunes tags, enclosures."""
    notes = "<p>" + " ".join(f"word{n}" for n in range(words)) + "</p><ul><li>one</li><li>two</li></ul>"
    entries = "".join(
        f"<item><title>Episode {i}: a topic (Ep. {i})</title><guid isPermaLink='false'>ep-{i}</guid>"
        f"<link>https://example.com/ep/{i}/</link><pubDate>Wed, 11 Dec 2019 12:00:00 +0000</pubDate>"
        f"<itunes:duration>20:33</itunes:duration><itunes:episode>{i}</itunes:episode>"
        f"<enclosure url='https://cdn.example.com/{i}.mp3' length='1' type='audio/mpeg'/>"
        f"<description><![CDATA[{notes}]]></description>"
        f"<content:encoded><![CDATA[{notes}]]></content:encoded></item>"
        for i in range(items, 0, -1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Benchmark</title><link>https://example.com/</link>{entries}</channel></rss>"
    ).encode()


async def measure(parse: Callable[[], Awaitable[ParsedFeed]]) -> tuple[float, float, int]:
    """(worst loop lag in s, parse time in s, episodes) while ``parse`` runs."""
    parsed = await worst_lag_while(parse(), tick=TICK, settle=0.05)
    return parsed.lag_ms / 1000, parsed.seconds, len(parsed.result.episodes)


async def direct(body: bytes) -> ParsedFeed:
    return parse_feed(body)  # on the loop, on purpose: this is the baseline


async def main(items: int) -> None:
    body = make_feed(items)
    print(f"feed: {items} items, {len(body) / 1e6:.1f} MB")
    try:
        warm = await parse_feed_isolated(make_feed(1))  # start the worker outside the measurement
        assert len(warm.episodes) == 1
        for run in (1, 2):
            lag, elapsed, count = await measure(lambda: parse_feed_isolated(body, timeout=120))
            print(
                f"isolated (run {run}): worst loop lag {lag * 1000:7.1f} ms, "
                f"parse {elapsed:5.2f} s, {count} episodes"
            )
    finally:
        await shutdown_parser_workers()
    lag, elapsed, count = await measure(lambda: direct(body))
    print(
        f"direct on the loop:  worst loop lag {lag * 1000:7.1f} ms, parse {elapsed:5.2f} s, {count} episodes"
    )


if __name__ == "__main__":  # the spawned worker imports this module; it must not run the benchmark
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=5000)
    asyncio.run(main(parser.parse_args().items))
