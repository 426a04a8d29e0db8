"""End-to-end fixtures: the Discord emulator, a feed host and the real bot, all on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import BotOptions, PodcastBot
from bot.config import Settings
from bot.demo import FEED_FILE, PREVIOUS_FEED_FILE
from bot.demo.feed_server import FeedServer
from bot.demo.harness import MANUAL_POLLING, emulator_settings, running_bot
from discord_emulator import (
    DEFAULT_BOT_PERMISSIONS,
    Channel,
    DiscordEmulator,
    Guild,
    Member,
    Permission,
    Role,
)

FEED = FEED_FILE.read_bytes()
FEED_PREVIOUS = PREVIOUS_FEED_FILE.read_bytes()

StartBot = Callable[..., AbstractAsyncContextManager[PodcastBot]]


@pytest.fixture
async def discord() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator() as emulator:
        yield emulator


@pytest.fixture
async def feed_host() -> AsyncIterator[FeedServer]:
    async with FeedServer(FEED_PREVIOUS) as server:
        yield server


@pytest.fixture
def settings(discord: DiscordEmulator, feed_host: FeedServer, tmp_path: Path) -> Settings:
    return emulator_settings(discord, feed_host.url, tmp_path / "bot.sqlite3")


@pytest.fixture
def start_bot(discord: DiscordEmulator, settings: Settings) -> StartBot:
    """`async with start_bot() as bot:` runs the real bot; call it again to restart on the same database."""

    def start(
        options: BotOptions = MANUAL_POLLING, **overrides: object
    ) -> AbstractAsyncContextManager[PodcastBot]:
        chosen = settings if not overrides else Settings(**{**_fields(settings), **overrides})
        return running_bot(discord, chosen, options)

    return start


def _fields(settings: Settings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in Settings.__dataclass_fields__}


@dataclass
class Server:
    """A community server as a test needs it: who is there and where episodes go."""

    guild: Guild
    episodes_channel: Channel
    moderator: Member
    listener: Member
    ping_role: Role


def add_server(discord: DiscordEmulator, name: str = "Data Science at Home") -> Server:
    guild = discord.add_guild(name)
    return Server(
        guild=guild,
        episodes_channel=discord.add_channel(guild, "new-episodes"),
        moderator=discord.add_member(guild, "moderator", permissions=Permission.MANAGE_GUILD),
        listener=discord.add_member(guild, "listener"),
        ping_role=discord.add_role(guild, "New Episodes", mentionable=True),
    )


@pytest.fixture
def server(discord: DiscordEmulator) -> Server:
    return add_server(discord)


async def configure(discord: DiscordEmulator, server: Server, *, role: bool = True) -> None:
    """A moderator points announcements at #new-episodes (and the ping role), as they would."""
    result = await discord.run_command(
        server.moderator, server.guild.general, "config channel set", channel=server.episodes_channel
    )
    assert "New episodes will be announced" in result.content, result.content
    if role:
        result = await discord.run_command(
            server.moderator, server.guild.general, "config role set", role=server.ping_role
        )
        assert "will ping" in result.content, result.content


def let_the_bot_hand_out_the_ping_role(discord: DiscordEmulator, server: Server) -> None:
    """What the Notify me button needs: Manage Roles, and the bot's role above the ping role."""
    discord.set_bot_permissions(server.guild, DEFAULT_BOT_PERMISSIONS | Permission.MANAGE_ROLES)
    discord.edit_role(server.guild.bot_role, position=server.ping_role.position + 1)


async def later(discord: DiscordEmulator, bot: PodcastBot, by: timedelta) -> None:
    """Time passes, for Discord (the emulator's clock) and for the bot (the announcer's clock) alike."""
    now = bot.services.announcer.clock()
    bot.services.announcer.clock = lambda: now + by
    await discord.advance(by.total_seconds())
