"""ConfigHistoryRepository: the record of every settings change (who, what, when) per server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db.connection import Database
from bot.db.timestamps import from_db, to_db


@dataclass(frozen=True, slots=True)
class ConfigChange:
    guild_id: int
    user_id: int
    user_name: str
    setting: str
    old_value: str | None
    new_value: str | None
    changed_at: datetime


class ConfigHistoryRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def record(self, change: ConfigChange) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                """
                INSERT INTO config_changes (guild_id, user_id, user_name, setting, old_value, new_value,
                    changed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    change.guild_id,
                    change.user_id,
                    change.user_name,
                    change.setting,
                    change.old_value,
                    change.new_value,
                    to_db(change.changed_at),
                ),
            )

    async def recent(self, guild_id: int, limit: int = 10) -> list[ConfigChange]:
        async with self._db.connection.execute(
            "SELECT * FROM config_changes WHERE guild_id = ? ORDER BY id DESC LIMIT ?", (guild_id, limit)
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            ConfigChange(
                guild_id=row["guild_id"],
                user_id=row["user_id"],
                user_name=row["user_name"],
                setting=row["setting"],
                old_value=row["old_value"],
                new_value=row["new_value"],
                changed_at=from_db(row["changed_at"]),
            )
            for row in rows
        ]
