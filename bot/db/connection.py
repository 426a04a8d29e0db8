"""The database: one aiosqlite connection, its PRAGMAs, migrations and write transactions."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

MEMORY = ":memory:"
_WAL_ATTEMPTS = 20  # about ten seconds
# How long a statement waits for another process's write (SQLite retries meanwhile). Writers take
# turns in short transactions, but SQLite does not queue them: with several ingests writing batch
# after batch, one can miss its turn for longer than a batch takes. Waiting is better than failing
# ("database is locked") with the work lost; the wait ends when the others finish.
_BUSY_TIMEOUT_MS = 60_000
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


class DatabaseError(Exception):
    """The database file cannot be used; the message names the file and says what to do."""


# What SQLite's primary error codes mean for the person who chose the path, and what to do.
_PROBLEMS = {
    "SQLITE_CANTOPEN": "cannot open or create it: check that its folder exists and is writable",
    "SQLITE_READONLY": "it is read-only: the bot must be able to write to it and to its folder",
    "SQLITE_PERM": "the bot is not allowed to write to it or to its folder",
    "SQLITE_NOTADB": "it is not a SQLite database: give the bot another path",
    "SQLITE_CORRUPT": "it is damaged: restore it from a backup",
    "SQLITE_BUSY": "another process keeps it locked: try again in a moment",
    "SQLITE_FULL": "the disk is full",
    "SQLITE_IOERR": "the disk reported an error reading or writing it",
}


def database_problem(path: Path | str, error: sqlite3.Error) -> DatabaseError:
    """`error`, met while using the database at `path`, as one line that names the file."""
    code: str = getattr(error, "sqlite_errorname", "")
    primary = "_".join(code.split("_")[:2])  # SQLITE_READONLY_DIRECTORY -> SQLITE_READONLY
    return DatabaseError(f"database {path}: {_PROBLEMS.get(primary, str(error))}")


def _prepare_file(path: Path | str) -> None:
    """Create the database's folder, and find out whether SQLite can open the file. Tried here
    without aiosqlite: when its connect fails, its worker thread outlives the event loop and prints a
    traceback of its own."""
    if str(path) == MEMORY:
        return
    if Path(path).is_dir():
        raise DatabaseError(f"database {path}: it is a folder; give the path of a file")
    folder = Path(path).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        raise DatabaseError(f"database {path}: {folder} is not a folder") from error
    except OSError as error:
        raise DatabaseError(
            f"database {path}: cannot create its folder {folder}: {error.strerror or error}"
        ) from error
    try:
        sqlite3.connect(path).close()
    except sqlite3.Error as error:
        raise database_problem(path, error) from error


def _read_only_uri(path: Path) -> str:
    """The URI that opens `path` read-only, once SQLite has shown it can open it."""
    if not path.is_file():
        raise DatabaseError(f"there is no database at {path}")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        sqlite3.connect(uri, uri=True).close()
    except sqlite3.Error as error:
        raise database_problem(path, error) from error
    return uri


async def _use_wal(connection: aiosqlite.Connection) -> None:
    """Turn WAL on (it stays on in the file). Turning it on needs an exclusive lock, and when
    waiting for it could deadlock with another process doing the same, SQLite answers BUSY at once
    instead of waiting busy_timeout: the statement is tried again once this one's lock is gone."""
    for attempt in itertools.count(1):
        try:
            await connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorname != "SQLITE_BUSY" or attempt == _WAL_ATTEMPTS:
                raise
            await asyncio.sleep(0.05 * attempt)


class Database:
    """One connection shared by the whole bot.

    Writes go through `transaction()`, which serialises them: coroutines share the connection,
    so without the lock one coroutine's statement could land inside another's transaction.
    """

    def __init__(self, connection: aiosqlite.Connection, path: Path | str = MEMORY) -> None:
        self.connection = connection
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, migrations: list[Migration] | None = None) -> Database:
        """Open (or create) the database at `path` and bring its schema up to date. Any problem with
        the file is raised as DatabaseError, naming it; a SQLite database of another program is
        refused before anything is written to it."""
        await asyncio.to_thread(_prepare_file, path)
        return await cls._connect(
            path,
            path,
            lambda database: database._bring_up_to_date(
                bundled_migrations() if migrations is None else migrations
            ),
        )

    @classmethod
    async def open_read_only(cls, path: Path) -> Database:
        """Open an existing database only to read it: nothing is created, migrated or written, for
        a tool that runs beside the bot (which may be another version). Raises DatabaseError, naming
        the file, unless its schema is the one this bot knows."""
        uri = await asyncio.to_thread(_read_only_uri, path)
        return await cls._connect(path, uri, lambda database: database._check_readable(), uri=True)

    @classmethod
    async def _connect(
        cls,
        path: Path | str,
        target: Path | str,
        set_up: Callable[[Database], Awaitable[None]],
        *,
        uri: bool = False,
    ) -> Database:
        """Connect to `target` (the file at `path`, or a URI naming it) and `set_up` the database; the
        connection is closed if that fails, and SQLite's errors name the file."""
        try:
            connection = await aiosqlite.connect(target, uri=uri, isolation_level=None)
        except sqlite3.Error as error:
            raise database_problem(path, error) from error
        try:
            connection.row_factory = aiosqlite.Row
            # First: every later statement may wait for another process that holds the lock.
            await connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            database = cls(connection, path)
            await set_up(database)
        except sqlite3.Error as error:
            await connection.close()
            raise database_problem(path, error) from error
        except BaseException:
            await connection.close()
            raise
        return database

    async def _bring_up_to_date(self, migrations: list[Migration]) -> None:
        await self._refuse_foreign()
        await _use_wal(self.connection)
        await self.connection.execute("PRAGMA foreign_keys = ON")
        await self.connection.execute("PRAGMA synchronous = NORMAL")
        await self.migrate(migrations)

    async def _check_readable(self) -> None:
        current, newest = await self.schema_version(), bundled_migrations()[-1].version
        self._refuse_newer(current, newest)
        if current < newest:
            raise DatabaseError(
                f"database {self.path}: its schema version {current} is older than this bot's "
                f"({newest}): run the bot once to bring it up to date"
            )

    async def _refuse_foreign(self) -> None:
        """A database with tables but no schema version was made by another program: migrating it
        would mix this bot's tables into its data."""
        # One statement, so one snapshot: another process may be creating the schema meanwhile.
        async with self.connection.execute(
            "SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)"
        ) as cursor:
            row = await cursor.fetchone()
        if row is not None and row[0] == 0 and row[1] > 0:
            raise DatabaseError(
                f"database {self.path}: it is a SQLite database of another program (it has tables "
                "but no schema version of this bot's); give the bot another path"
            )

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
        self._refuse_newer(current, newest)
        if current == newest:
            return
        await self.connection.execute("BEGIN IMMEDIATE")
        try:
            current = await self.schema_version()
            self._refuse_newer(current, newest)
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

    def _refuse_newer(self, current: int, newest: int) -> None:
        if current > newest:
            raise DatabaseError(
                f"database {self.path}: its schema version {current} is newer than this bot knows "
                f"({newest}): upgrade the bot"
            )

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
