import sqlite3
from pathlib import Path

import pytest

from bot.db import Database
from bot.db.connection import Migration, bundled_migrations


async def test_fresh_database_is_at_the_newest_version_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        assert await database.schema_version() == bundled_migrations()[-1].version
        async with database.connection.execute("PRAGMA journal_mode") as cursor:
            assert (await cursor.fetchone())[0] == "wal"
        async with database.connection.execute("PRAGMA foreign_keys") as cursor:
            assert (await cursor.fetchone())[0] == 1
    finally:
        await database.close()


async def test_reopening_applies_nothing_twice_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    database = await Database.open(path)
    async with database.transaction() as connection:
        await connection.execute("INSERT INTO feeds (url) VALUES ('https://example.com/feed')")
    await database.close()
    database = await Database.open(path)
    try:
        async with database.connection.execute("SELECT count(*) FROM feeds") as cursor:
            assert (await cursor.fetchone())[0] == 1
    finally:
        await database.close()


async def test_failing_migration_leaves_the_schema_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    good = Migration(1, "0001_good.sql", "CREATE TABLE kept (id INTEGER);")
    bad = Migration(2, "0002_bad.sql", "CREATE TABLE half (id INTEGER); THIS IS NOT SQL;")
    with pytest.raises(sqlite3.OperationalError):
        await Database.open(path, [good, bad])
    database = await Database.open(path, [good])
    try:
        assert await database.schema_version() == 1
        async with database.connection.execute(
            "SELECT name FROM sqlite_master WHERE name = 'half'"
        ) as cursor:
            assert await cursor.fetchone() is None
    finally:
        await database.close()


async def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    newer = [Migration(1, "0001_a.sql", "SELECT 1;"), Migration(2, "0002_b.sql", "SELECT 1;")]
    database = await Database.open(path, newer)
    await database.close()
    with pytest.raises(RuntimeError, match="newer than this bot knows"):
        await Database.open(path, newer[:1])


def test_bundled_migrations_are_numbered_without_gaps() -> None:
    versions = [migration.version for migration in bundled_migrations()]
    assert versions == list(range(1, len(versions) + 1))
