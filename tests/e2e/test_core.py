"""The bot on Discord: it connects, syncs its commands once, answers, survives a dropped gateway and
a rate limit, and never shows a user a traceback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import BotOptions
from bot.config import Settings
from bot.demo.feed_server import FeedServer
from bot.runner import sync_commands_once
from bot.ui.replies import GENERIC_ERROR_MESSAGE
from discord_emulator import DiscordEmulator, Permission
from discord_emulator.gateway import GUILD_MESSAGES, GUILDS, PRIVILEGED_INTENTS
from tests.e2e.conftest import StartBot


async def test_connects_with_no_privileged_intent_and_syncs_its_commands(
    discord: DiscordEmulator, start_bot: StartBot
) -> None:
    discord.add_guild("Data Science at Home")
    async with start_bot():
        names = {command["name"] for command in discord.synced_commands()}
    assert {"about", "ping", "config"} <= names
    # Guilds, and guild messages to count messages in episode threads; no privileged intent.
    assert discord.intents == GUILDS | GUILD_MESSAGES
    assert not discord.intents & PRIVILEGED_INTENTS


async def test_ping_and_about_answer_privately(discord: DiscordEmulator, start_bot: StartBot) -> None:
    guild = discord.add_guild("Data Science at Home")
    listener = discord.add_member(guild, "listener")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        ping = await discord.run_command(listener, guild.general, "ping")
        about = await discord.run_command(listener, guild.general, "about")
    assert ping.ephemeral
    assert ping.content.startswith("Pong!")
    assert about.ephemeral
    fields = {field["name"]: field["value"] for field in about.embed["fields"]}
    assert fields["Episodes"] == "91"
    assert "(ok)" in fields["Last feed check"]


async def test_commands_are_not_synced_again_when_nothing_changed(
    discord: DiscordEmulator, start_bot: StartBot
) -> None:
    discord.add_guild("Data Science at Home")
    async with start_bot():
        pass
    async with start_bot():
        pass
    assert len(discord.requests_to("PUT", f"/applications/{discord.application_id}/commands")) == 1


async def test_dev_guild_gets_its_commands_at_every_start(
    discord: DiscordEmulator, start_bot: StartBot
) -> None:
    guild = discord.add_guild("Dev server")
    async with start_bot(dev_guild_id=guild.id):
        pass
    assert {command["name"] for command in discord.synced_commands(guild)} >= {"about", "ping"}
    assert discord.requests_to("PUT", f"/applications/{discord.application_id}/commands") == []


async def test_resumes_after_the_gateway_drops_and_still_answers(
    discord: DiscordEmulator, start_bot: StartBot
) -> None:
    guild = discord.add_guild("Data Science at Home")
    listener = discord.add_member(guild, "listener")
    async with start_bot():
        await discord.drop_gateway(resumable=True)
        await discord.wait_for(lambda: discord.resume_count == 1 and discord.connected, timeout=10)
        result = await discord.run_command(listener, guild.general, "ping")
    assert result.content.startswith("Pong!")


async def test_a_rate_limited_reply_is_waited_out_and_retried(
    discord: DiscordEmulator, start_bot: StartBot
) -> None:
    guild = discord.add_guild("Data Science at Home")
    listener = discord.add_member(guild, "listener")
    async with start_bot():
        discord.fail_next("POST", "/interactions/*/*/callback", status=429, retry_after=0.3)
        result = await discord.run_command(listener, guild.general, "ping")
    assert result.content.startswith("Pong!")
    assert len(discord.requests_to("POST", "/interactions/*/*/callback")) == 2


async def test_an_unexpected_error_gets_a_generic_private_reply(
    discord: DiscordEmulator,
    start_bot: StartBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    guild = discord.add_guild("Data Science at Home")
    listener = discord.add_member(guild, "listener")

    async def broken_count() -> int:
        raise RuntimeError("database on fire")

    async with start_bot() as bot:
        monkeypatch.setattr(bot.services.episodes, "count", broken_count)
        result = await discord.run_command(listener, guild.general, "about")
    assert result.ephemeral
    assert result.content == GENERIC_ERROR_MESSAGE
    assert "database on fire" in caplog.text


@pytest.mark.timeout(60)
async def test_python_m_bot_run_connects_and_stops_cleanly_on_sigterm(
    discord: DiscordEmulator, settings: Settings, tmp_path: Path
) -> None:
    discord.add_guild("Data Science at Home")
    environment = {
        **os.environ,
        "DISCORD_TOKEN": discord.token,
        "DISCORD_API_BASE": discord.api_base,
        "FEED_URL": settings.feed_url,
        "DATABASE_PATH": str(tmp_path / "run.sqlite3"),
        "LOG_LEVEL": "INFO",
        "PYTHONWARNINGS": "error::ResourceWarning",
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=environment,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await discord.wait_until_ready(timeout=30)
        await discord.wait_for(lambda: discord.synced_commands(), timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Stopped cleanly" in log
    assert "Unclosed" not in log
    assert "Task was destroyed" not in log
    assert discord.token not in log


async def test_the_scheduler_polls_the_feed_shortly_after_start(
    discord: DiscordEmulator, start_bot: StartBot, feed_host: FeedServer
) -> None:
    discord.add_guild("Data Science at Home")
    async with start_bot(BotOptions(first_poll_delay=timedelta(seconds=0.2), guild_ready_timeout=0.1)) as bot:
        async with asyncio.timeout(10):
            # Nothing signals the end of a scheduled poll, so watch its effect in the database.
            while await bot.services.episodes.count() < 91:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        job = bot.scheduler.get_job("poll_feed")
        assert job is not None
    assert feed_host.stats.full_responses == 1
    assert job.trigger.interval == timedelta(seconds=600)
    assert job.coalesce
    assert job.max_instances == 1


async def test_python_m_bot_sync_registers_the_commands_and_exits(
    discord: DiscordEmulator, settings: Settings
) -> None:
    discord.add_guild("Data Science at Home")
    await sync_commands_once(settings)
    await sync_commands_once(settings)  # forced: syncs even though nothing changed
    assert len(discord.requests_to("PUT", f"/applications/{discord.application_id}/commands")) == 2
    assert {"episode", "config", "suggest", "suggestions", "about", "ping"} <= {
        command["name"] for command in discord.synced_commands()
    }
    assert discord.identify_count == 0  # HTTP only: it never connected to the gateway


@pytest.mark.timeout(60)
async def test_a_rejected_token_stops_python_m_bot_run_with_one_clear_line(
    discord: DiscordEmulator, settings: Settings, tmp_path: Path
) -> None:
    environment = {
        **os.environ,
        "DISCORD_TOKEN": "not-the-token",
        "DISCORD_API_BASE": discord.api_base,
        "FEED_URL": settings.feed_url,
        "DATABASE_PATH": str(tmp_path / "run.sqlite3"),
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=environment, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 1
    last_line = stderr.decode().strip().splitlines()[-1]
    assert (
        last_line
        == "error: Discord rejected DISCORD_TOKEN: copy the bot token again from the developer portal"
    )
    assert "not-the-token" not in stderr.decode()


async def test_help_lists_what_the_person_asking_may_use(
    discord: DiscordEmulator, start_bot: StartBot
) -> None:
    guild = discord.add_guild("Data Science at Home")
    listener = discord.add_member(guild, "listener")
    moderator = discord.add_member(guild, "moderator", permissions=Permission.MANAGE_GUILD)
    async with start_bot():
        for_listener = await discord.run_command(listener, guild.general, "help")
        for_moderator = await discord.run_command(moderator, guild.general, "help")
    listed = for_listener.embed["description"]
    assert for_listener.ephemeral
    assert "`/episode search`" in listed
    assert "`/suggest`" in listed
    assert "`/suggestions top`" in listed
    assert "/config" not in listed
    assert "`/suggestions mark`" not in listed  # a moderator subcommand in a group everyone sees
    moderators = for_moderator.embed["description"].split("**For moderators (Manage Server)**")[1]
    assert "`/config channel set`" in moderators
    assert "`/suggestions mark`" in moderators
    assert "`/help`" not in moderators
