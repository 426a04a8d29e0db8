import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.db import Database
from bot.db.connection import DatabaseError, Migration, bundled_migrations, sql_statements

ROOT = Path(__file__).parents[2]


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
    with pytest.raises(DatabaseError, match="syntax error"):
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
    with pytest.raises(DatabaseError, match="newer than this bot knows") as raised:
        await Database.open(path, newer[:1])
    assert str(path) in str(raised.value)


async def test_database_of_another_program_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = tmp_path / "someone-else.sqlite3"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (body TEXT)")
    other.execute("INSERT INTO notes VALUES ('mine')")
    other.commit()
    other.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="another program") as raised:
        await Database.open(path)
    assert str(path) in str(raised.value)
    assert path.read_bytes() == before
    assert not path.with_name(path.name + "-wal").exists()


async def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some text, long enough to have a header of its own " * 4)
    with pytest.raises(DatabaseError, match="not a SQLite database") as raised:
        await Database.open(path)
    assert str(raised.value).startswith(f"database {path}: ")


async def test_a_folder_given_as_the_database_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="it is a folder") as raised:
        await Database.open(tmp_path)
    assert str(tmp_path) in str(raised.value)


def test_a_script_splits_into_whole_statements() -> None:
    script = """
    CREATE TABLE t (x TEXT); -- a comment; with a semicolon
    INSERT INTO t VALUES ('a;b');
    CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN
        INSERT INTO t VALUES ('c');
    END;
    """
    statements = sql_statements(script)
    assert len(statements) == 3
    assert statements[1].endswith("VALUES ('a;b');")
    assert statements[2].startswith("CREATE TRIGGER")
    assert statements[2].endswith("END;")


def test_bundled_migrations_are_numbered_without_gaps() -> None:
    versions = [migration.version for migration in bundled_migrations()]
    assert versions == list(range(1, len(versions) + 1))


# Each process waits for the same instant, then opens the same fresh file: the first opens race.
_OPEN_AT = """
import asyncio, sys, time
from bot.db import Database
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
async def main():
    database = await Database.open(sys.argv[1])
    await database.close()
asyncio.run(main())
"""


def test_processes_opening_a_new_database_at_once_all_succeed(tmp_path: Path) -> None:
    for round_number in range(3):
        path = tmp_path / f"race-{round_number}.sqlite3"
        start_at = time.time() + 1.5
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", _OPEN_AT, str(path), str(start_at)],
                cwd=ROOT,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(8)
        ]
        failures = [error for process in processes if (error := process.communicate(timeout=30)[1])]
        assert failures == []
        assert all(process.returncode == 0 for process in processes)
        connection = sqlite3.connect(path)
        try:
            assert connection.execute("PRAGMA user_version").fetchone()[0] == bundled_migrations()[-1].version
        finally:
            connection.close()


async def test_read_only_opening_writes_nothing_and_reads_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    database = await Database.open(path)
    async with database.transaction() as connection:
        await connection.execute("INSERT INTO feeds (url) VALUES ('https://example.com/feed')")
    await database.close()
    before = path.read_bytes()
    reader = await Database.open_read_only(path)
    try:
        async with reader.connection.execute("SELECT count(*) FROM feeds") as cursor:
            assert (await cursor.fetchone())[0] == 1
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await reader.connection.execute("DELETE FROM feeds")
    finally:
        await reader.close()
    assert path.read_bytes() == before


async def test_read_only_opening_refuses_an_older_schema_and_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    database = await Database.open(path, bundled_migrations()[:2])
    await database.close()
    with pytest.raises(DatabaseError, match="older than this bot's"):
        await Database.open_read_only(path)
    with pytest.raises(DatabaseError, match="there is no database at"):
        await Database.open_read_only(tmp_path / "missing.sqlite3")
    assert not (tmp_path / "missing.sqlite3").exists()
