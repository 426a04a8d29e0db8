"""`python -m bot` in its own process against the Discord emulator, as a host runs it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from bot.__main__ import CALLER_DIRECTORY_VARIABLE
from bot.config import Settings
from bot.demo.feed_server import FeedServer
from discord_emulator import DiscordEmulator, Permission
from tests.e2e.conftest import Server, StartBot, add_server, configure
from tests.test_main import SETTINGS_VARIABLES

ROOT = Path(__file__).parents[2]


def bot_environment(discord: DiscordEmulator, settings: Settings, **variables: str) -> dict[str, str]:
    """The environment of a host whose .env points the bot at the emulator and the feed host."""
    inherited = (*SETTINGS_VARIABLES, CALLER_DIRECTORY_VARIABLE)
    environment = {name: value for name, value in os.environ.items() if name not in inherited}
    environment.update(
        DISCORD_TOKEN=discord.token,
        DISCORD_API_BASE=discord.api_base,
        FEED_URL=settings.feed_url,
        DATABASE_PATH=str(settings.database_path),
        PYTHONPATH=str(ROOT),
    )
    environment.update(variables)
    return environment


async def python_m_bot(
    environment: dict[str, str], *args: str, cwd: Path, within: float = 45.0
) -> tuple[int, str, str]:
    """Run `python -m bot ARGS` to its end while this event loop keeps serving the emulator."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=environment,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=within)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_sync_says_how_many_commands_it_registered_globally(
    discord: DiscordEmulator, settings: Settings, tmp_path: Path
) -> None:
    discord.add_guild("Data Science at Home")
    status, out, err = await python_m_bot(bot_environment(discord, settings), "sync", cwd=tmp_path)
    assert status == 0, err
    names = sorted(command["name"] for command in discord.synced_commands())
    listed = ", ".join(f"/{name}" for name in names)
    assert out == (
        f"Registered {len(names)} slash commands globally "
        f"(Discord may take a while to show them in every server): {listed}\n"
    )


async def test_sync_with_a_development_server_says_it_registered_there(
    discord: DiscordEmulator, settings: Settings, tmp_path: Path
) -> None:
    guild = discord.add_guild("Data Science at Home")
    environment = bot_environment(discord, settings, DEV_GUILD_ID=str(guild.id))
    status, out, err = await python_m_bot(environment, "sync", cwd=tmp_path)
    assert status == 0, err
    assert discord.synced_commands() == []
    count = len(discord.synced_commands(guild))
    assert out.startswith(f"Registered {count} slash commands in the development server {guild.id} ")


async def _configured(discord: DiscordEmulator, start_bot: StartBot, *servers: Server) -> None:
    """The moderators of `servers` set the bot up; then the bot stops, and the host runs check."""
    async with start_bot():
        for server in servers:
            await configure(discord, server)


async def test_check_reports_a_working_set_up_line_by_line_and_exits_0(
    discord: DiscordEmulator, server: Server, start_bot: StartBot, settings: Settings, tmp_path: Path
) -> None:
    await _configured(discord, start_bot, server)
    requests_before = len(discord.requests)
    status, out, err = await python_m_bot(bot_environment(discord, settings), "check", cwd=tmp_path)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert all(line.startswith("ok    ") for line in lines), out
    assert f"ok    database {settings.database_path}: 1 servers have an announcement channel" in lines
    assert any(line.startswith("ok    token: works: logged in as ") for line in lines)
    assert (
        f"ok    server 'Data Science at Home' ({server.guild.id}) #new-episodes: "
        "the bot has every permission it needs to announce there"
    ) in lines
    assert any(
        line.startswith(f"ok    feed {settings.feed_url}: answers and parses: 91 episodes") for line in lines
    )
    # Permissions come from what the gateway sent: the only REST calls are discord.py's own at login.
    assert {(r.method, r.path) for r in discord.requests[requests_before:]} == {
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
    }


async def test_check_names_each_problem_and_exits_1(
    discord: DiscordEmulator,
    server: Server,
    start_bot: StartBot,
    settings: Settings,
    feed_host: FeedServer,
    tmp_path: Path,
) -> None:
    other = add_server(discord, "Another community")
    await _configured(discord, start_bot, server, other)
    # While the bot is offline: a permission is taken away, a channel deleted, the feed breaks.
    discord.set_bot_channel_permissions(server.episodes_channel, deny=Permission.EMBED_LINKS)
    discord.delete_channel(other.episodes_channel)
    feed_host.fail_next(500)
    status, out, _ = await python_m_bot(bot_environment(discord, settings), "check", cwd=tmp_path)
    assert status == 1
    failures = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert failures == [
        f"FAIL  server 'Data Science at Home' ({server.guild.id}) #new-episodes: the bot lacks Embed Links "
        "there: grant them to its role in that channel",
        f"FAIL  server 'Another community' ({other.guild.id}): the announcement channel "
        f"({other.episodes_channel.id}) is gone: a moderator can choose another with /config channel set",
        f"FAIL  feed {settings.feed_url}: HTTP 500 from {settings.feed_url}: check FEED_URL",
    ]


async def test_check_with_a_rejected_token_says_so_without_printing_it(
    discord: DiscordEmulator, settings: Settings, tmp_path: Path
) -> None:
    environment = bot_environment(discord, settings, DISCORD_TOKEN="not-the-token")
    status, out, err = await python_m_bot(environment, "check", cwd=tmp_path)
    assert status == 1
    assert (
        "FAIL  token: Discord rejected it: copy the bot token again from the developer portal"
        in out.splitlines()
    )
    assert "not-the-token" not in out + err


_TOKEN_IN_PATH = re.compile(r"^/(?:interactions|webhooks)/\d+/([^/]+)")


@pytest.mark.timeout(90)
async def test_no_token_or_webhook_url_reaches_the_log_at_debug(
    discord: DiscordEmulator, server: Server, settings: Settings, tmp_path: Path
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=bot_environment(discord, settings, LOG_LEVEL="DEBUG"),
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    # Read as it comes: DEBUG fills a pipe's buffer long before the bot stops.
    reading = asyncio.create_task(process.stderr.read())
    try:
        await discord.wait_until_ready(timeout=30)
        await discord.wait_for(lambda: discord.synced_commands(), timeout=10)
        # A deferred answer and its follow-up: an interaction callback and a webhook request.
        await discord.run_command(server.listener, server.guild.general, "episode latest")
        await configure(discord, server)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=20)
    log = (await reading).decode()
    tokens = {match[1] for r in discord.requests if (match := _TOKEN_IN_PATH.match(r.path))}
    assert len(tokens) >= 3  # the test saw the interaction tokens it looks for
    assert "INTERACTION_CREATE" in log  # and the log is at DEBUG, where discord.py prints them
    assert [token for token in tokens if token in log] == []
    assert discord.token not in log
    assert re.findall(r"/(?:interactions|webhooks)/\d+/(?!\[redacted\])[^/\s'\"]+", log) == []
    assert "/[redacted]/callback" in log
    assert "'token': '[redacted]'" in log
