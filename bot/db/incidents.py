"""IncidentRepository: what the moderators of a server were told about, so each incident is told once
and its end once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from bot.db.connection import Database
from bot.db.timestamps import from_db, from_db_or_none, to_db

IncidentKind = Literal["feed", "paused", "given_up"]


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    guild_id: int
    kind: IncidentKind
    subject: str
    opened_at: datetime
    resolved_at: datetime | None
    detail: str


def _incident(row: aiosqlite.Row) -> Incident:
    return Incident(
        id=row["id"],
        guild_id=row["guild_id"],
        kind=row["kind"],
        subject=row["subject"],
        opened_at=from_db(row["opened_at"]),
        resolved_at=from_db_or_none(row["resolved_at"]),
        detail=row["detail"],
    )


class IncidentRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def open(
        self, guild_id: int, kind: IncidentKind, detail: str, *, now: datetime, subject: str = ""
    ) -> bool:
        """Record an incident; False if the same one (server, kind, subject) is already open."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT OR IGNORE INTO incidents (guild_id, kind, subject, opened_at, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                (guild_id, kind, subject, to_db(now), detail),
            )
            return cursor.rowcount > 0

    async def resolve(
        self, guild_id: int, kind: IncidentKind, *, now: datetime, subject: str = ""
    ) -> Incident | None:
        """Close the open incident, if there is one; it comes back as it was (to say what ended)."""
        async with self._db.transaction() as connection:
            async with connection.execute(
                "SELECT * FROM incidents WHERE guild_id = ? AND kind = ? AND subject = ? "
                "AND resolved_at IS NULL",
                (guild_id, kind, subject),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            await connection.execute(
                "UPDATE incidents SET resolved_at = ? WHERE id = ?", (to_db(now), row["id"])
            )
        return _incident(row)

    async def open_in(self, guild_id: int) -> list[Incident]:
        async with self._db.connection.execute(
            "SELECT * FROM incidents WHERE guild_id = ? AND resolved_at IS NULL ORDER BY id", (guild_id,)
        ) as cursor:
            return [_incident(row) for row in await cursor.fetchall()]
