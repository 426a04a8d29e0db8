"""Fixtures for the emulator's own tests: an emulator, a server in it, and the minimal bot connected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from discord_emulator import DiscordEmulator, Guild, Member
from tests.discord_emulator.minibot import MiniBot


@pytest.fixture
def emulator_options() -> dict[str, object]:
    """Override in a test module (or parametrize) to configure the emulator."""
    return {}


@pytest.fixture
async def emulator(emulator_options: dict[str, object]) -> AsyncIterator[DiscordEmulator]:
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
