"""The soak: many servers, many episodes, seeded random faults (429 bursts, 5xx runs, lost responses,
Cloudflare's ban, gateway drops, restarts hours apart) on a clock the soak moves forward; then every
(server, episode) must be in Discord exactly once, in order, read from what Discord stored (the
announcements' footer refs), not from the bot's database.

Used by tests/e2e/test_soak.py (small) and benchmarks/soak_bench.py (several seeds, bigger).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from bot.app import PodcastBot
from bot.demo.feed_server import FeedServer
from bot.demo.harness import emulator_settings, running_bot
from discord_emulator import Channel, DiscordEmulator

JSON = dict[str, Any]
_REF = re.compile(r" · ref e(\d+)$")
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
STEPS_BETWEEN = (timedelta(minutes=2), timedelta(minutes=20), timedelta(hours=1), timedelta(hours=7))


def soak_feed(episodes: int) -> bytes:
    """A feed of `episodes` items, one a day from START on, newest first."""
    items = []
    for number in range(episodes, 0, -1):
        published = format_datetime(START + timedelta(days=number))
        items.append(
            f"<item><title>Soak episode {number}</title><guid>soak-{number}</guid>"
            f"<link>https://example.com/soak/{number}</link><pubDate>{published}</pubDate>"
            f"<enclosure url='https://cdn.example.com/soak/{number}.mp3' type='audio/mpeg' length='1'/>"
            f"<description>Notes of episode {number}.</description></item>"
        )
    return (
        "<rss version='2.0'><channel><title>Soak</title><link>https://example.com/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


@dataclass
class SoakReport:
    seed: int
    servers: int
    episodes: int
    expected: int = 0
    delivered: int = 0
    duplicates: int = 0
    missing: int = 0
    out_of_order: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    invalid_requests: int = 0

    @property
    def exact(self) -> bool:
        return self.duplicates == self.missing == self.out_of_order == 0 and self.delivered == self.expected


class _Clock:
    """The bot's clock, moved forward with the emulator's."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0) + self.offset


async def soak(
    seed: int, *, servers: int, episodes: int, steps: int, workdir: Path, log: Callable[[str], None] = print
) -> SoakReport:
    rng = random.Random(seed)
    report = SoakReport(seed, servers, episodes)
    clock = _Clock()
    published = 0
    async with DiscordEmulator() as discord, FeedServer(soak_feed(0)) as feed:
        channels = _servers(discord, servers)
        settings = emulator_settings(discord, feed.url, workdir / f"soak-{seed}.sqlite3")

        @contextlib.asynccontextmanager
        async def bot() -> AsyncIterator[PodcastBot]:
            async with running_bot(discord, settings) as started:
                started.services.announcer.clock = clock.now
                yield started

        running = bot()
        current = await running.__aenter__()
        try:
            feed.publish(soak_feed(1))  # the back catalogue: not news
            await current.services.announcer.poll()
            for channel in channels:
                await current.services.guilds.update(
                    channel.guild_id, now=clock.now(), announce_channel_id=channel.id
                )
            for _ in range(steps):
                if published < episodes:
                    published += 1
                    feed.publish(soak_feed(1 + published))
                fault = _inject(rng, discord, channels)
                report.faults[fault] += 1
                if fault == "restart":
                    await running.__aexit__(None, None, None)
                    step = timedelta(hours=rng.randint(2, 12))  # down for hours: nonces long forgotten
                    clock.offset += step
                    await discord.advance(step.total_seconds())
                    running = bot()
                    current = await running.__aenter__()
                elif fault == "gateway drop":
                    await discord.drop_gateway()
                await current.services.announcer.poll(force=True)
                step = rng.choice(STEPS_BETWEEN)
                clock.offset += step
                await discord.advance(step.total_seconds())
            # The weather clears: everything still queued goes out.
            discord.clear_faults()
            for _ in range(40):
                clock.offset += timedelta(hours=1)
                await discord.advance(3600)
                await current.services.announcer.deliver_due()
                if await current.services.outbox.pending_total() == 0:
                    break
        finally:
            await running.__aexit__(None, None, None)
        report.expected = servers * published
        _check(discord, channels, published, report)
        report.requests = len(discord.requests)
        # Answered 401, 403 or 429 over the whole run (the emulator's own count covers 10 minutes).
        report.invalid_requests = sum(1 for request in discord.requests if request.status in (401, 403, 429))
    log(
        f"seed {seed}: {report.delivered}/{report.expected} delivered, {report.duplicates} duplicates, "
        f"{report.missing} missing, {report.out_of_order} out of order; faults {dict(report.faults)}"
    )
    return report


def _servers(discord: DiscordEmulator, count: int) -> list[Channel]:
    """Servers announcing in text, announcement and forum channels (tags required in some forums)."""
    channels = []
    for n in range(count):
        guild = discord.add_guild(f"Soak {n}")
        kind = ("text", "announcement", "forum")[n % 3]
        channels.append(discord.add_channel(guild, "new-episodes", type=kind))
    return channels


def _inject(rng: random.Random, discord: DiscordEmulator, channels: list[Channel]) -> str:
    """One random fault for the next step (or none)."""
    channel = rng.choice(channels)
    posts = f"/channels/{channel.id}/{'threads' if channel.type == 15 else 'messages'}"
    kind = rng.choices(
        ["none", "429 burst", "5xx run", "lost response", "cloudflare", "gateway drop", "restart"],
        weights=[30, 15, 15, 15, 3, 7, 8],
    )[0]
    if kind == "429 burst":  # five in a row outlast discord.py; fewer are waited out
        discord.fail_next("POST", posts, status=429, retry_after=0.05, count=rng.randint(1, 7))
    elif kind == "5xx run":
        discord.fail_next("POST", posts, status=rng.choice([500, 502, 503]), count=rng.randint(1, 6))
    elif kind == "lost response":
        discord.lose_response_next("POST", posts)
    elif kind == "cloudflare":
        discord.fail_next("POST", posts, status=429, cloudflare=True)
    return kind


def _check(discord: DiscordEmulator, channels: list[Channel], published: int, report: SoakReport) -> None:
    for channel in channels:
        refs = [_ref(message) for message in _announcements(discord, channel)]
        episodes = [ref for ref in refs if ref is not None]
        counts = Counter(episodes)
        report.delivered += len(counts)
        report.duplicates += sum(count - 1 for count in counts.values())
        report.missing += published - len(counts)
        first_seen = list(dict.fromkeys(episodes))
        report.out_of_order += sum(1 for a, b in itertools.pairwise(first_seen) if a > b)


def _announcements(discord: DiscordEmulator, channel: Channel) -> list[JSON]:
    if channel.type != 15:
        return discord.messages(channel)
    return [discord.message(thread.id) for thread in discord.threads(channel)]


def _ref(message: JSON) -> int | None:
    for embed in message.get("embeds", []):
        match = _REF.search((embed.get("footer") or {}).get("text", ""))
        if match:
            return int(match.group(1))
    return None
