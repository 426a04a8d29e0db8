"""InsightsRepository: searches and discussion activity per server, never who searched or wrote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.db.connection import Database
from bot.db.timestamps import to_db

# Before every instant as the database writes it: "since the beginning".
_EVER = ""


@dataclass(frozen=True, slots=True)
class QueryCount:
    query: str
    searches: int
    not_found: int  # of those, how many matched no episode


@dataclass(frozen=True, slots=True)
class EpisodeCount:
    episode_id: int
    title: str
    count: int


@dataclass(frozen=True, slots=True)
class ThreadCount:
    thread_id: int
    episode_id: int
    title: str
    messages: int


def _since(moment: datetime | None) -> str:
    return _EVER if moment is None else to_db(moment)


def _since_day(moment: datetime | None) -> str:
    return _EVER if moment is None else moment.date().isoformat()


class InsightsRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    # ---- whether a server records ----------------------------------------------------------------

    async def is_recording(self, guild_id: int) -> bool:
        async with self._db.connection.execute(
            "SELECT 1 FROM insights_off WHERE guild_id = ?", (guild_id,)
        ) as cursor:
            return await cursor.fetchone() is None

    async def set_recording(self, guild_id: int, recording: bool, *, now: datetime) -> None:
        """Turn recording on or off; off also deletes what was recorded in the server."""
        async with self._db.transaction() as connection:
            if recording:
                await connection.execute("DELETE FROM insights_off WHERE guild_id = ?", (guild_id,))
                return
            await connection.execute(
                "INSERT OR IGNORE INTO insights_off (guild_id, since) VALUES (?, ?)", (guild_id, to_db(now))
            )
            await connection.execute("DELETE FROM searches WHERE guild_id = ?", (guild_id,))
            await connection.execute("DELETE FROM thread_activity WHERE guild_id = ?", (guild_id,))

    async def forget_guild(self, guild_id: int) -> None:
        """Delete a server's records (the bot was removed); whether it records is kept."""
        async with self._db.transaction() as connection:
            await connection.execute("DELETE FROM searches WHERE guild_id = ?", (guild_id,))
            await connection.execute("DELETE FROM thread_activity WHERE guild_id = ?", (guild_id,))

    async def guilds_with_records(self) -> list[int]:
        async with self._db.connection.execute(
            "SELECT guild_id FROM searches UNION SELECT guild_id FROM thread_activity"
        ) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    async def delete_before(self, cutoff: datetime) -> int:
        """Delete searches made and activity counted before `cutoff`; how many rows went."""
        async with self._db.transaction() as connection:
            searches = await connection.execute(
                "DELETE FROM searches WHERE searched_at < ?", (to_db(cutoff),)
            )
            activity = await connection.execute(
                "DELETE FROM thread_activity WHERE day < ?", (cutoff.date().isoformat(),)
            )
            return searches.rowcount + activity.rowcount

    # ---- recording ---------------------------------------------------------------------------------

    async def record_search(self, guild_id: int, query: str, results: int, *, now: datetime) -> int | None:
        """Store a search unless the server turned insights off; its id, or None."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT INTO searches (guild_id, query, results, searched_at) "
                "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM insights_off WHERE guild_id = ?)",
                (guild_id, query, results, to_db(now), guild_id),
            )
            return cursor.lastrowid if cursor.rowcount else None

    async def record_open(self, search_id: int, episode_id: int) -> None:
        async with self._db.transaction() as connection:
            # The search may be gone meanwhile (retention, insights off): then nothing is stored.
            await connection.execute(
                "INSERT OR IGNORE INTO search_opens (search_id, episode_id) "
                "SELECT id, ? FROM searches WHERE id = ?",
                (episode_id, search_id),
            )

    async def episode_of_thread(self, guild_id: int, thread_id: int) -> int | None:
        """The episode whose discussion thread this is (its announcement's, or one opened by /discuss)."""
        async with self._db.connection.execute(
            "SELECT episode_id FROM announcements WHERE guild_id = ? AND thread_id = ? "
            "UNION ALL SELECT episode_id FROM episode_threads WHERE guild_id = ? AND thread_id = ? LIMIT 1",
            (guild_id, thread_id, guild_id, thread_id),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else int(row["episode_id"])

    async def count_thread_message(self, guild_id: int, thread_id: int, episode_id: int, day: date) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                """
                INSERT INTO thread_activity (guild_id, thread_id, episode_id, day, messages)
                SELECT ?, ?, ?, ?, 1 WHERE NOT EXISTS (SELECT 1 FROM insights_off WHERE guild_id = ?)
                ON CONFLICT (guild_id, thread_id, day) DO UPDATE SET messages = messages + 1
                """,
                (guild_id, thread_id, episode_id, day.isoformat(), guild_id),
            )

    # ---- reading -------------------------------------------------------------------------------------

    async def unmet_queries(self, guild_id: int, since: datetime | None, limit: int) -> list[QueryCount]:
        """What was searched for and not found, or found but nothing opened: most searched first."""
        async with self._db.connection.execute(
            """
            SELECT query, count(*) AS searches, sum(results = 0) AS not_found FROM searches
            WHERE guild_id = ? AND searched_at >= ?
              AND (results = 0 OR NOT EXISTS (SELECT 1 FROM search_opens WHERE search_id = searches.id))
            GROUP BY query ORDER BY searches DESC, not_found DESC, query LIMIT ?
            """,
            (guild_id, _since(since), limit),
        ) as cursor:
            return [QueryCount(row[0], row[1], row[2]) for row in await cursor.fetchall()]

    async def top_queries(self, guild_id: int, since: datetime | None, limit: int) -> list[QueryCount]:
        async with self._db.connection.execute(
            "SELECT query, count(*) AS searches, sum(results = 0) AS not_found FROM searches "
            "WHERE guild_id = ? AND searched_at >= ? GROUP BY query ORDER BY searches DESC, query LIMIT ?",
            (guild_id, _since(since), limit),
        ) as cursor:
            return [QueryCount(row[0], row[1], row[2]) for row in await cursor.fetchall()]

    async def opened_episodes(self, guild_id: int, since: datetime | None, limit: int) -> list[EpisodeCount]:
        """The episodes searches led to, most often first."""
        async with self._db.connection.execute(
            """
            SELECT episodes.id, episodes.title, count(*) AS opens
            FROM search_opens
            JOIN searches ON searches.id = search_opens.search_id
            JOIN episodes ON episodes.id = search_opens.episode_id
            WHERE searches.guild_id = ? AND searches.searched_at >= ?
            GROUP BY episodes.id ORDER BY opens DESC, episodes.title LIMIT ?
            """,
            (guild_id, _since(since), limit),
        ) as cursor:
            return [EpisodeCount(row[0], row[1], row[2]) for row in await cursor.fetchall()]

    async def searches_per_day(self, guild_id: int, since: datetime | None) -> dict[date, int]:
        async with self._db.connection.execute(
            "SELECT substr(searched_at, 1, 10) AS day, count(*) FROM searches "
            "WHERE guild_id = ? AND searched_at >= ? GROUP BY day ORDER BY day",
            (guild_id, _since(since)),
        ) as cursor:
            return {date.fromisoformat(row[0]): row[1] for row in await cursor.fetchall()}

    async def busiest_threads(self, guild_id: int, since: datetime | None, limit: int) -> list[ThreadCount]:
        async with self._db.connection.execute(
            """
            SELECT thread_id, episodes.id, episodes.title, sum(messages) AS total FROM thread_activity
            JOIN episodes ON episodes.id = thread_activity.episode_id
            WHERE guild_id = ? AND day >= ?
            GROUP BY thread_id ORDER BY total DESC, episodes.title LIMIT ?
            """,
            (guild_id, _since_day(since), limit),
        ) as cursor:
            return [ThreadCount(row[0], row[1], row[2], row[3]) for row in await cursor.fetchall()]

    async def votes_since(self, guild_id: int, since: datetime | None) -> dict[int, int]:
        """Votes cast since `since` per suggestion of the server (by suggestion id)."""
        async with self._db.connection.execute(
            """
            SELECT suggestion_id, count(*) FROM suggestion_votes
            JOIN suggestions ON suggestions.id = suggestion_votes.suggestion_id
            WHERE suggestions.guild_id = ? AND voted_at >= ? GROUP BY suggestion_id
            """,
            (guild_id, _since(since)),
        ) as cursor:
            return {row[0]: row[1] for row in await cursor.fetchall()}
