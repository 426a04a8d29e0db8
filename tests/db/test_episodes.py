import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.db import EpisodeRepository
from bot.db import episodes as episodes_module
from tests.conftest import make_episode

SEEN = datetime(2026, 1, 1, tzinfo=UTC)
LATER = datetime(2026, 1, 2, tzinfo=UTC)


async def test_first_upsert_reports_every_episode_new_oldest_first(episodes: EpisodeRepository) -> None:
    result = await episodes.upsert_many([make_episode(3), make_episode(2), make_episode(1)], seen_at=SEEN)
    assert [episode.number for episode in result.new] == [1, 2, 3]
    assert await episodes.count() == 3


async def test_upsert_is_idempotent(episodes: EpisodeRepository) -> None:
    batch = [make_episode(1), make_episode(2)]
    await episodes.upsert_many(batch, seen_at=SEEN)
    again = await episodes.upsert_many(batch, seen_at=LATER)
    assert again.new == ()
    assert again.updated == ()
    assert again.unchanged == 2


async def test_edited_episode_is_updated_not_new(episodes: EpisodeRepository) -> None:
    await episodes.upsert_many([make_episode(1)], seen_at=SEEN)
    edited = make_episode(1, title="Episode 1: a better title", description="Fixed typo.")
    result = await episodes.upsert_many([edited], seen_at=LATER)
    assert result.new == ()
    assert [episode.title for episode in result.updated] == ["Episode 1: a better title"]
    stored = await episodes.by_guid("guid-1")
    assert stored is not None
    assert stored.description == "Fixed typo."
    assert stored.first_seen == SEEN


async def test_changed_guid_for_the_same_audio_is_the_same_episode(episodes: EpisodeRepository) -> None:
    await episodes.upsert_many([make_episode(1)], seen_at=SEEN)
    result = await episodes.upsert_many([make_episode(1, guid="new-guid-1")], seen_at=LATER)
    assert result.new == ()
    assert await episodes.count() == 1
    assert await episodes.by_guid("new-guid-1") is not None


async def test_two_items_sharing_an_audio_file_stay_two_episodes(episodes: EpisodeRepository) -> None:
    await episodes.upsert_many([make_episode(1)], seen_at=SEEN)
    rebroadcast = make_episode(2, guid="guid-1-rb", audio_url=make_episode(1).audio_url, rebroadcast=True)
    result = await episodes.upsert_many([rebroadcast, make_episode(1)], seen_at=LATER)
    assert [episode.guid for episode in result.new] == ["guid-1-rb"]
    assert await episodes.count() == 2


async def test_episode_missing_from_a_later_batch_is_never_deleted(episodes: EpisodeRepository) -> None:
    await episodes.upsert_many([make_episode(1), make_episode(2)], seen_at=SEEN)
    await episodes.upsert_many([make_episode(2)], seen_at=LATER)
    assert await episodes.by_guid("guid-1") is not None


async def test_repeated_guid_in_one_feed_keeps_the_first(episodes: EpisodeRepository) -> None:
    result = await episodes.upsert_many(
        [make_episode(1, title="first"), make_episode(1, title="second")], seen_at=SEEN
    )
    assert [episode.title for episode in result.new] == ["first"]


async def test_by_number_lists_originals_before_rebroadcasts(episodes: EpisodeRepository) -> None:
    original = make_episode(84, guid="ep-84", published=datetime(2019, 10, 27, tzinfo=UTC))
    rerun = make_episode(
        84,
        guid="ep-84-rb",
        rebroadcast=True,
        audio_url="https://cdn.example/84rb.mp3",
        published=datetime(2019, 11, 27, tzinfo=UTC),
    )
    await episodes.upsert_many([rerun, original], seen_at=SEEN)
    assert [episode.guid for episode in await episodes.by_number(84)] == ["ep-84", "ep-84-rb"]


async def test_latest_is_by_publication_date(episodes: EpisodeRepository) -> None:
    await episodes.upsert_many(
        [
            make_episode(1, published=datetime(2019, 5, 1, tzinfo=UTC)),
            make_episode(2, published=datetime(2019, 6, 1, tzinfo=UTC)),
        ],
        seen_at=SEEN,
    )
    latest = await episodes.latest()
    assert [episode.number for episode in latest] == [2]


async def test_a_feed_is_compared_with_the_catalogue_off_the_event_loop(
    episodes: EpisodeRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    planned_in: list[str] = []
    plan = episodes_module._plan_upsert

    def recording(*args: Any) -> Any:
        planned_in.append(threading.current_thread().name)
        return plan(*args)

    monkeypatch.setattr(episodes_module, "_plan_upsert", recording)
    await episodes.upsert_many([make_episode(2), make_episode(1)], seen_at=SEEN)
    result = await episodes.upsert_many([make_episode(3), make_episode(2, title="Edited")], seen_at=LATER)
    assert [episode.number for episode in result.new] == [3]
    assert [episode.title for episode in result.updated] == ["Edited"]
    assert result.unchanged == 0
    assert len(planned_in) == 2
    assert threading.main_thread().name not in planned_in
