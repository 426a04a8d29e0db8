"""A consistent, verified copy of the database, taken while the bot may be writing to it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot.db.connection import bundled_migrations, database_problem


class BackupError(Exception):
    """The backup was not made; the message names the file and says what to do."""


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    schema_version: int
    episodes: int
    size_bytes: int


async def back_up(source: Path, target: Path, *, overwrite: bool = False) -> Backup:
    """Copy the database at `source` to `target` with SQLite's online backup: one consistent
    snapshot, even while the bot writes. The copy is checked (integrity, schema version) before it
    takes `target`'s name, so a failed backup never leaves a half-written file there."""
    return await asyncio.to_thread(_back_up, source, target, overwrite)


def _back_up(source: Path, target: Path, overwrite: bool) -> Backup:
    if not source.is_file():
        raise BackupError(f"there is no database at {source} to back up")
    if target.is_dir():
        raise BackupError(f"{target} is a folder: give the path of the backup file to write")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists: give another path, or add --force to replace it")
    if target.exists() and target.samefile(source):
        raise BackupError(f"{target} is the database itself: give another path")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist: create it first")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        version = _copy(source, partial, target)
        backup = _verified(partial, version, target)
        if not overwrite and target.exists():  # appeared meanwhile
            raise BackupError(f"{target} already exists: give another path, or add --force to replace it")
        partial.replace(target)
    except OSError as error:
        raise BackupError(f"cannot write {target}: {error.strerror or error}") from error
    finally:
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            with contextlib.suppress(OSError):  # gone already, or the folder is read-only
                leftover.unlink()
    return Backup(target, backup.schema_version, backup.episodes, target.stat().st_size)


def _copy(source: Path, partial: Path, target: Path) -> int:
    """Copy `source` into the new file `partial`; returns the schema version copied."""
    newest = bundled_migrations()[-1].version
    with _named(source):
        reader = sqlite3.connect(source)
    try:
        with _named(source):
            reader.execute("PRAGMA busy_timeout = 5000")
            version = int(reader.execute("PRAGMA user_version").fetchone()[0])
        if not 1 <= version <= newest:
            raise BackupError(
                f"{source} is not a database of this bot (schema version {version}; this bot knows 1 to "
                f"{newest})"
            )
        with _named(target):
            copy = sqlite3.connect(partial)
            try:
                # All pages in one step: one read transaction, so one consistent snapshot.
                reader.backup(copy)
                # A backup is one self-contained file; the bot turns WAL on again when it opens it.
                copy.execute("PRAGMA journal_mode = DELETE")
            finally:
                copy.close()
    finally:
        reader.close()
    return version


@contextlib.contextmanager
def _named(path: Path) -> Iterator[None]:
    """SQLite's errors as one line that names `path` and says what to do."""
    try:
        yield
    except sqlite3.Error as error:
        raise BackupError(str(database_problem(path, error))) from error


def _verified(partial: Path, expected_version: int, target: Path) -> Backup:
    with _named(target):
        return _check(partial, expected_version)


def _check(partial: Path, expected_version: int) -> Backup:
    copy = sqlite3.connect(partial)
    try:
        problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"the copy failed its integrity check: {problems[0]}")
        version = int(copy.execute("PRAGMA user_version").fetchone()[0])
        if version != expected_version:
            raise BackupError(f"the copy is at schema version {version}, not {expected_version}")
        episodes = int(copy.execute("SELECT count(*) FROM episodes").fetchone()[0])
    finally:
        copy.close()
    return Backup(partial, version, episodes, 0)
