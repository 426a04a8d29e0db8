"""SuggestionRepository: listeners' episode suggestions, their votes and each server's suggestions channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from bot.db.connection import Database
from bot.db.timestamps import from_db, from_db_or_none, to_db

SuggestionStatus = Literal["open", "planned", "done", "declined"]
# Statuses still waiting for an episode: they take votes and rank in the top list.
OPEN_STATUSES: tuple[SuggestionStatus, ...] = ("open", "planned")

_SELECT = """
SELECT suggestions.*,
       (SELECT count(*) FROM suggestion_votes WHERE suggestion_id = suggestions.id) AS votes
FROM suggestions
"""


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: int
    guild_id: int
    number: int  # shown as #number; counted per server
    author_id: int
    topic: str
    details: str | None
    status: SuggestionStatus
    status_reason: str | None
    episode_number: int | None
    channel_id: int | None
    message_id: int | None
    votes: int
    created_at: datetime
    updated_at: datetime
    notified_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class NewSuggestion:
    guild_id: int
    author_id: int
    topic: str
    details: str | None


def _suggestion(row: aiosqlite.Row) -> Suggestion:
    return Suggestion(
        id=row["id"],
        guild_id=row["guild_id"],
        number=row["number"],
        author_id=row["author_id"],
        topic=row["topic"],
        details=row["details"],
        status=row["status"],
        status_reason=row["status_reason"],
        episode_number=row["episode_number"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        votes=row["votes"],
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
        notified_at=from_db_or_none(row["notified_at"]),
    )


class SuggestionRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def _select(self, sql_tail: str, parameters: Sequence[object]) -> list[Suggestion]:
        # sql_tail is always a literal of this module; values travel as bound parameters.
        sql = _SELECT + sql_tail
        async with self._db.connection.execute(sql, tuple(parameters)) as cursor:
            return [_suggestion(row) for row in await cursor.fetchall()]

    # ---- the suggestions channel ------------------------------------------------------------

    async def channel(self, guild_id: int) -> int | None:
        async with self._db.connection.execute(
            "SELECT channel_id FROM suggestion_settings WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else row["channel_id"]

    async def set_channel(self, guild_id: int, channel_id: int | None, *, now: datetime) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                """
                INSERT INTO suggestion_settings (guild_id, channel_id, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,
                                                     updated_at = excluded.updated_at
                """,
                (guild_id, channel_id, to_db(now)),
            )

    async def channel_deleted(self, guild_id: int, channel_id: int, *, now: datetime) -> bool:
        """Forget a deleted suggestions channel. True if it was the server's."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "UPDATE suggestion_settings SET channel_id = NULL, updated_at = ? "
                "WHERE guild_id = ? AND channel_id = ?",
                (to_db(now), guild_id, channel_id),
            )
            return cursor.rowcount > 0

    # ---- suggestions ---------------------------------------------------------------------------

    async def add(
        self, new: NewSuggestion, *, now: datetime, at_most: int, since: datetime
    ) -> Suggestion | None:
        """Store a suggestion with its author's vote, unless the author already made `at_most`
        suggestions in this server since `since` (then None). Checked and written in one
        transaction, so two quick submissions cannot both slip under the limit."""
        async with self._db.transaction() as connection:
            async with connection.execute(
                "SELECT count(*) FROM suggestions WHERE guild_id = ? AND author_id = ? AND created_at > ?",
                (new.guild_id, new.author_id, to_db(since)),
            ) as cursor:
                row = await cursor.fetchone()
            if row is not None and row[0] >= at_most:
                return None
            cursor = await connection.execute(
                """
                INSERT INTO suggestions (guild_id, number, author_id, topic, details, created_at, updated_at)
                VALUES (?, (SELECT coalesce(max(number), 0) + 1 FROM suggestions WHERE guild_id = ?),
                        ?, ?, ?, ?, ?)
                """,
                (new.guild_id, new.guild_id, new.author_id, new.topic, new.details, to_db(now), to_db(now)),
            )
            suggestion_id = cursor.lastrowid
            await connection.execute(
                "INSERT INTO suggestion_votes (suggestion_id, user_id, voted_at) VALUES (?, ?, ?)",
                (suggestion_id, new.author_id, to_db(now)),
            )
        found = await self._select("WHERE id = ?", (suggestion_id,))
        return found[0]

    async def recent_by(self, guild_id: int, author_id: int, since: datetime) -> list[datetime]:
        """When the author made each of their suggestions in this server since `since`, oldest first."""
        async with self._db.connection.execute(
            "SELECT created_at FROM suggestions WHERE guild_id = ? AND author_id = ? AND created_at > ? "
            "ORDER BY created_at",
            (guild_id, author_id, to_db(since)),
        ) as cursor:
            return [from_db(row["created_at"]) for row in await cursor.fetchall()]

    async def get(self, guild_id: int, number: int) -> Suggestion | None:
        found = await self._select("WHERE guild_id = ? AND number = ?", (guild_id, number))
        return found[0] if found else None

    async def open_in(self, guild_id: int) -> list[Suggestion]:
        """The server's open and planned suggestions, most voted first."""
        return await self._select(
            "WHERE guild_id = ? AND status IN ('open', 'planned') ORDER BY votes DESC, number",
            (guild_id,),
        )

    async def top(self, guild_id: int, *, since: datetime | None, limit: int) -> list[Suggestion]:
        """The most voted open and planned suggestions made since `since` (None: ever), oldest on ties."""
        return await self._select(
            "WHERE guild_id = ? AND status IN ('open', 'planned') AND created_at >= ? "
            "ORDER BY votes DESC, number LIMIT ?",
            (guild_id, "" if since is None else to_db(since), limit),
        )

    async def by_author(self, guild_id: int, author_id: int, *, limit: int) -> list[Suggestion]:
        """The author's suggestions in this server, newest first."""
        return await self._select(
            "WHERE guild_id = ? AND author_id = ? ORDER BY number DESC LIMIT ?", (guild_id, author_id, limit)
        )

    async def voted_by(self, guild_id: int, user_id: int, *, limit: int) -> list[Suggestion]:
        """Others' suggestions in this server the member voted for, newest first."""
        return await self._select(
            "WHERE guild_id = ? AND author_id != ? AND id IN "
            "(SELECT suggestion_id FROM suggestion_votes WHERE user_id = ?) ORDER BY number DESC LIMIT ?",
            (guild_id, user_id, user_id, limit),
        )

    async def forget_member(self, guild_id: int, user_id: int) -> tuple[list[Suggestion], list[Suggestion]]:
        """Delete the member's suggestions in this server (with their votes) and the votes they cast
        there: the suggestions deleted, as they were, and the others their votes left, as they are now."""
        async with self._db.transaction() as connection:
            # Read in the transaction: a deletion under way at once reports and deletes these, not both.
            theirs = await self._select("WHERE guild_id = ? AND author_id = ?", (guild_id, user_id))
            await connection.execute(
                "DELETE FROM suggestions WHERE guild_id = ? AND author_id = ?", (guild_id, user_id)
            )
            async with connection.execute(
                "DELETE FROM suggestion_votes WHERE user_id = ? AND suggestion_id IN "
                "(SELECT id FROM suggestions WHERE guild_id = ?) RETURNING suggestion_id",
                (user_id, guild_id),
            ) as cursor:
                unvoted = [row[0] for row in await cursor.fetchall()]
        placeholders = ",".join("?" * len(unvoted))
        left = await self._select(f"WHERE id IN ({placeholders}) ORDER BY number", unvoted) if unvoted else []
        return theirs, left

    async def attach_card(self, suggestion_id: int, *, channel_id: int, message_id: int) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE suggestions SET channel_id = ?, message_id = ? WHERE id = ?",
                (channel_id, message_id, suggestion_id),
            )

    async def set_status(
        self,
        suggestion_id: int,
        status: SuggestionStatus,
        *,
        reason: str | None,
        episode_number: int | None,
        now: datetime,
    ) -> Suggestion:
        """Change the status. Linking another episode (or none) forgets that voters were told:
        they are told again about the episode that now covers it."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """
                UPDATE suggestions
                SET status = :status, status_reason = :reason, updated_at = :now,
                    notified_at = CASE WHEN episode_number IS :episode THEN notified_at END,
                    episode_number = :episode
                WHERE id = :id
                """,
                {
                    "status": status,
                    "reason": reason,
                    "episode": episode_number,
                    "now": to_db(now),
                    "id": suggestion_id,
                },
            )
        found = await self._select("WHERE id = ?", (suggestion_id,))
        return found[0]

    async def awaiting_episode(self, guild_id: int, episode_number: int) -> list[Suggestion]:
        """Done suggestions linked to this episode number whose voters have not been told yet."""
        return await self._select(
            "WHERE guild_id = ? AND status = 'done' AND episode_number = ? AND notified_at IS NULL "
            "ORDER BY number",
            (guild_id, episode_number),
        )

    async def mark_notified(self, suggestion_ids: Sequence[int], *, now: datetime) -> None:
        async with self._db.transaction() as connection:
            await connection.executemany(
                "UPDATE suggestions SET notified_at = ? WHERE id = ?",
                [(to_db(now), suggestion_id) for suggestion_id in suggestion_ids],
            )

    # ---- votes ---------------------------------------------------------------------------------

    async def add_vote(self, suggestion_id: int, user_id: int, *, now: datetime) -> bool:
        """Record a vote; False if this member had already voted for it."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT OR IGNORE INTO suggestion_votes (suggestion_id, user_id, voted_at) VALUES (?, ?, ?)",
                (suggestion_id, user_id, to_db(now)),
            )
            return cursor.rowcount > 0

    async def remove_vote(self, suggestion_id: int, user_id: int) -> bool:
        """Withdraw a vote; False if this member had not voted for it."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "DELETE FROM suggestion_votes WHERE suggestion_id = ? AND user_id = ?",
                (suggestion_id, user_id),
            )
            return cursor.rowcount > 0

    async def voters(self, suggestion_ids: Sequence[int]) -> list[int]:
        """Everyone who voted for any of these suggestions, once each, earliest vote first."""
        if not suggestion_ids:
            return []
        placeholders = ",".join("?" * len(suggestion_ids))
        async with self._db.connection.execute(
            f"SELECT user_id, min(voted_at) AS first FROM suggestion_votes "  # noqa: S608 - placeholders only
            f"WHERE suggestion_id IN ({placeholders}) GROUP BY user_id ORDER BY first, user_id",
            tuple(suggestion_ids),
        ) as cursor:
            return [row["user_id"] for row in await cursor.fetchall()]
