"""A crash between Discord accepting an announcement and the bot recording it must not, after a
restart, produce a second message, even when the restart comes after Discord has forgotten the nonce
(developers/resources/message.mdx: enforce_nonce deduplicates for "the past few minutes"): the bot
looks for its own announcement before sending again. For text, announcement and forum channels."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.demo.feed_server import FeedServer
from discord_emulator import Channel, ChannelType, DiscordEmulator
from tests.e2e.conftest import Server, StartBot
from tests.e2e.feeds import without_newest

REPOSITORY = Path(__file__).parents[2]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["text", "announcement", "forum"])
async def test_killed_after_discord_stored_it_the_bot_restarted_hours_later_does_not_post_twice(
    kind: str,
    discord: DiscordEmulator,
    server: Server,
    feed_host: FeedServer,
    start_bot: StartBot,
    settings: Settings,
) -> None:
    channel = discord.add_channel(server.guild, "episodes", type=kind)  # type: ignore[arg-type]
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=channel
        )
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

    path = f"/channels/{channel.id}/{'threads' if kind == 'forum' else 'messages'}"
    posted = discord.lose_response_next("POST", path, after_handling=kill_the_bot)
    try:
        # The bot's first scheduled poll finds the episode and sends it: Discord keeps the message,
        # the bot dies before it hears back.
        await asyncio.wait_for(process.wait(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert posted.hits
    sent = posted_ids(discord, channel)
    assert len(sent) == 1

    await discord.advance(6 * 3600)  # the bot stays down for hours: Discord forgets the nonce
    async with start_bot() as bot:
        await bot.services.announcer.deliver_due()
        summary = await bot.services.outbox.summary(server.guild.id)
        latest = (await bot.services.episodes.latest())[0]
        announcement = await bot.services.outbox.for_episode(server.guild.id, latest.id)
    assert posted_ids(discord, channel) == sent
    assert summary.sent == 1
    assert announcement is not None
    assert announcement.attempts == 2
    assert [announcement.message_id] == sent


def posted_ids(discord: DiscordEmulator, channel: Channel) -> list[int]:
    """What the bot posted: messages, or in a forum its posts (a post's first message has its id)."""
    if channel.type == ChannelType.FORUM:
        return [thread.id for thread in discord.threads(channel)]
    return [int(message["id"]) for message in discord.messages(channel)]
