"""BotStateRepository: small named facts the bot keeps about itself between runs."""

from __future__ import annotations

from bot.db.connection import Database


class BotStateRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, key: str) -> str | None:
        async with self._db.connection.execute("SELECT value FROM bot_state WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else str(row[0])

    async def set(self, key: str, value: str) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                "INSERT INTO bot_state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
