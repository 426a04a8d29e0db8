"""SearchIndex: the SQL behind episode search (ranked FTS5 queries, vocabulary, cache inputs)."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from bot.db.connection import Database
from bot.db.episodes import stored_episode
from bot.episode_facts import guests_column
from bot.models import StoredEpisode

log = logging.getLogger(__name__)

# An FTS5 column filter: the expression after it must match within the title or the guests.
TITLE_OR_GUESTS = "{title guests} : "
# bm25 column weights, in index column order: title, guests, description.
TITLE_WEIGHT = 10.0
GUESTS_WEIGHT = 10.0
DESCRIPTION_WEIGHT = 1.0
GENERATION_RECHECK = 1.0  # seconds: how stale another process's change may leave the engine's view


_RANKED = """
    SELECT rowid, bm25(episodes_fts, :title, :guests, :description) AS score
    FROM episodes_fts
    WHERE episodes_fts MATCH :match AND rowid NOT IN (SELECT value FROM json_each(:exclude))
    ORDER BY score LIMIT :limit
"""
_RANKED_IN_WINDOW = """
    SELECT rowid, bm25(episodes_fts, :title, :guests, :description) AS score
    FROM episodes_fts
    WHERE episodes_fts MATCH :match AND rowid >= coalesce((
            SELECT rowid FROM episodes_fts WHERE episodes_fts MATCH :match
            ORDER BY rowid DESC LIMIT 1 OFFSET :window
        ), 0)
        AND rowid NOT IN (SELECT value FROM json_each(:exclude))
    ORDER BY score LIMIT :limit
"""

# Rebroadcast id -> the earliest original carrying exactly the same (long enough) notes: newest first,
# so the earliest original comes last and wins.
_ORIGINALS_BY_DESCRIPTION = """
    SELECT rebroadcast.id, original.id
    FROM episodes AS rebroadcast
    JOIN episodes AS original
        ON original.description = rebroadcast.description AND original.rebroadcast = 0
    WHERE rebroadcast.rebroadcast = 1 AND length(rebroadcast.description) >= ?
    ORDER BY original.published_at DESC, original.id DESC
"""


class CatalogueEntry(NamedTuple):
    """The few columns the engine keeps in memory for every episode (titles, numbers). A tuple of
    plain values: the garbage collector stops scanning it, however many episodes there are.
    """

    id: int
    number: int | None
    title: str
    rebroadcast: bool


CATALOGUE_SLICE = 5000
_CATALOGUE_SLICE = """
    SELECT id, number, title, rebroadcast FROM episodes ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?
"""
# Indexed words never hold a space (unicode61 splits on it): each slice comes as one string. fts5vocab
# seeks to a range of terms; the ranges split them by first character, in order.
# (A bound given as "? IS NULL OR term < ?" would make fts5vocab scan everything.)
_WORDS_SLICE = """
    SELECT group_concat(term, ' '), group_concat(doc, ' ') FROM episodes_words_vocabulary
    WHERE term >= :low AND term < :high
"""
_STEMS_SLICE = """
    SELECT group_concat(term, ' ') FROM episodes_fts_vocabulary WHERE term >= :low AND term < :high
