"""Announcement fan-out benchmark on Discord's real limits: the time from the poll tick to the last
announcement for 1, 100 and 1,000 servers, next to Discord's floor for the work (one request per
announcement at the global 50 requests per second), and the requests actually made per announcement.

    .venv/bin/python benchmarks/announce_bench.py [--servers 1 100 1000] [--runs 1]

The Discord emulator runs with its defaults (developers/topics/rate-limits.mdx: 50 requests per second
per bot, message creation 5 per 5 s per channel), in the same process and event loop as the bot. Goal:
within 1.1x of the floor at 1,000 servers, every announcement delivered once, and no 429 beyond what
Discord's limits themselves impose (the invalid-request count stays at 0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.demo import FEED_FILE, PREVIOUS_FEED_FILE
from bot.demo.feed_server import FeedServer
from bot.demo.harness import emulator_settings, running_bot
from discord_emulator import DiscordEmulator

GLOBAL_LIMIT = 50  # requests per second (developers/topics/rate-limits.mdx)
GOAL_RATIO = 1.1


@dataclass(frozen=True)
class Run:
    servers: int
    announcements: int
    seconds: float
    cpu_seconds: float
    requests: int
    invalid: int
    worst_lag: float

    @property
    def floor(self) -> float:
        return self.announcements / GLOBAL_LIMIT


class LagMonitor:
    """Worst overshoot of a 5 ms sleep: how long the loop was blocked at most."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, loop.time() - start - 0.005)

    def __enter__(self) -> LagMonitor:
        self._task = asyncio.get_running_loop().create_task(self._watch())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def measure(servers: int) -> Run:
    async with DiscordEmulator() as discord, FeedServer(PREVIOUS_FEED_FILE.read_bytes()) as feed:
        channels = []
        for n in range(servers):
            guild = discord.add_guild(f"Community {n}")
            channels.append((guild, discord.add_channel(guild, "new-episodes")))
        with tempfile.TemporaryDirectory() as scratch:
            settings = emulator_settings(discord, feed.url, Path(scratch) / "bench.sqlite3")
            async with running_bot(discord, settings, start_within=120) as bot:
                announcer = bot.services.announcer
                await announcer.poll()
                for guild, channel in channels:
                    await bot.services.guilds.update(
                        guild.id, now=announcer.clock(), announce_channel_id=channel.id
                    )
                feed.publish(FEED_FILE.read_bytes())
                before = len(discord.requests)
                invalid_before = discord.invalid_request_count
                with LagMonitor() as lag:
                    started, cpu_started = time.perf_counter(), time.process_time()
                    await announcer.poll()
                    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                requests = len(discord.requests) - before
                invalid = discord.invalid_request_count - invalid_before
                sent = sum(len(discord.messages(channel)) for _, channel in channels)
    assert sent == 2 * servers, f"expected {2 * servers} announcements, got {sent}"
    return Run(servers, sent, seconds, cpu, requests, invalid, lag.worst)


async def main(counts: list[int], runs: int) -> None:
    logging.basicConfig(level=logging.ERROR)
    header = (
        "servers",
        "announced",
        "poll→last s",
        "CPU s",
        "floor s",
        "ratio",
        "goal",
        "req/ann",
        "429s",
        "lag ms",
    )
    print("  ".join(f"{column:>11}" for column in header))
    for servers in counts:
        results = [await measure(servers) for _ in range(runs)]
        run = sorted(results, key=lambda r: r.seconds)[len(results) // 2]  # the median run
        ratio = statistics.median(r.seconds / r.floor for r in results)
        row = (
            servers,
            run.announcements,
            f"{run.seconds:.2f}",
            f"{run.cpu_seconds:.2f}",
            f"{run.floor:.2f}",
            f"{ratio:.2f}x",
            f"≤{GOAL_RATIO}x" if servers >= 1000 else "",
            f"{run.requests / run.announcements:.2f}",
            run.invalid,
            f"{run.worst_lag * 1000:.1f}",
        )
        print("  ".join(f"{value!s:>11}" for value in row))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--runs", type=int, default=1, help="runs per size; the median is shown")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.servers, arguments.runs))
