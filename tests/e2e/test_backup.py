"""A backup taken while the bot runs, restored the README's way, brings back what the bot knew."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.config import Settings
from bot.db.backup import back_up
from discord_emulator import DiscordEmulator
from tests.e2e.conftest import Server, StartBot, configure


async def test_a_backup_taken_while_the_bot_runs_restores_its_settings_and_episodes(
    discord: DiscordEmulator, server: Server, start_bot: StartBot, settings: Settings, tmp_path: Path
) -> None:
    backup = tmp_path / "backup.sqlite3"
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        taken = await back_up(settings.database_path, backup)
        episodes = await bot.services.episodes.count()
    assert taken.episodes == episodes > 0
    # The disk is lost: the database and its -wal and -shm files are gone.
    for suffix in ("", "-wal", "-shm"):
        settings.database_path.with_name(settings.database_path.name + suffix).unlink(missing_ok=True)
    # Restore: with the bot stopped, copy the backup over the database file.
    shutil.copyfile(backup, settings.database_path)
    async with start_bot() as bot:
        restored = await bot.services.guilds.get(server.guild.id)
        assert restored.announce_channel_id == server.episodes_channel.id
        assert restored.ping_role_id == server.ping_role.id
        assert await bot.services.episodes.count() == episodes
