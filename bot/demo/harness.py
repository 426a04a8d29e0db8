"""Runs the real bot, through `python -m bot run`'s code path, against the emulator and a feed server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.app import BotOptions, PodcastBot
from bot.config import Settings
from bot.runner import run_bot
from discord_emulator.emulator import DiscordEmulator

T = TypeVar("T")

# Tests and the demo poll when they choose to: the scheduled first poll would race them.
MANUAL_POLLING = BotOptions(first_poll_delay=timedelta(hours=1), guild_ready_timeout=0.1)


async def _unless_stopped(waited: asyncio.Future[T], bot_task: asyncio.Task[None]) -> T:
    """`waited`'s result, or why the bot stopped if it stopped first."""
    either: list[asyncio.Future[Any]] = [waited, bot_task]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if not waited.done():
        waited.cancel()
        bot_task.result()
        raise RuntimeError("the bot stopped before it was ready")
    return waited.result()


def emulator_settings(
    emulator: DiscordEmulator, feed_url: str, database_path: Path, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "discord_token": emulator.token,
        "feed_url": feed_url,
        "database_path": database_path,
        "discord_api_base": emulator.api_base,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running_bot(
    emulator: DiscordEmulator,
    settings: Settings,
    options: BotOptions = MANUAL_POLLING,
    *,
    start_within: float = 15.0,
) -> AsyncIterator[PodcastBot]:
    """The bot connected and ready (commands synced, every server's GUILD_CREATE processed);
    on exit it is closed the way SIGTERM closes it, and whatever run_bot raised is re-raised."""
    previous = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    started: asyncio.Future[PodcastBot] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_bot(settings, options=options, on_started=started.set_result), name="bot")
    try:
        async with asyncio.timeout(start_within):
            bot = await _unless_stopped(started, task)
            await _unless_stopped(asyncio.ensure_future(emulator.wait_until_ready(start_within)), task)
            await _unless_stopped(asyncio.ensure_future(bot.wait_until_ready()), task)
        yield bot
    finally:
        if started.done() and not started.cancelled():
            await started.result().close()
        else:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = previous
