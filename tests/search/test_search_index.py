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


async def test_the_index_follows_inserts_updates_and_deletes(
    database: Database, episodes: EpisodeRepository
) -> None:
    index = SearchIndex(database)
    before = await index.generation()
    await episodes.upsert_many([make_episode(1, title="Generative adversarial networks")], seen_at=SEEN)
    assert await index.match_counts(['"adversarial"', '"reinforcement"']) == [1, 0]
    await episodes.upsert_many([make_episode(1, title="Reinforcement learning")], seen_at=SEEN)
    assert await index.match_counts(['"adversarial"', '"reinforcement"']) == [0, 1]
    assert (await index.vocabulary()).get("reinforcement") == 1
    async with database.transaction() as connection:
        await connection.execute("DELETE FROM episodes")
    assert await index.match_counts(['"reinforcement"']) == [0]
    assert await index.vocabulary() == {}
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
    index = SearchIndex(database)
    assert await index.match_counts(['{guests} : "lovelace"']) == [1]
    ranked = await index.ranked('"lovelace"', limit=5, window=None)
    by_number = {episode.id: episode.number for episode in await episodes.all()}
    # Named once as a guest beats named twice in the notes.
    assert [by_number[episode_id] for episode_id, _ in ranked] == [1, 2]


async def test_ranking_in_a_window_ranks_only_the_latest_matches(
    database: Database, episodes: EpisodeRepository
) -> None:
    await episodes.upsert_many(
        [make_episode(n, title=f"Episode {n}: graphs") for n in range(1, 21)], seen_at=SEEN
    )
    index = SearchIndex(database)
    newest_ids = sorted([episode.id for episode in await episodes.all()])[-5:]
    windowed = await index.ranked('"graphs"', limit=50, window=4)
    assert sorted(episode_id for episode_id, _ in windowed) == newest_ids
    assert len(await index.ranked('"graphs"', limit=50, window=None, exclude=newest_ids)) == 15


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
        index = SearchIndex(database)
        assert await index.match_counts(['"videoflow"', '"raschka"']) == [2, 1]
        search = EpisodeSearch(EpisodeRepository(database))
        # The first search derives the guests the old rows lack, and indexes them.
        assert [hit.episode.guid for hit in await search.search("raschka")][:1] == ["dsh-ep-007"]
        rows = await database.connection.execute_fetchall(
            "SELECT guests FROM episodes WHERE guid = 'dsh-ep-007' OR guests IS NULL"
        )
        assert [row[0] for row in rows] == ["Sebastian Raschka"]
        assert await index.match_counts(['{guests} : "raschka"']) == [1]
    finally:
        await database.close()
