"""A crash between Discord accepting an announcement and the bot recording it must not, after a
restart, produce a second message: the resend carries the same nonce, and Discord (enforce_nonce)
answers with the message it already has."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.demo.feed_server import FeedServer
from discord_emulator import DiscordEmulator
from tests.e2e.conftest import Server, StartBot, configure
from tests.e2e.feeds import without_newest

REPOSITORY = Path(__file__).parents[2]


@pytest.mark.timeout(90)
async def test_killed_mid_send_the_restarted_bot_does_not_post_twice(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot, settings: Settings
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
    feed_host.publish(without_newest(1))

    environment = {
        **os.environ,
        "PYTHONPATH": str(REPOSITORY),
        "DISCORD_TOKEN": discord.token,
        "DISCORD_API_BASE": discord.api_base,
        "FEED_URL": settings.feed_url,
        "DATABASE_PATH": str(settings.database_path),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=environment, stderr=asyncio.subprocess.DEVNULL
    )

    async def kill_the_bot() -> None:
        process.kill()
        await process.wait()

    posted = discord.lose_response_next(
        "POST", f"/channels/{server.episodes_channel.id}/messages", after_handling=kill_the_bot
    )
    try:
        # The bot's first scheduled poll finds the episode and sends it: Discord keeps the message,
        # the bot dies before it hears back.
        await asyncio.wait_for(process.wait(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert posted.hits
    (sent,) = discord.messages(server.episodes_channel)

    async with start_bot() as bot:
        await bot.services.announcer.deliver_due()
        summary = await bot.services.outbox.summary(server.guild.id)
        latest = (await bot.services.episodes.latest())[0]
        announcement = await bot.services.outbox.for_episode(server.guild.id, latest.id)
    assert [message["id"] for message in discord.messages(server.episodes_channel)] == [sent["id"]]
    assert summary.sent == 1
    assert announcement is not None
    assert announcement.attempts == 2
    assert str(announcement.message_id) == sent["id"]
