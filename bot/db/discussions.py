"""DiscussionRepository: the threads opened with /discuss, one per server and episode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db.connection import Database
from bot.db.timestamps import from_db, to_db


@dataclass(frozen=True, slots=True)
class DiscussionThread:
    guild_id: int
    episode_id: int
    channel_id: int
    thread_id: int
    created_by: int
    created_at: datetime


class DiscussionRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, guild_id: int, episode_id: int) -> DiscussionThread | None:
        async with self._db.connection.execute(
            "SELECT * FROM episode_threads WHERE guild_id = ? AND episode_id = ?", (guild_id, episode_id)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return DiscussionThread(
            guild_id=row["guild_id"],
            episode_id=row["episode_id"],
            channel_id=row["channel_id"],
            thread_id=row["thread_id"],
            created_by=row["created_by"],
            created_at=from_db(row["created_at"]),
        )

    async def record(self, thread: DiscussionThread) -> None:
        """Remember a new thread; it replaces one recorded before for the same server and episode
        (that one was deleted, or the bot would have linked it instead of opening another)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """
                INSERT INTO episode_threads (guild_id, episode_id, channel_id, thread_id, created_by,
                    created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (guild_id, episode_id) DO UPDATE SET
                    channel_id = excluded.channel_id, thread_id = excluded.thread_id,
                    created_by = excluded.created_by, created_at = excluded.created_at
                """,
                (
                    thread.guild_id,
                    thread.episode_id,
                    thread.channel_id,
                    thread.thread_id,
                    thread.created_by,
                    to_db(thread.created_at),
                ),
            )
