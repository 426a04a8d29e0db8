"""`python -m bot` in its own process against the Discord emulator, as a host runs it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.config import Settings
from discord_emulator import DiscordEmulator

ROOT = Path(__file__).parents[2]
_SETTINGS_VARIABLES = (
    "DISCORD_TOKEN",
    "FEED_URL",
    "DATABASE_PATH",
    "POLL_INTERVAL_SECONDS",
    "DISCORD_API_BASE",
    "DEV_GUILD_ID",
    "LOG_LEVEL",
    "DSH_BOT_CALLER_DIR",
)


def bot_environment(discord: DiscordEmulator, settings: Settings, **variables: str) -> dict[str, str]:
    """The environment of a host whose .env points the bot at the emulator and the feed host."""
    environment = {name: value for name, value in os.environ.items() if name not in _SETTINGS_VARIABLES}
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
