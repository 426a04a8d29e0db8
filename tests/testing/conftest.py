"""Fixtures for the emulator's own tests: an emulator, a server in it, and the minimal bot connected."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.testing import DiscordEmulator, Guild, Member
from tests.testing.minibot import MiniBot


@pytest.fixture
def restore_discord_urls() -> Iterator[None]:
    """redirect_discord_api changes process-wide class attributes: put them back after each test."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@pytest.fixture
def emulator_options() -> dict[str, object]:
    """Override in a test module (or parametrize) to configure the emulator."""
    return {}


@pytest.fixture
async def emulator(
    restore_discord_urls: None, emulator_options: dict[str, object]
) -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(**emulator_options) as discord_emulator:  # type: ignore[arg-type]
        yield discord_emulator


@dataclass(frozen=True)
class Server:
    guild: Guild
    alice: Member


@pytest.fixture
def server(emulator: DiscordEmulator) -> Server:
    guild = emulator.add_guild("Data Science at Home")
    return Server(guild, emulator.add_member(guild, "alice"))


@pytest.fixture
async def bot(emulator: DiscordEmulator, server: Server) -> AsyncIterator[MiniBot]:
    async with emulator.run_bot(MiniBot()) as started:
        yield started
