"""The database: one aiosqlite connection, its PRAGMAs, migrations and write transactions."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

MEMORY = ":memory:"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The numbered, append-only migrations shipped in `bot/db/migrations/`, in order."""
    found = []
    for entry in resources.files("bot.db.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {versions}")
    return found


def sql_statements(script: str) -> list[str]:
    """The statements of `script`, each whole: a semicolon inside a string or a trigger's body does
    not end one."""
    statements = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \t\r\n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \t\r\n;"):
        raise ValueError(f"unfinished SQL statement at the end of the script: {pending.strip()!r}")
    return statements


def _refuse_newer(current: int, newest: int) -> None:
    if current > newest:
        raise RuntimeError(
            f"the database is at schema version {current}, newer than this bot knows ({newest}): "
            "upgrade the bot"
        )


class Database:
    """One connection shared by the whole bot.

    Writes go through `transaction()`, which serialises them: coroutines share the connection,
    so without the lock one coroutine's statement could land inside another's transaction.
    """

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, migrations: list[Migration] | None = None) -> Database:
        if str(path) != MEMORY:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            connection.row_factory = aiosqlite.Row
            # First: every later statement may wait for another process that holds the lock.
            await connection.execute("PRAGMA busy_timeout = 5000")
            await connection.execute("PRAGMA journal_mode = WAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA synchronous = NORMAL")
            database = cls(connection)
            await database.migrate(bundled_migrations() if migrations is None else migrations)
        except BaseException:
            await connection.close()
            raise
        return database

    async def close(self) -> None:
        await self.connection.close()

    async def schema_version(self) -> int:
        async with self.connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, migrations: list[Migration]) -> None:
        """Bring the schema to the newest migration, safely when several processes open a new
        database at once: the version is read again under the write lock, so only one of them
        applies each migration and the others find it done."""
        newest = migrations[-1].version if migrations else 0
        current = await self.schema_version()
        _refuse_newer(current, newest)
        if current == newest:
            return
        await self.connection.execute("BEGIN IMMEDIATE")
        try:
            current = await self.schema_version()
            _refuse_newer(current, newest)
            for migration in migrations:
                if migration.version <= current:
                    continue
                log.info("Applying database migration %s", migration.name)
                # Statement by statement: executescript() would commit the transaction that holds
                # the lock. All pending migrations commit together, or none does.
                for statement in sql_statements(migration.sql):
                    await self.connection.execute(statement)
                await self.connection.execute(f"PRAGMA user_version = {migration.version:d}")
        except BaseException:
            await self.connection.rollback()
            raise
        await self.connection.commit()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                await self.connection.rollback()
                raise
            await self.connection.commit()
