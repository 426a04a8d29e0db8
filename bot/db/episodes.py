"""EpisodeRepository: the podcast's catalogue of episodes and its full-text index."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import datetime

import aiosqlite

from bot.db.connection import Database
from bot.db.timestamps import from_db, to_db, to_db_or_none
from bot.episode_facts import guests_column
from bot.models import Episode, StoredEpisode

_EPISODE_FIELDS = tuple(field.name for field in fields(Episode))


@dataclass(frozen=True, slots=True)
class UpsertResult:
    new: tuple[StoredEpisode, ...]  # oldest first
    updated: tuple[StoredEpisode, ...]
    unchanged: int
    last_id: int | None  # the batch's row stored last: where the next watermark goes


def _instant(text: str) -> datetime:
    # from_db's strptime costs 6 µs, fromisoformat 0.1: every search result and feed row passes here.
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else from_db(text)  # from_db says what is wrong


def stored_episode(row: aiosqlite.Row) -> StoredEpisode:
    published = row["published_at"]
    return StoredEpisode(
        guid=row["guid"],
        title=row["title"],
        number=row["number"],
        published=None if published is None else _instant(published),
        duration_seconds=row["duration_seconds"],
        audio_url=row["audio_url"],
        link=row["link"],
        description=row["description"],
        image=row["image"],
        rebroadcast=bool(row["rebroadcast"]),
        id=row["id"],
        first_seen=_instant(row["first_seen_at"]),
    )


def _as_episode(stored: StoredEpisode) -> Episode:
    return Episode(**{name: getattr(stored, name) for name in _EPISODE_FIELDS})


def _values(episode: Episode) -> tuple[object, ...]:
    return (
        episode.title,
        episode.number,
        to_db_or_none(episode.published),
        episode.duration_seconds,
        episode.audio_url,
        episode.link,
        episode.description,
        episode.image,
        int(episode.rebroadcast),
        guests_column(episode.title),
    )


class EpisodeRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def _select(self, sql_tail: str, parameters: Iterable[object] = ()) -> list[StoredEpisode]:
        # sql_tail is always a literal of this module; values travel as bound parameters.
        sql = f"SELECT * FROM episodes {sql_tail}"  # noqa: S608
        async with self._db.connection.execute(sql, tuple(parameters)) as c:
            return [stored_episode(row) for row in await c.fetchall()]

    async def upsert_many(
        self, episodes: Sequence[Episode], *, seen_at: datetime, new_after_id: int | None = None
    ) -> UpsertResult:
        """Insert new episodes, update edited ones; never delete one missing from this batch.

        An edited episode (same guid, new title or description) is updated, not new. An episode
        whose guid changed (the feed moved host, say) is the same one when its audio file or its web
        page is, and the old guid is gone from this batch.

        `new` is every episode of the batch stored after `new_after_id` (the watermark of the last
        ingest that completed), not only those inserted now: rows a crashed ingest stored are still
        news for the next. Without a watermark, `new` is what this call inserted. Comparing happens
        in a worker thread, and writing in short transactions, so neither the event loop nor the
        database is held while thousands of items are stored.
        """
        rows = list(
            await self._db.connection.execute_fetchall(
                """
                SELECT * FROM episodes
                WHERE guid IN (SELECT value FROM json_each(:guids))
                    OR audio_url IN (SELECT value FROM json_each(:audio_urls))
                    OR link IN (SELECT value FROM json_each(:links))
                """,
                {
                    "guids": json.dumps([episode.guid for episode in episodes]),
                    "audio_urls": json.dumps(
                        [episode.audio_url for episode in episodes if episode.audio_url]
                    ),
                    "links": json.dumps([episode.link for episode in episodes if episode.link]),
                },
            )
        )
        plan = await asyncio.to_thread(_plan_upsert, rows, episodes, to_db(seen_at))
        if new_after_id is None:
            new_after_id = await self.last_id()
        for statement, parameters in ((_INSERT, plan.inserts), (_UPDATE, plan.updates)):
            for start in range(0, len(parameters), WRITE_CHUNK):
                async with self._db.transaction() as connection:
                    await connection.executemany(statement, parameters[start : start + WRITE_CHUNK])
        batch_ids = [
            int(row[0])
            for row in await self._db.connection.execute_fetchall(
                "SELECT id FROM episodes WHERE guid IN (SELECT value FROM json_each(?)) ORDER BY id",
                (json.dumps(plan.guids),),
            )
        ]
        fresh = [episode_id for episode_id in batch_ids if episode_id > new_after_id]
        new = await self._by_ids_off_loop(fresh)
        return UpsertResult(
            new=tuple(sorted(new, key=_publication_order)),
            updated=tuple(await self._by_ids_off_loop(plan.updated_ids)),
            last_id=batch_ids[-1] if batch_ids else None,
            unchanged=plan.unchanged,
        )

    async def _by_ids_off_loop(self, ids: Sequence[int]) -> list[StoredEpisode]:
        if not ids:
            return []
        rows = await self._db.connection.execute_fetchall(
            "SELECT * FROM episodes WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)
        )
        found = {stored.id: stored for stored in await asyncio.to_thread(_stored_episodes, list(rows))}
        return [found[episode_id] for episode_id in ids if episode_id in found]

    async def by_ids(self, ids: Sequence[int]) -> list[StoredEpisode]:
        found: dict[int, StoredEpisode] = {}
        # Chunked: SQLite caps the number of bound parameters in one statement.
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            placeholders = ",".join("?" * len(chunk))
            for stored in await self._select(f"WHERE id IN ({placeholders})", chunk):
                found[stored.id] = stored
        return [found[episode_id] for episode_id in ids if episode_id in found]

    async def get(self, episode_id: int) -> StoredEpisode | None:
        found = await self._select("WHERE id = ?", (episode_id,))
        return found[0] if found else None

    async def by_guid(self, guid: str) -> StoredEpisode | None:
        found = await self._select("WHERE guid = ?", (guid,))
        return found[0] if found else None

    async def by_number(self, number: int) -> list[StoredEpisode]:
        """Episodes carrying this number, originals before rebroadcasts, then oldest first."""
        return await self._select("WHERE number = ? ORDER BY rebroadcast, published_at, id", (number,))

    async def count(self) -> int:
        async with self._db.connection.execute("SELECT count(*) FROM episodes") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def last_id(self) -> int:
        """The id of the episode stored last (0 for none): ids only grow, episodes are never deleted."""
        async with self._db.connection.execute("SELECT coalesce(max(id), 0) FROM episodes") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def latest(self, limit: int = 1, *, include_rebroadcasts: bool = True) -> list[StoredEpisode]:
        where = "" if include_rebroadcasts else "WHERE rebroadcast = 0"
        return await self._select(f"{where} ORDER BY published_at DESC, id DESC LIMIT ?", (limit,))

    async def all(self) -> list[StoredEpisode]:
        """Every episode, newest first."""
        return await self._select("ORDER BY published_at DESC, id DESC")

    @property
    def database(self) -> Database:
        """The database behind this repository, for services that query the same catalogue."""
        return self._db

    async def random(
        self,
        *,
        year: int | None = None,
        include_rebroadcasts: bool = False,
        exclude_ids: Sequence[int] = (),
    ) -> StoredEpisode | None:
        """A random episode, optionally from one year, never one of `exclude_ids`; None if none fits."""
        conditions = ["id NOT IN (SELECT value FROM json_each(?))"]
        parameters: list[object] = [json.dumps(list(exclude_ids))]
        if year is not None:
            conditions.append("published_at >= ? AND published_at < ?")
            parameters.extend(_year_bounds(year))
        if not include_rebroadcasts:
            conditions.append("rebroadcast = 0")
        found = await self._select(f"WHERE {' AND '.join(conditions)} ORDER BY random() LIMIT 1", parameters)
        return found[0] if found else None

    async def years(self, *, include_rebroadcasts: bool = True) -> dict[int, int]:
        """Year -> how many episodes were published in it, newest year first (undated ones left out)."""
        where = "" if include_rebroadcasts else "AND rebroadcast = 0"
        async with self._db.connection.execute(
            f"""
            SELECT CAST(substr(published_at, 1, 4) AS INTEGER) AS year, count(*) AS episodes
            FROM episodes WHERE published_at IS NOT NULL {where}
            GROUP BY year ORDER BY year DESC
            """  # noqa: S608 - `where` is one of two literals above
        ) as cursor:
            return {int(row["year"]): int(row["episodes"]) for row in await cursor.fetchall()}

    async def by_year(
        self, year: int, *, offset: int = 0, limit: int = 10, include_rebroadcasts: bool = True
    ) -> list[StoredEpisode]:
        """One page of a year's episodes in publication order (oldest first)."""
        where = "" if include_rebroadcasts else "AND rebroadcast = 0"
        return await self._select(
            f"WHERE published_at >= ? AND published_at < ? {where} "
            "ORDER BY published_at, id LIMIT ? OFFSET ?",
            (*_year_bounds(year), limit, offset),
        )

    async def count_by_year(self, year: int, *, include_rebroadcasts: bool = True) -> int:
        """How many episodes `by_year` pages through."""
        where = "" if include_rebroadcasts else "AND rebroadcast = 0"
        async with self._db.connection.execute(
            f"SELECT count(*) FROM episodes WHERE published_at >= ? AND published_at < ? {where}",  # noqa: S608
            _year_bounds(year),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0


# Rows per write transaction: other writers (a moderator's /config, a vote) wait at most this long.
WRITE_CHUNK = 500
# OR IGNORE: another process (python -m bot ingest beside the bot) may have stored it meanwhile.
_INSERT = """
    INSERT OR IGNORE INTO episodes (title, number, published_at, duration_seconds, audio_url, link,
        description, image, rebroadcast, guests, guid, first_seen_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_UPDATE = """
    UPDATE episodes SET title = ?, number = ?, published_at = ?, duration_seconds = ?, audio_url = ?,
        link = ?, description = ?, image = ?, rebroadcast = ?, guests = ?, guid = ?, updated_at = ?
    WHERE id = ?
"""


@dataclass(frozen=True, slots=True)
class _UpsertPlan:
    inserts: list[tuple[object, ...]]  # _INSERT parameters, in feed order
    updates: list[tuple[object, ...]]  # _UPDATE parameters
    updated_ids: list[int]
    unchanged: int
    guids: list[str]  # every episode of the batch, as stored after it


def _stored_episodes(rows: Sequence[aiosqlite.Row]) -> list[StoredEpisode]:
    return [stored_episode(row) for row in rows]


def _plan_upsert(rows: Sequence[aiosqlite.Row], episodes: Sequence[Episode], seen_at: str) -> _UpsertPlan:
    """What upsert_many writes (pure: run in a worker thread)."""
    existing = {stored.guid: stored for stored in _stored_episodes(rows)}
    incoming_guids = {episode.guid for episode in episodes}
    gone = [stored for stored in existing.values() if stored.guid not in incoming_guids]
    by_audio_url = {stored.audio_url: stored for stored in gone if stored.audio_url}
    # A page many items share (a feed that links every item to its home page) says nothing.
    shared_links = _repeated([stored.link for stored in existing.values()]) | _repeated(
        [episode.link for episode in episodes]
    )
    by_link = {stored.link: stored for stored in gone if stored.link and stored.link not in shared_links}
    plan = _UpsertPlan([], [], [], 0, [])
    unchanged = 0
    for episode in _unique_by_guid(episodes):
        plan.guids.append(episode.guid)
        previous = existing.get(episode.guid)
        if previous is None and episode.audio_url:
            previous = by_audio_url.pop(episode.audio_url, None)
        if previous is None and episode.link and episode.link not in shared_links:
            previous = by_link.pop(episode.link, None)
        if previous is None:
            plan.inserts.append((*_values(episode), episode.guid, seen_at, seen_at))
        elif astuple(_as_episode(previous)) != astuple(episode):
            plan.updates.append((*_values(episode), episode.guid, seen_at, previous.id))
            plan.updated_ids.append(previous.id)
        else:
            unchanged += 1
    return _UpsertPlan(plan.inserts, plan.updates, plan.updated_ids, unchanged, plan.guids)


def _repeated(values: Sequence[str | None]) -> set[str]:
    counts = Counter(value for value in values if value)
    return {value for value, count in counts.items() if count > 1}


def _unique_by_guid(episodes: Sequence[Episode]) -> list[Episode]:
    """A feed that repeats a guid gets its first occurrence kept (feeds list newest first)."""
    seen: set[str] = set()
    unique = []
    for episode in episodes:
        if episode.guid not in seen:
            seen.add(episode.guid)
            unique.append(episode)
    return unique


def _publication_order(episode: StoredEpisode) -> tuple[datetime, int]:
    return (episode.published or episode.first_seen, episode.id)


def _year_bounds(year: int) -> tuple[str, str]:
    """The stored-text range of one calendar year (UTC): [start, start of the next year)."""
    return f"{year:04d}-01-01T00:00:00Z", f"{year + 1:04d}-01-01T00:00:00Z"
