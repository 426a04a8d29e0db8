"""AnnouncementRepository: the outbox of (server, episode) announcements and their delivery state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from bot.db.connection import Database
from bot.db.timestamps import from_db, from_db_or_none, to_db, to_db_or_none

AnnouncementKind = Literal["full", "digest"]
AnnouncementStatus = Literal["pending", "sent", "failed"]
PublishStatus = Literal["pending", "published", "failed"]


@dataclass(frozen=True, slots=True)
class Announcement:
    id: int
    guild_id: int
    episode_id: int
    channel_id: int
    kind: AnnouncementKind
    status: AnnouncementStatus
    attempts: int
    next_attempt_at: datetime | None
    message_id: int | None
    thread_id: int | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    first_attempt_at: datetime | None
    # The last attempt may have posted without the bot hearing of it (a crash, a lost response).
    outcome_unknown: bool
    publish: bool  # False for a moderator's test: never published to following servers
    publish_status: PublishStatus | None  # None: nothing to publish
    publish_attempts: int
    publish_next_at: datetime | None
    publish_error: str | None


@dataclass(frozen=True, slots=True)
class PlannedAnnouncement:
    guild_id: int
    channel_id: int
    episode_id: int
    kind: AnnouncementKind
    publish: bool = True  # may go to following servers (False for a moderator's test)


@dataclass(frozen=True, slots=True)
class OutboxSummary:
    pending: int
    sent: int
    failed: int
    recent_failures: tuple[Announcement, ...]
    published: int = 0
    to_publish: int = 0
    publish_failures: tuple[Announcement, ...] = ()


def _announcement(row: aiosqlite.Row) -> Announcement:
    return Announcement(
        id=row["id"],
        guild_id=row["guild_id"],
        episode_id=row["episode_id"],
        channel_id=row["channel_id"],
        kind=row["kind"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=from_db_or_none(row["next_attempt_at"]),
        message_id=row["message_id"],
        thread_id=row["thread_id"],
        last_error=row["last_error"],
        created_at=from_db(row["created_at"]),
        sent_at=from_db_or_none(row["sent_at"]),
        first_attempt_at=from_db_or_none(row["first_attempt_at"]),
        outcome_unknown=bool(row["outcome_unknown"]),
        publish=bool(row["publish"]),
        publish_status=row["publish_status"],
        publish_attempts=row["publish_attempts"],
        publish_next_at=from_db_or_none(row["publish_next_at"]),
        publish_error=row["publish_error"],
    )


class AnnouncementRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def enqueue(self, planned: Sequence[PlannedAnnouncement], *, now: datetime) -> int:
        """Queue announcements; one already queued for the same server and episode is left alone.
        Returns how many were new."""
        async with self._db.transaction() as connection:
            before = connection.total_changes
            await connection.executemany(
                """
                INSERT OR IGNORE INTO announcements
                    (guild_id, episode_id, channel_id, kind, publish, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                [
                    (p.guild_id, p.episode_id, p.channel_id, p.kind, int(p.publish), to_db(now))
                    for p in planned
                ],
            )
            return connection.total_changes - before

    async def due(self, now: datetime) -> list[Announcement]:
        """Pending announcements that may go now, for servers that are not paused or gone, in the
        order they must appear: per server, oldest episode first, and none after one that is
        still waiting for its retry (a server never sees episode 90 before episode 89)."""
        async with self._db.connection.execute(
            """
            SELECT announcements.* FROM announcements
            JOIN guild_settings USING (guild_id)
            JOIN episodes ON episodes.id = announcements.episode_id
            WHERE announcements.status = 'pending'
              AND guild_settings.paused_reason IS NULL AND guild_settings.left_at IS NULL
            ORDER BY announcements.guild_id, coalesce(episodes.published_at, episodes.first_seen_at),
                     episodes.id
            """
        ) as cursor:
            pending = [_announcement(row) for row in await cursor.fetchall()]
        due: list[Announcement] = []
        waiting: set[int] = set()
        for announcement in pending:
            if announcement.guild_id in waiting:
                continue
            if announcement.next_attempt_at is not None and announcement.next_attempt_at > now:
                waiting.add(announcement.guild_id)
                continue
            due.append(announcement)
        return due

    async def get(self, announcement_id: int) -> Announcement | None:
        async with self._db.connection.execute(
            "SELECT * FROM announcements WHERE id = ?", (announcement_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _announcement(row)

    async def for_episode(self, guild_id: int, episode_id: int) -> Announcement | None:
        async with self._db.connection.execute(
            "SELECT * FROM announcements WHERE guild_id = ? AND episode_id = ?", (guild_id, episode_id)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _announcement(row)

    async def sent_for(self, episode_ids: Sequence[int]) -> list[Announcement]:
        """The announcements of these episodes that went out on their own (not in a digest)."""
        async with self._db.connection.execute(
            "SELECT * FROM announcements WHERE status = 'sent' AND kind = 'full' "
            "AND episode_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            (json.dumps(list(episode_ids)),),
        ) as cursor:
            return [_announcement(row) for row in await cursor.fetchall()]

    async def record_attempt(self, ids: Sequence[int], *, now: datetime) -> None:
        """Count an attempt before sending, and mark its outcome unknown until Discord answers: after a
        crash mid-send, the restarted bot knows it must look for the message before sending again."""
        async with self._db.transaction() as connection:
            await connection.executemany(
                "UPDATE announcements SET attempts = attempts + 1, outcome_unknown = 1, "
                "first_attempt_at = coalesce(first_attempt_at, ?) WHERE id = ?",
                [(to_db(now), i) for i in ids],
            )

    async def mark_sent(
        self,
        ids: Sequence[int],
        *,
        message_id: int,
        thread_id: int | None,
        now: datetime,
        channel_id: int | None = None,
        to_publish: bool = False,
    ) -> None:
        """Record delivery; `channel_id`, when given, is where it went (the server's channel may
        have changed since the announcement was planned). `to_publish`: it went to an announcement
        channel that publishes, so it waits to be published (unless it is a test)."""
        async with self._db.transaction() as connection:
            await connection.executemany(
                """
                UPDATE announcements
                SET status = 'sent', message_id = ?, thread_id = ?, sent_at = ?, last_error = NULL,
                    next_attempt_at = NULL, channel_id = coalesce(?, channel_id), outcome_unknown = 0,
                    publish_status = CASE WHEN ? AND publish = 1 THEN 'pending' END
                WHERE id = ?
                """,
                [(message_id, thread_id, to_db(now), channel_id, int(to_publish), i) for i in ids],
            )

    async def mark_retry(
        self,
        ids: Sequence[int],
        *,
        error: str,
        next_attempt_at: datetime | None,
        outcome_unknown: bool = False,
    ) -> None:
        """Record a failed attempt: retry at `next_attempt_at`, or give up when it is None.
        `outcome_unknown`: the attempt may have posted all the same (the next one looks first)."""
        status = "pending" if next_attempt_at is not None else "failed"
        async with self._db.transaction() as connection:
            await connection.executemany(
                "UPDATE announcements SET status = ?, last_error = ?, next_attempt_at = ?, "
                "outcome_unknown = ? WHERE id = ?",
                [(status, error, to_db_or_none(next_attempt_at), int(outcome_unknown), i) for i in ids],
            )

    async def requeue(self, announcement_id: int) -> None:
        """Give a failed announcement a fresh start (a moderator asked for it again)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE announcements SET status = 'pending', attempts = 0, next_attempt_at = NULL, "
                "last_error = NULL, "
                # An attempt that may have posted keeps its time: the retry looks for that message.
                "first_attempt_at = CASE WHEN outcome_unknown = 1 THEN first_attempt_at END "
                "WHERE id = ? AND status = 'failed'",
                (announcement_id,),
            )

    async def fail_pending(self, guild_id: int, error: str) -> None:
        """Give up on a server's pending announcements (its channel is gone)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE announcements SET status = 'failed', last_error = ?, next_attempt_at = NULL "
                "WHERE guild_id = ? AND status = 'pending'",
                (error, guild_id),
            )

    async def to_publish(self, now: datetime, *, channel_id: int | None = None) -> list[Announcement]:
        """Sent announcements waiting to be published whose time has come (in one channel, or all);
        a digest's rows share one message, so each message comes once."""
        async with self._db.connection.execute(
            """
            SELECT * FROM announcements
            WHERE publish_status = 'pending' AND (publish_next_at IS NULL OR publish_next_at <= :now)
              AND (:channel IS NULL OR channel_id = :channel)
              AND id IN (SELECT min(id) FROM announcements WHERE publish_status = 'pending'
                         GROUP BY channel_id, message_id)
            ORDER BY channel_id, sent_at, id
            """,
            {"now": to_db(now), "channel": channel_id},
        ) as cursor:
            return [_announcement(row) for row in await cursor.fetchall()]

    async def record_publish(
        self,
        message_id: int,
        status: PublishStatus | None,
        *,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """The publishing of one message (every row it announces): done, failed, to retry, or None
        when there is nothing to publish after all (the server turned publishing off)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                "UPDATE announcements SET publish_status = ?, publish_error = ?, publish_next_at = ?, "
                "publish_attempts = publish_attempts + 1 WHERE message_id = ? AND publish_status = 'pending'",
                (status, error, to_db_or_none(next_attempt_at), message_id),
            )

    async def pending_total(self) -> int:
        """Announcements still to deliver, in every server."""
        async with self._db.connection.execute(
            "SELECT count(*) FROM announcements WHERE status = 'pending'"
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def summary(self, guild_id: int, *, failures: int = 5) -> OutboxSummary:
        counts = dict.fromkeys(("pending", "sent", "failed"), 0)
        async with self._db.connection.execute(
            "SELECT status, count(*) FROM announcements WHERE guild_id = ? GROUP BY status", (guild_id,)
        ) as cursor:
            for status, count in await cursor.fetchall():
                counts[status] = count
        async with self._db.connection.execute(
            "SELECT * FROM announcements WHERE guild_id = ? AND status = 'failed' ORDER BY id DESC LIMIT ?",
            (guild_id, failures),
        ) as cursor:
            recent = tuple(_announcement(row) for row in await cursor.fetchall())
        publishing = dict.fromkeys(("pending", "published", "failed"), 0)
        async with self._db.connection.execute(
            "SELECT publish_status, count(DISTINCT message_id) FROM announcements "
            "WHERE guild_id = ? AND publish_status IS NOT NULL GROUP BY publish_status",
            (guild_id,),
        ) as cursor:
            for status, count in await cursor.fetchall():
                publishing[status] = count
        async with self._db.connection.execute(
            "SELECT * FROM announcements WHERE guild_id = ? AND publish_status = 'failed' "
            "ORDER BY id DESC LIMIT ?",
            (guild_id, failures),
        ) as cursor:
            publish_failures = tuple(_announcement(row) for row in await cursor.fetchall())
        return OutboxSummary(
            counts["pending"],
            counts["sent"],
            counts["failed"],
            recent,
            published=publishing["published"],
            to_publish=publishing["pending"],
            publish_failures=publish_failures,
        )
