"""SearchIndex: the SQL behind episode search: what its in-memory view is built from, and when to."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from bot.db.connection import Database
from bot.db.episodes import stored_episode
from bot.episode_facts import guests_column
from bot.models import StoredEpisode

log = logging.getLogger(__name__)

GENERATION_RECHECK = 1.0  # seconds: how stale another process's change may leave the engine's view
_IDS_PER_QUERY = 500  # SQLite caps the parameters of one statement


class CatalogueEntry(NamedTuple):
    """The few columns the engine keeps in memory for every episode (titles, numbers). A tuple of
    plain values: the garbage collector stops scanning it, however many episodes there are.
    """

    id: int
    number: int | None
    title: str
    rebroadcast: bool


CATALOGUE_SLICE = 1000  # episodes (with their notes) per read: about 10 ms of SQLite's time
_EPISODE_COLUMNS = "id, number, title, rebroadcast, published_at, coalesce(guests, ''), description"
# The catalogue newest first (ORDER BY published_at DESC, id DESC: undated episodes last), in slices
# that each seek to where the last one ended: an OFFSET would count its way through every row before.
_DATED_SLICE = f"""
    SELECT {_EPISODE_COLUMNS} FROM episodes
    WHERE published_at IS NOT NULL AND (published_at, id) < (:published, :id)
    ORDER BY published_at DESC, id DESC LIMIT :limit
"""  # noqa: S608 - a literal of this module
_UNDATED_SLICE = f"""
    SELECT {_EPISODE_COLUMNS} FROM episodes WHERE published_at IS NULL AND id < :id
    ORDER BY id DESC LIMIT :limit
"""  # noqa: S608
_EPISODES_AFTER = f"SELECT {_EPISODE_COLUMNS} FROM episodes WHERE id > ?"  # noqa: S608
# Indexed words never hold a space (unicode61 splits on it): each slice comes as one string. fts5vocab
# seeks to a range of terms; the ranges split them by first character, in order.
# (A bound given as "? IS NULL OR term < ?" would make fts5vocab scan everything.)
_WORDS_SLICE = """
    SELECT group_concat(term, ' '), group_concat(doc, ' ') FROM episodes_words_vocabulary
    WHERE term >= :low AND term < :high
"""
_TERM_RANGES = tuple(
    zip(("", *"bcdefghijklmnopqrstuvwxyz{"), (*"bcdefghijklmnopqrstuvwxyz{", "\U0010ffff"), strict=True)
)


EpisodeRow = tuple[int, int | None, str, int, str | None, str, str]
"""id, number, title, rebroadcast, published_at, guests, description"""


@dataclass(frozen=True, slots=True)
class CatalogueRows:
    """What the engine's in-memory view is built from, as fetched: turning rows into objects is
    left to the builder, off the event loop.
    """

    generation: int
    episodes: list[EpisodeRow]  # newest first
    # Every indexed word as written, and how many episodes use it: slices of space-separated words
    # and counts in the same order (splitting one string of them all would hold the GIL too long).
    words: list[tuple[str, str]]


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

    async def catalogue_rows(self) -> CatalogueRows:
        """Everything the engine keeps in memory, not converted: the vocabulary as strings, the
        episodes as plain tuples (hundreds of thousands of row objects would each be scanned by the
        garbage collector while the view is built). Fetched in slices of about 10 ms: SQLite runs
        one statement at a time, and a search queued behind a 250 ms read would wait for all of it.
        """
        connection = self._db.connection
        generation = await self.generation()
        episodes: list[EpisodeRow] = []
        after: dict[str, object] = {"published": "\U0010ffff", "id": 0, "limit": CATALOGUE_SLICE}
        while True:
            rows = await self._tuples(_DATED_SLICE, after)
            episodes.extend(rows)
            if len(rows) < CATALOGUE_SLICE:
                break
            after = {**after, "published": rows[-1][4], "id": rows[-1][0]}
        after = {"id": 1 << 62, "limit": CATALOGUE_SLICE}
        while True:
            rows = await self._tuples(_UNDATED_SLICE, after)
            episodes.extend(rows)
            if len(rows) < CATALOGUE_SLICE:
                break
            after = {**after, "id": rows[-1][0]}
        words = []
        for low, high in _TERM_RANGES:
            [[some_words, some_documents]] = await connection.execute_fetchall(
                _WORDS_SLICE, {"low": low, "high": high}
            )
            words.append((some_words or "", some_documents or ""))
        return CatalogueRows(generation, episodes, words)

    async def episodes_after(self, episode_id: int) -> list[EpisodeRow]:
        """Every episode with a greater id (those stored since the view was built), as plain tuples."""
        return await self._tuples(_EPISODES_AFTER, (episode_id,))

    async def _tuples(
        self, sql: str, parameters: Mapping[str, object] | tuple[object, ...]
    ) -> list[EpisodeRow]:
        async with self._db.connection.execute(sql, parameters) as cursor:
            cursor.row_factory = None  # plain tuples
            rows: list[EpisodeRow] = list(await cursor.fetchall())  # type: ignore[arg-type]
            return rows

    async def episodes(self, ids: Sequence[int]) -> dict[int, StoredEpisode]:
        """The episodes with these ids, in one round trip (search results are fetched on every call).
        The ids are bound one by one: cheaper than a JSON array for the few a page shows.
        """
        found: dict[int, StoredEpisode] = {}
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = list(ids[start : start + _IDS_PER_QUERY])
            sql = f"SELECT * FROM episodes WHERE id IN ({','.join('?' * len(chunk))})"  # noqa: S608
            rows = await self._db.connection.execute_fetchall(sql, chunk)
            found.update((episode.id, episode) for episode in map(stored_episode, rows))
        return found
