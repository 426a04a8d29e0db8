import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import Database, EpisodeRepository
from bot.db.backup import BackupError, back_up
from bot.db.connection import bundled_migrations
from tests.conftest import make_episode

SEEN = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
async def stocked(database: Database, episodes: EpisodeRepository) -> Path:
    """The bot's database, open (as while the bot runs), with ten episodes."""
    await episodes.upsert_many([make_episode(n) for n in range(1, 11)], seen_at=SEEN)
    return Path(database.path)


async def test_a_backup_is_a_verified_copy_of_the_database(stocked: Path, tmp_path: Path) -> None:
    backup = await back_up(stocked, tmp_path / "backup.sqlite3")
    assert backup.episodes == 10
    assert backup.schema_version == bundled_migrations()[-1].version
    copy = sqlite3.connect(backup.path)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM episodes").fetchone()[0] == 10
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    finally:
        copy.close()


async def test_a_write_in_progress_is_not_in_the_backup(stocked: Path, tmp_path: Path) -> None:
    writer = sqlite3.connect(stocked, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM episodes WHERE number > 5")
        backup = await back_up(stocked, tmp_path / "during.sqlite3")
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert backup.episodes == 10
    after = await back_up(stocked, tmp_path / "after.sqlite3")
    assert after.episodes == 5


async def test_an_existing_file_is_kept_unless_asked(stocked: Path, tmp_path: Path) -> None:
    target = tmp_path / "backup.sqlite3"
    target.write_text("an older backup")
    with pytest.raises(BackupError, match="already exists: give another path, or add --force"):
        await back_up(stocked, target)
    assert target.read_text() == "an older backup"
    await back_up(stocked, target, overwrite=True)
    assert target.read_bytes().startswith(b"SQLite format 3\x00")
    assert [name for name in os.listdir(tmp_path) if ".partial" in name] == []


async def test_a_database_of_another_program_is_not_backed_up(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE photos (name TEXT)")
    connection.close()
    with pytest.raises(BackupError, match="not a database of this bot"):
        await back_up(other, tmp_path / "backup.sqlite3")
    assert not (tmp_path / "backup.sqlite3").exists()


async def test_a_missing_database_is_named(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match=f"there is no database at {tmp_path / 'none.sqlite3'}"):
        await back_up(tmp_path / "none.sqlite3", tmp_path / "backup.sqlite3")
