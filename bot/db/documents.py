"""DocumentRepository: the transcripts and chapters episodes link to, their fetch state, their
contents (chapters, transcript moments and the moments' own full-text index) and where chapters were
posted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.db.connection import Database
from bot.db.timestamps import from_db_or_none, to_db
from bot.documents.formats import Chapter, Moment

DocumentKind = Literal["transcript", "chapters"]


@dataclass(frozen=True, slots=True)
class DueDocument:
    episode_id: int
    kind: DocumentKind
    url: str
    attempts: int


@dataclass(frozen=True, slots=True)
class DocumentState:
    kind: DocumentKind
    url: str
    status: Literal["pending", "fetched", "failed"]
    attempts: int
    last_error: str | None
    fetched_at: datetime | None


# Around the matched words of a moment's snippet: control characters no transcript keeps, so the
# words can be emphasised after the rest of the text is escaped.
MATCH_START, MATCH_END = "\x02", "\x03"


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """How fetching the transcripts and chapters episodes link to goes, for /config status."""

    fetched: int
    waiting: int  # not fetched yet, or failed and to be tried again
    given_up: int  # failed every try, until the feed links another URL
    last_error: str | None  # why one of those not fetched failed: a given-up one's, if any


@dataclass(frozen=True, slots=True)
class MomentHit:
    episode_id: int
    start_seconds: float | None
    text: str  # a snippet, the matched words between MATCH_START and MATCH_END
    score: float  # bm25: lower is better


@dataclass(frozen=True, slots=True)
class ThreadWithoutChapters:
    thread_id: int
    episode_id: int


# An episode's documents follow its columns: a new or changed URL is (re)fetched from scratch, a
# document the feed no longer links to is forgotten with what it held.
_PLAN = """
    INSERT INTO episode_documents (episode_id, kind, url)
    SELECT id, :kind, {column} FROM episodes WHERE {column} IS NOT NULL
    ON CONFLICT (episode_id, kind) DO UPDATE SET
        url = excluded.url, status = 'pending', attempts = 0, next_attempt_at = NULL, last_error = NULL
    WHERE url != excluded.url
"""
_FORGET = """
    DELETE FROM episode_documents WHERE kind = :kind AND NOT EXISTS (
        SELECT 1 FROM episodes WHERE episodes.id = episode_documents.episode_id
            AND episodes.{column} = episode_documents.url
    )
"""
_COLUMNS: dict[DocumentKind, str] = {"transcript": "transcript_url", "chapters": "chapters_url"}

_MOMENTS = """
    SELECT transcript_moments.episode_id, transcript_moments.start_seconds,
        snippet(transcript_moments_fts, 0, char(2), char(3), '…', 24) AS snippet,
        bm25(transcript_moments_fts) AS score
    FROM transcript_moments_fts
    JOIN transcript_moments ON transcript_moments.id = transcript_moments_fts.rowid
    WHERE transcript_moments_fts MATCH :match
    ORDER BY score, transcript_moments.episode_id DESC, transcript_moments.start_seconds
    LIMIT :limit
