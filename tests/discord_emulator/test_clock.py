"""The emulator's clock: real time plus an offset, moved by ``advance``, read by everything time-based."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import discord
import pytest

from discord_emulator import DiscordEmulator, EmulatorClock, InteractionTimeout
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import MiniBot

pytestmark = pytest.mark.timeout(15)


def test_clock_is_real_time_plus_an_offset_that_only_grows() -> None:
    clock = EmulatorClock()
    before = time.time()

    clock.move_forward(3600)

    assert clock.offset == 3600
    assert before + 3600 <= clock.time() <= time.time() + 3600
    assert abs(clock.now() - datetime.now(UTC) - timedelta(hours=1)) < timedelta(seconds=1)
    assert time.monotonic() + 3600 - clock.monotonic() < 1
    with pytest.raises(ValueError, match="forward"):
        clock.move_forward(-1)


async def test_snowflakes_and_timestamps_follow_the_clock(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    channel = bot.get_partial_messageable(server.guild.general.id)
    now = await channel.send("now")

    await emulator.advance(3600)
    later = await channel.send("an hour later")

    # discord.py reads created_at from the snowflake; the emulator stamps "timestamp" from the clock.
    assert timedelta(minutes=59) < later.created_at - now.created_at < timedelta(minutes=61)
    stored = emulator.message(later.id)["timestamp"]
    assert abs(datetime.fromisoformat(stored) - later.created_at) < timedelta(seconds=1)


async def test_the_interaction_response_window_runs_on_the_clock(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # interactions/receiving-and-responding.mdx: the initial response must come within 3 seconds.
    # /late answers after 0.4 s of real time; the clock jumps 3 s meanwhile.
    running = asyncio.create_task(emulator.run_command(server.alice, server.guild.general, "late"))
    await emulator.wait_for(lambda: bot.interactions_seen)
    await emulator.advance(3.1)

    with pytest.raises(InteractionTimeout):
        await running

    await emulator.wait_for(lambda: emulator.api_errors(code=10062), timeout=2)
    assert emulator.messages(server.guild.general) == []


async def test_the_interaction_token_lifetime_runs_on_the_clock(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # A follow-up is possible for 15 minutes (receiving-and-responding.mdx, "Followup Messages"):
    # /patient follows up 0.4 s after its answer, by which time the clock is 15 minutes on.
    result = await emulator.run_command(server.alice, server.guild.general, "patient", settle=0)
    await emulator.advance(15 * 60)
    await emulator.wait_for(lambda: bot.followup_errors, timeout=2)

    assert result.content == "first"
    (error,) = bot.followup_errors
    assert isinstance(error, discord.HTTPException)
    assert (error.status, error.code) == (401, 50027)
