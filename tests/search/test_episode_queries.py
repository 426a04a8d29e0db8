"""The read-only catalogue queries the episode commands browse with: random, years, by year."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.db import EpisodeRepository
from bot.models import StoredEpisode
from tests.conftest import make_episode
from tests.search.conftest import catalogue_episodes

SEEN = datetime(2026, 1, 1, tzinfo=UTC)


def published_in(year: int, *, include_rebroadcasts: bool = True) -> int:
    return sum(
        1
        for episode in catalogue_episodes()
        if episode.published is not None
        and episode.published.year == year
        and (include_rebroadcasts or not episode.rebroadcast)
    )


async def test_years_count_the_episodes_of_each_year_newest_first(
    episodes: EpisodeRepository, catalogue: list[StoredEpisode]
) -> None:
    years = await episodes.years()
    assert list(years) == [2019, 2018, 2017, 2016, 2015]
    assert sum(years.values()) == 93
    assert years[2019] == published_in(2019)
    assert (await episodes.years(include_rebroadcasts=False))[2019] == published_in(
        2019, include_rebroadcasts=False
    )


async def test_by_year_pages_through_a_year_in_publication_order(
    episodes: EpisodeRepository, catalogue: list[StoredEpisode]
) -> None:
    total = await episodes.count_by_year(2016)
    assert total == published_in(2016) == 12
    first = await episodes.by_year(2016, offset=0, limit=6)
    second = await episodes.by_year(2016, offset=6, limit=6)
    paged = [*first, *second]
    assert len(paged) == total
    assert all(episode.published is not None and episode.published.year == 2016 for episode in paged)
    dates = [episode.published for episode in paged]
    assert dates == sorted(dates)  # type: ignore[type-var]
    assert [episode.number for episode in paged[:3]] == [5, 6, 7]


async def test_rebroadcasts_are_left_out_of_a_year_when_asked(
    episodes: EpisodeRepository, catalogue: list[StoredEpisode]
) -> None:
    everything = await episodes.by_year(2019, limit=100)
    originals = await episodes.by_year(2019, limit=100, include_rebroadcasts=False)
    assert len(everything) == published_in(2019)
    assert len(originals) == published_in(2019, include_rebroadcasts=False) < len(everything)
    assert not any(episode.rebroadcast for episode in originals)
    assert await episodes.count_by_year(2019, include_rebroadcasts=False) == len(originals)
    assert await episodes.count_by_year(2030) == 0


async def test_random_respects_its_filters(
    episodes: EpisodeRepository, catalogue: list[StoredEpisode]
) -> None:
    for _ in range(20):
        picked = await episodes.random(year=2017)
        assert picked is not None
        assert picked.published is not None
        assert picked.published.year == 2017
        assert not picked.rebroadcast
    seen = {(await episodes.random(include_rebroadcasts=True)).id for _ in range(60)}  # type: ignore[union-attr]
    assert len(seen) > 10  # random, not the same episode every time


async def test_random_skips_excluded_episodes_and_says_when_none_is_left(episodes: EpisodeRepository) -> None:
    await episodes.upsert_many([make_episode(1), make_episode(2)], seen_at=SEEN)
    stored = await episodes.all()
    first = await episodes.random(exclude_ids=[stored[0].id])
    assert first is not None
    assert first.id == stored[1].id
    assert await episodes.random(exclude_ids=[episode.id for episode in stored]) is None
    assert await episodes.random(year=1999) is None