"""


class DocumentRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def plan(self) -> None:
        """Bring the documents in step with the episodes' links (cheap when nothing changed)."""
        async with self._db.transaction() as connection:
            for kind, column in _COLUMNS.items():
                # The column is one of two literals above; values travel as bound parameters.
                await connection.execute(_PLAN.format(column=column), {"kind": kind})
                await connection.execute(_FORGET.format(column=column), {"kind": kind})
            await connection.execute(
                "DELETE FROM transcript_moments WHERE episode_id NOT IN "
                "(SELECT episode_id FROM episode_documents WHERE kind = 'transcript' AND status = 'fetched')"
            )
            await connection.execute(
                "DELETE FROM chapters WHERE episode_id NOT IN "
                "(SELECT episode_id FROM episode_documents WHERE kind = 'chapters' AND status = 'fetched')"
            )

    async def due(self, now: datetime, limit: int) -> list[DueDocument]:
        rows = await self._db.connection.execute_fetchall(
            """
            SELECT episode_id, kind, url, attempts FROM episode_documents
            WHERE status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
            ORDER BY episode_id DESC, kind LIMIT ?
            """,
            (to_db(now), limit),
        )
        return [DueDocument(row["episode_id"], row["kind"], row["url"], row["attempts"]) for row in rows]

    async def store_moments(self, document: DueDocument, moments: Sequence[Moment], now: datetime) -> bool:
        """Replace the episode's moments; False if the document changed meanwhile (nothing stored)."""
        async with self._db.transaction() as connection:
            if not await self._mark_fetched(document, now):
                return False
            await connection.execute(
                "DELETE FROM transcript_moments WHERE episode_id = ?", (document.episode_id,)
            )
            await connection.executemany(
                "INSERT INTO transcript_moments (episode_id, start_seconds, text) VALUES (?, ?, ?)",
                [(document.episode_id, moment.start_seconds, moment.text) for moment in moments],
            )
        return True

    async def store_chapters(self, document: DueDocument, chapters: Sequence[Chapter], now: datetime) -> bool:
        """Replace the episode's chapters; False if the document changed meanwhile (nothing stored)."""
        async with self._db.transaction() as connection:
            if not await self._mark_fetched(document, now):
                return False
            await connection.execute("DELETE FROM chapters WHERE episode_id = ?", (document.episode_id,))
            await connection.executemany(
                "INSERT INTO chapters (episode_id, position, start_seconds, title, url)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (document.episode_id, position, chapter.start_seconds, chapter.title, chapter.url)
                    for position, chapter in enumerate(chapters)
                ],
            )
        return True

    async def _mark_fetched(self, document: DueDocument, now: datetime) -> bool:
        cursor = await self._db.connection.execute(
            """
            UPDATE episode_documents SET status = 'fetched', attempts = attempts + 1, last_error = NULL,
                next_attempt_at = NULL, fetched_at = ?
            WHERE episode_id = ? AND kind = ? AND url = ?
            """,
            (to_db(now), document.episode_id, document.kind, document.url),
        )
        return cursor.rowcount == 1

    async def record_failure(self, document: DueDocument, error: str, retry_at: datetime | None) -> None:
        """A failed attempt: tried again at `retry_at`, or given up for good (until the URL changes)."""
        async with self._db.transaction() as connection:
            await connection.execute(
                """
                UPDATE episode_documents SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,
                    status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END
                WHERE episode_id = ? AND kind = ? AND url = ?
                """,
                (
                    error,
                    None if retry_at is None else to_db(retry_at),
                    None if retry_at is None else 1,
                    document.episode_id,
                    document.kind,
                    document.url,
                ),
            )

    async def states(self, episode_id: int) -> list[DocumentState]:
        rows = await self._db.connection.execute_fetchall(
            "SELECT * FROM episode_documents WHERE episode_id = ? ORDER BY kind", (episode_id,)
        )
        return [
            DocumentState(
                row["kind"],
                row["url"],
                row["status"],
                row["attempts"],
                row["last_error"],
                from_db_or_none(row["fetched_at"]),
            )
            for row in rows
        ]

    async def summary(self) -> DocumentSummary:
        counts = {
            row["status"]: int(row["documents"])
            for row in await self._db.connection.execute_fetchall(
                "SELECT status, count(*) AS documents FROM episode_documents GROUP BY status"
            )
        }
        rows = await self._db.connection.execute_fetchall(
            """
            SELECT last_error FROM episode_documents
            WHERE status != 'fetched' AND last_error IS NOT NULL
            ORDER BY status = 'failed' DESC, rowid DESC LIMIT 1
            """
        )
        return DocumentSummary(
            fetched=counts.get("fetched", 0),
            waiting=counts.get("pending", 0),
            given_up=counts.get("failed", 0),
            last_error=next((row["last_error"] for row in rows), None),
        )

    async def chapters(self, episode_id: int) -> list[Chapter]:
        rows = await self._db.connection.execute_fetchall(
            "SELECT start_seconds, title, url FROM chapters WHERE episode_id = ? ORDER BY position",
            (episode_id,),
        )
        return [Chapter(row["start_seconds"], row["title"], row["url"]) for row in rows]

    async def moments_matching(self, match: str, limit: int) -> list[MomentHit]:
        """Moments matching an FTS5 expression, best first."""
        rows = await self._db.connection.execute_fetchall(_MOMENTS, {"match": match, "limit": limit})
        return [MomentHit(row[0], row[1], row[2], row[3]) for row in rows]

    async def has_moments(self) -> bool:
        rows = await self._db.connection.execute_fetchall("SELECT 1 FROM transcript_moments LIMIT 1")
        return bool(rows)

    async def threads_without_chapters(self) -> list[ThreadWithoutChapters]:
        """Discussion threads (announcements' and /discuss's) of episodes with chapters, where the
        chapters have not been posted yet."""
        rows = await self._db.connection.execute_fetchall(
            """
            SELECT thread_id, episode_id FROM (
                SELECT thread_id, episode_id FROM announcements
                WHERE status = 'sent' AND kind = 'full' AND thread_id IS NOT NULL
                UNION SELECT thread_id, episode_id FROM episode_threads
            )
            WHERE episode_id IN (SELECT DISTINCT episode_id FROM chapters)
                AND thread_id NOT IN (SELECT thread_id FROM chapter_posts)
            ORDER BY thread_id
            """
        )
        return [ThreadWithoutChapters(row["thread_id"], row["episode_id"]) for row in rows]

    async def claim_chapter_post(self, thread: ThreadWithoutChapters, now: datetime) -> bool:
        """Take the thread's turn to get chapters; False if another task already has."""
        async with self._db.transaction() as connection:
            cursor = await connection.execute(
                "INSERT OR IGNORE INTO chapter_posts (thread_id, episode_id, posted_at) VALUES (?, ?, ?)",
                (thread.thread_id, thread.episode_id, to_db(now)),
            )
            return cursor.rowcount == 1

    async def release_chapter_post(self, thread_id: int) -> None:
        """Posting failed: the thread may get its chapters on a later try."""
        async with self._db.transaction() as connection:
            await connection.execute("DELETE FROM chapter_posts WHERE thread_id = ?", (thread_id,))