"""
_TERM_RANGES = tuple(
    zip(("", *"bcdefghijklmnopqrstuvwxyz{"), (*"bcdefghijklmnopqrstuvwxyz{", "\U0010ffff"), strict=True)
)


def _joined(slices: list[str]) -> str:
    return " ".join(part for part in slices if part)


@dataclass(frozen=True, slots=True)
class CatalogueRows:
    """What the engine's in-memory view is built from, as fetched: turning rows into objects is
    left to the builder, off the event loop.
    """

    generation: int
    catalogue: list[tuple[int, int | None, str, int]]  # id, number, title, rebroadcast; newest first
    originals_by_description: list[sqlite3.Row]  # rebroadcast id, original id; the last one wins
    words: str  # every indexed word as written, space-separated
    word_documents: str  # how many episodes use each of them, space-separated, in the same order
    stems: str  # every term of the stemmed index, space-separated


class SearchIndex:
    """Queries over the full-text indexes that migration 0003 keeps in sync with `episodes`."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._known_generation: tuple[int, float, int] | None = None  # (total changes, when, generation)

    def writing(self) -> bool:
        """Whether a write transaction is open on the shared connection (its rows are not committed)."""
        return self._db.connection.in_transaction

    async def generation(self) -> int:
        """A counter every change to `episodes` increments: equal values mean nothing changed.

        Asked of the database only when this connection changed something (any table, or a
        rollback) or GENERATION_RECHECK seconds have passed, for another process's writes: every
        search asks, and a round trip to SQLite's thread costs as much as a simple search.
        """
        connection = self._db.connection
        changes, now = connection.total_changes, time.monotonic()
        known = self._known_generation
        if known is not None and known[0] == changes and now - known[1] < GENERATION_RECHECK:
            return known[2]
        rows = await connection.execute_fetchall("SELECT generation FROM search_state")
        generation = int(next(iter(rows))[0])
        if not connection.in_transaction:  # a rollback would take it back without a change counted
            self._known_generation = (changes, now, generation)
        return generation

    async def fill_missing_guests(self) -> int:
        """Derive the guests of rows that predate the guests column; returns how many it filled."""
        sql = "SELECT id, title FROM episodes WHERE guests IS NULL"
        rows = list(await self._db.connection.execute_fetchall(sql))
        if not rows or self.writing():
            # Waiting for another coroutine's transaction would stall a search (or deadlock one
            # that coroutine awaits): a later refresh fills them.
            return 0
        async with self._db.transaction() as connection:
            await connection.executemany(
                "UPDATE episodes SET guests = ? WHERE id = ? AND guests IS NULL",
                [(guests_column(row["title"]), row["id"]) for row in rows],
            )
        log.info("Derived the guests of %d episodes", len(rows))
        return len(rows)

    async def catalogue_rows(self, same_notes_min_chars: int) -> CatalogueRows:
        """Everything the engine keeps in memory, not converted: the vocabularies as strings, the
        catalogue as plain tuples (hundreds of thousands of row objects would each be scanned by the
        garbage collector while the view is built). Fetched in slices of about 10 ms: SQLite runs
        one statement at a time, and a search queued behind a 250 ms read would wait for all of it.
        """
        connection = self._db.connection
        generation = await self.generation()
        catalogue: list[Any] = []
        while True:
            async with connection.execute(_CATALOGUE_SLICE, (CATALOGUE_SLICE, len(catalogue))) as cursor:
                cursor.row_factory = None
                rows = list(await cursor.fetchall())  # plain tuples: no row factory
            catalogue.extend(rows)
            if len(rows) < CATALOGUE_SLICE:
                break
        originals = await connection.execute_fetchall(_ORIGINALS_BY_DESCRIPTION, (same_notes_min_chars,))
        words, documents, stems = [], [], []
        for low, high in _TERM_RANGES:
            [[some_words, some_documents]] = await connection.execute_fetchall(
                _WORDS_SLICE, {"low": low, "high": high}
            )
            [[some_stems]] = await connection.execute_fetchall(_STEMS_SLICE, {"low": low, "high": high})
            words.append(some_words or "")
            documents.append(some_documents or "")
            stems.append(some_stems or "")
        return CatalogueRows(
            generation, catalogue, list(originals), _joined(words), _joined(documents), _joined(stems)
        )

    async def vocabulary(self) -> dict[str, int]:
        """Every indexed word as written (lower case, accents folded) -> how many episodes use it."""
        rows = await self._db.connection.execute_fetchall("SELECT term, doc FROM episodes_words_vocabulary")
        return {row[0]: int(row[1]) for row in rows}

    async def match_counts(self, expressions: Sequence[str]) -> list[int]:
        """How many episodes each FTS5 expression matches (stemming, prefixes and all)."""
        rows = await self._db.connection.execute_fetchall(
            """
            SELECT (SELECT count(*) FROM episodes_fts WHERE episodes_fts MATCH value)
            FROM json_each(?) ORDER BY key
            """,
            (json.dumps(list(expressions)),),
        )
        return [int(row[0]) for row in rows]

    async def scored_among(
        self, expressions: Sequence[str], ids: Sequence[int]
    ) -> list[tuple[int, int, float]]:
        """(expression index, episode id, bm25) for each of these episodes each expression matches."""
        rows = await self._db.connection.execute_fetchall(
            """
            SELECT CAST(expression.key AS INTEGER), episodes_fts.rowid,
                bm25(episodes_fts, :title, :guests, :description)
            FROM json_each(:expressions) AS expression
            JOIN episodes_fts ON episodes_fts MATCH expression.value
            -- "+": filtered after matching. As an FTS5 constraint, each id would be matched (and
            -- every phrase's rarity counted again) separately.
            WHERE +episodes_fts.rowid IN (SELECT value FROM json_each(:ids))
            """,
            {
                "expressions": json.dumps(list(expressions)),
                "ids": json.dumps(list(ids)),
                "title": TITLE_WEIGHT,
                "guests": GUESTS_WEIGHT,
                "description": DESCRIPTION_WEIGHT,
            },
        )
        return [(int(row[0]), int(row[1]), float(row[2])) for row in rows]

    async def ranked(
        self, match: str, *, limit: int, window: int | None, exclude: Sequence[int] = ()
    ) -> list[tuple[int, float]]:
        """(episode id, bm25) of episodes matching an FTS5 expression, best (lowest bm25) first.

        bm25 costs about a microsecond per matching episode: with a `window`, only that many of the
        matches added most recently are ranked, so a word found in thousands of episodes stays fast.
        """
        parameters: dict[str, object] = {
            "match": match,
            "title": TITLE_WEIGHT,
            "guests": GUESTS_WEIGHT,
            "description": DESCRIPTION_WEIGHT,
            "exclude": json.dumps(list(exclude)),
            "limit": limit,
        }
        if window is None:
            rows = await self._db.connection.execute_fetchall(_RANKED, parameters)
        else:
            rows = await self._db.connection.execute_fetchall(
                _RANKED_IN_WINDOW, {**parameters, "window": window}
            )
        return [(int(row[0]), float(row[1])) for row in rows]

    async def episodes(self, ids: Sequence[int]) -> dict[int, StoredEpisode]:
        """The episodes with these ids, in one round trip (search results are fetched on every call)."""
        rows = await self._db.connection.execute_fetchall(
            "SELECT * FROM episodes WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)
        )
        return {episode.id: episode for episode in map(stored_episode, rows)}
