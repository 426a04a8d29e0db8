"""SearchIndex and migration 0003: the indexes follow the episodes table, old databases upgrade."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.db import Database, EpisodeRepository
from bot.db.connection import bundled_migrations
from bot.db.search_index import SearchIndex
from bot.db.timestamps import to_db, to_db_or_none
from bot.search import EpisodeSearch
from tests.conftest import make_episode
from tests.search.conftest import catalogue_episodes

SEEN = datetime(2026, 1, 1, tzinfo=UTC)


async def episodes_with(database: Database, words: list[str]) -> list[int]:
    """How many episodes have each word, in the unstemmed index migration 0003 keeps (0013 keeps it
    alone)."""
    counts = await vocabulary(database)
    return [counts.get(word, 0) for word in words]


async def vocabulary(database: Database) -> dict[str, int]:
    """The unstemmed vocabulary the engine's typo correction reads (word -> episodes)."""
    rows = await SearchIndex(database).catalogue_rows()
    return {
        word: int(count)
        for words, counts in rows.words
        for word, count in zip(words.split(), counts.split(), strict=True)
    }


async def test_the_index_follows_inserts_updates_and_deletes(
    database: Database, episodes: EpisodeRepository
) -> None:
    index = SearchIndex(database)
    before = await index.generation()
    await episodes.upsert_many([make_episode(1, title="Generative adversarial networks")], seen_at=SEEN)
    assert await episodes_with(database, ["adversarial", "reinforcement"]) == [1, 0]
    await episodes.upsert_many([make_episode(1, title="Reinforcement learning")], seen_at=SEEN)
    assert await episodes_with(database, ["adversarial", "reinforcement"]) == [0, 1]
    assert (await vocabulary(database)).get("reinforcement") == 1
    assert [row[2] for row in (await index.catalogue_rows()).episodes] == ["Reinforcement learning"]
    async with database.transaction() as connection:
        await connection.execute("DELETE FROM episodes")
    assert await episodes_with(database, ["reinforcement"]) == [0]
    assert await vocabulary(database) == {}
    assert await index.generation() == before + 3


async def test_guests_are_indexed_and_weigh_like_the_title(
    database: Database, episodes: EpisodeRepository
) -> None:
    await episodes.upsert_many(
        [
            make_episode(1, title="Episode 1: Vision with Ada Lovelace", description="Computers."),
            make_episode(2, title="Episode 2: Engines", description="Ada Lovelace wrote about Ada Lovelace."),
        ],
        seen_at=SEEN,
    )
    rows = await database.connection.execute_fetchall("SELECT guests FROM episodes ORDER BY id")
    assert [row[0] for row in rows] == ["Ada Lovelace", ""]  # derived: a guest, and none
    found = await EpisodeSearch(episodes).search("lovelace")
    # Named once as a guest beats named twice in the notes.
    assert [hit.episode.number for hit in found] == [1, 2]


async def test_migration_upgrades_a_database_that_already_holds_episodes(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = await Database.open(path, bundled_migrations()[:2])
    async with old.transaction() as connection:
        for episode in catalogue_episodes():
            await connection.execute(
                """
                INSERT INTO episodes (guid, number, title, published_at, duration_seconds, audio_url, link,
                    description, image, rebroadcast, first_seen_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    episode.guid,
                    episode.number,
                    episode.title,
                    to_db_or_none(episode.published),
                    episode.duration_seconds,
                    episode.audio_url,
                    episode.link,
                    episode.description,
                    episode.image,
                    int(episode.rebroadcast),
                    to_db(SEEN),
                    to_db(SEEN),
                ),
            )
    await old.close()

    database = await Database.open(path)
    try:
        assert await database.schema_version() == bundled_migrations()[-1].version
        assert await episodes_with(database, ["videoflow", "raschka"]) == [2, 1]
        search = EpisodeSearch(EpisodeRepository(database))
        # The first search derives the guests the old rows lack, and indexes them.
        assert [hit.episode.guid for hit in await search.search("raschka")][:1] == ["dsh-ep-007"]
        rows = await database.connection.execute_fetchall(
            "SELECT guests FROM episodes WHERE guid = 'dsh-ep-007' OR guests IS NULL"
        )
        assert [row[0] for row in rows] == ["Sebastian Raschka"]
    finally:
        await database.close()
