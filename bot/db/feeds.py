"""FeedRepository: the fetch state of each feed URL (validators, health, back-off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.db.connection import Database
from bot.db.timestamps import from_db_or_none, to_db, to_db_or_none


@dataclass(frozen=True, slots=True)
class FeedState:
    id: int
    url: str
    title: str | None
    image: str | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    last_checked_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    next_attempt_at: datetime | None
    failing_since: datetime | None  # the first failure since the last success
    moved_to: str | None  # the feed moved there (and is polled there now)
    moved_at: datetime | None
    moved_because: str | None


def _feed_state(row: aiosqlite.Row) -> FeedState:
    return FeedState(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        image=row["image"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        last_checked_at=from_db_or_none(row["last_checked_at"]),
        last_success_at=from_db_or_none(row["last_success_at"]),
        last_error=row["last_error"],
        last_error_at=from_db_or_none(row["last_error_at"]),
        consecutive_failures=row["consecutive_failures"],
        next_attempt_at=from_db_or_none(row["next_attempt_at"]),
        failing_since=from_db_or_none(row["failing_since"]),
        moved_to=row["moved_to"],
        moved_at=from_db_or_none(row["moved_at"]),
        moved_because=row["moved_because"],
    )


class FeedRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, url: str) -> FeedState | None:
        async with self._db.connection.execute("SELECT * FROM feeds WHERE url = ?", (url,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _feed_state(row)

    async def get_or_create(self, url: str) -> FeedState:
        async with self._db.transaction() as connection:
            await connection.execute("INSERT OR IGNORE INTO feeds (url) VALUES (?)", (url,))
        state = await self.get(url)
        assert state is not None
        return state

    async def record_success(
        self,
        feed_id: int,
        *,
        checked_at: datetime,
        title: str | None,
        image: str | None = None,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
        settled_episode_id: int | None,
    ) -> None:
        """The ingest completed: its validators and hash are kept (the same body is not parsed
        again), and the episodes it stored, up to `settled_episode_id`, are no longer news."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """
                UPDATE feeds
                SET title = coalesce(:title, title), image = coalesce(:image, image), etag = :etag,
                    last_modified = :last_modified, body_hash = :body_hash, last_checked_at = :checked_at,
                    last_success_at = :checked_at, consecutive_failures = 0, next_attempt_at = NULL,
                    failing_since = NULL,
                    settled_episode_id = max(coalesce(settled_episode_id, 0), coalesce(:settled, 0))
                WHERE id = :id
                """,
                {
                    "title": title,
                    "image": image,
                    "etag": etag,
                    "last_modified": last_modified,
                    "body_hash": body_hash,
                    "checked_at": to_db(checked_at),
                    "settled": settled_episode_id,
                    "id": feed_id,
                },
            )

    async def record_not_modified(
        self,
        feed_id: int,
        *,
        checked_at: datetime,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """A 304 or an unchanged body is a successful check: the feed is healthy. Validators the
        server sent with it replace the stored ones."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """
                UPDATE feeds
                SET last_checked_at = ?, last_success_at = ?, consecutive_failures = 0,
                    next_attempt_at = NULL, failing_since = NULL, etag = coalesce(?, etag),
                    last_modified = coalesce(?, last_modified)
                WHERE id = ?
                """,
                (to_db(checked_at), to_db(checked_at), etag, last_modified, feed_id),
            )

    async def record_failure(
        self, feed_id: int, *, checked_at: datetime, error: str, next_attempt_at: datetime | None = None
    ) -> FeedState:
        async with self._db.transaction() as connection:
            await connection.execute(
                """
                UPDATE feeds
                SET last_checked_at = ?, last_error = ?, last_error_at = ?,
                    consecutive_failures = consecutive_failures + 1, next_attempt_at = ?,
                    failing_since = coalesce(failing_since, ?)
                WHERE id = ?
                """,
                (
                    to_db(checked_at),
                    error,
                    to_db(checked_at),
                    to_db_or_none(next_attempt_at),
                    to_db(checked_at),
                    feed_id,
                ),
            )
            async with connection.execute("SELECT * FROM feeds WHERE id = ?", (feed_id,)) as cursor:
                row = await cursor.fetchone()
        assert row is not None
        return _feed_state(row)

    async def settled_episode_id(self) -> int | None:
        """The newest episode an ingest of any feed (or file) stored and completed; None before the
        first completed ingest. Episodes stored after it are still news."""
        async with self._db.connection.execute("SELECT max(settled_episode_id) FROM feeds") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row and row[0] is not None else None

    async def record_move(self, feed_id: int, new_url: str, *, because: str, now: datetime) -> None:
        """The feed now lives at `new_url`: polls go there from now on."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE feeds SET moved_to = ?, moved_at = ?, moved_because = ? WHERE id = ?",
                (new_url, to_db(now), because, feed_id),
            )

    async def current(self, url: str, *, max_moves: int = 10) -> FeedState | None:
        """The feed `url` became after its moves (a chain of at most `max_moves`; a loop stops where it
        would revisit a URL); None if `url` was never polled."""
        state = await self.get(url)
        seen = {url}
        while state is not None and state.moved_to and state.moved_to not in seen and len(seen) <= max_moves:
            seen.add(state.moved_to)
            following = await self.get(state.moved_to)
            if following is None:
                # Not polled at its new address yet: the move is known, the row comes with the poll.
                return state
            state = following
        return state

    async def schedule_next_attempt(self, feed_id: int, next_attempt_at: datetime | None) -> None:
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE feeds SET next_attempt_at = ? WHERE id = ?",
                (to_db_or_none(next_attempt_at), feed_id),
            )
