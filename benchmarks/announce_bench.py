"""Announcement fan-out benchmark: time from the poll tick to the last announcement, and the worst
event-loop lag meanwhile, for 1, 100 and 1,000 servers, against the Discord emulator on 127.0.0.1.

    .venv/bin/python benchmarks/announce_bench.py [--servers 1 100 1000]

The emulator runs in the same process and event loop as the bot, so the figures include its own
work; they compare runs with each other, not with Discord's real latency.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.demo import FEED_FILE, PREVIOUS_FEED_FILE
from bot.demo.feed_server import FeedServer
from bot.demo.harness import emulator_settings, running_bot
from discord_emulator import DiscordEmulator


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


async def measure(servers: int) -> tuple[float, float, int]:
    async with (
        DiscordEmulator(rate_limit=10_000) as discord,
        FeedServer(PREVIOUS_FEED_FILE.read_bytes()) as feed,
    ):
        channels = []
        for n in range(servers):
            guild = discord.add_guild(f"Community {n}")
            channels.append((guild, discord.add_channel(guild, "new-episodes")))
        with tempfile.TemporaryDirectory() as scratch:
            settings = emulator_settings(discord, feed.url, Path(scratch) / "bench.sqlite3")
            async with running_bot(discord, settings, start_within=120) as bot:
                await bot.services.announcer.poll()
                for guild, channel in channels:
                    await bot.services.guilds.update(
                        guild.id, now=bot.services.announcer.clock(), announce_channel_id=channel.id
                    )
                feed.publish(FEED_FILE.read_bytes())
                with LagMonitor() as lag:
                    started = time.perf_counter()
                    await bot.services.announcer.poll()
                    elapsed = time.perf_counter() - started
                sent = sum(len(discord.messages(channel)) for _, channel in channels)
    return elapsed, lag.worst, sent


async def main(counts: list[int]) -> None:
    logging.basicConfig(level=logging.ERROR)
    header = ("servers", "announcements", "poll to last (s)", "per server (ms)", "worst lag (ms)")
    print("  ".join(f"{column:>16}" for column in header))
    for servers in counts:
        elapsed, worst_lag, sent = await measure(servers)
        assert sent == 2 * servers, f"expected {2 * servers} announcements, got {sent}"
        row = (servers, sent, f"{elapsed:.2f}", f"{elapsed / servers * 1000:.1f}", f"{worst_lag * 1000:.1f}")
        print("  ".join(f"{value:>16}" for value in row))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 100, 1000])
    asyncio.run(main(parser.parse_args().servers))
