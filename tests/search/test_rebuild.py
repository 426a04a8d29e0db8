"""The engine's in-memory view: rebuilt off the event loop after a change and swapped in whole."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.db import EpisodeRepository
from bot.db.search_index import CatalogueRows
from bot.models import StoredEpisode
from bot.search import EpisodeSearch, engine, view
from tests.conftest import make_episode

LATER = datetime(2026, 2, 1, tzinfo=UTC)


async def titles(search: EpisodeSearch, text: str) -> list[str]:
    return [hit.episode.guid for hit in await search.autocomplete(text)]


async def test_the_view_is_built_in_a_worker_thread_and_swapped_in(
    search: EpisodeSearch,
    episodes: EpisodeRepository,
    catalogue: list[StoredEpisode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built_in: list[str] = []
    build = view.build_snapshot

    def recording(rows: CatalogueRows, step_aside: Callable[[], object]) -> view.Snapshot:
        built_in.append(threading.current_thread().name)
        return build(rows, step_aside)

    monkeypatch.setattr(view, "build_snapshot", recording)
    await search.search("gan")
    await episodes.upsert_many([make_episode(200, title="Quantum annealing")], seen_at=LATER)
    assert await titles(search, "quantum ann") == ["guid-200"]  # at once, and rebuilt meanwhile
    assert search._rebuild is not None
    await search._rebuild
    assert len(built_in) == 2
    assert threading.main_thread().name not in built_in
    await search.search("gan")  # nothing changed since: no rebuild
    assert len(built_in) == 2


async def test_a_new_episode_is_found_at_once_during_a_slow_rebuild(
    episodes: EpisodeRepository, catalogue: list[StoredEpisode], monkeypatch: pytest.MonkeyPatch
) -> None:
    search = EpisodeSearch(episodes)
    assert await titles(search, "quantum") == []
    build = view.build_snapshot

    def slow(rows: CatalogueRows, step_aside: Callable[[], object]) -> view.Snapshot:
        time.sleep(0.7)
        return build(rows, step_aside)

    monkeypatch.setattr(view, "build_snapshot", slow)
    await episodes.upsert_many([make_episode(200, title="Quantum annealing")], seen_at=LATER)
    started = time.perf_counter()
    # The episodes stored since the view was read are indexed apart: found before the rebuild ends.
    assert [hit.episode.guid for hit in await search.search("quantum annealing")] == ["guid-200"]
    assert await titles(search, "quantum") == ["guid-200"]
    assert (await search.search("markov clustering"))[0].episode.guid == "dsh-ep-073"  # and the rest
    assert time.perf_counter() - started < 0.3
    await asyncio.sleep(0.8)
    assert search._snapshot is not None
    assert search._recent is None
    assert await titles(search, "quantum") == ["guid-200"]


async def test_an_edit_during_a_slow_rebuild_waits_a_little_then_answers_from_the_previous_view(
    episodes: EpisodeRepository, catalogue: list[StoredEpisode], monkeypatch: pytest.MonkeyPatch
) -> None:
    search = EpisodeSearch(episodes, fresh_wait=0.05)
    assert (await search.search("markov clustering"))[0].episode.guid == "dsh-ep-073"
    build = view.build_snapshot

    def slow(rows: CatalogueRows, step_aside: Callable[[], object]) -> view.Snapshot:
        time.sleep(0.5)
        return build(rows, step_aside)

    monkeypatch.setattr(view, "build_snapshot", slow)
    [edited] = [episode for episode in catalogue if episode.guid == "dsh-ep-073"]
    async with episodes.database.transaction() as connection:
        await connection.execute("UPDATE episodes SET title = 'Quantum annealing' WHERE id = ?", (edited.id,))
    started = time.perf_counter()
    assert await search.search("quantum annealing") == []  # the previous view, at once
    assert time.perf_counter() - started < 0.3
    await asyncio.sleep(0.6)
    assert [hit.episode.guid for hit in await search.search("quantum annealing")] == ["dsh-ep-073"]


async def test_concurrent_searches_after_a_change_share_one_rebuild(
    search: EpisodeSearch,
    episodes: EpisodeRepository,
    catalogue: list[StoredEpisode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builds = 0
    build = view.build_snapshot

    def counting(rows: CatalogueRows, step_aside: Callable[[], object]) -> view.Snapshot:
        nonlocal builds
        builds += 1
        return build(rows, step_aside)

    monkeypatch.setattr(view, "build_snapshot", counting)
    results = await asyncio.gather(*(search.search("markov clustering") for _ in range(5)))
    assert builds == 1
    assert {result[0].episode.guid for result in results} == {"dsh-ep-073"}


async def test_a_rebuild_steps_aside_while_a_search_is_answered(
    search: EpisodeSearch,
    episodes: EpisodeRepository,
    catalogue: list[StoredEpisode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await search.search("gan")
    waited: list[float] = []
    build = view.build_snapshot

    def watching(rows: CatalogueRows, step_aside: Callable[[], object]) -> view.Snapshot:
        def timed() -> None:
            started = time.perf_counter()
            step_aside()
            waited.append(time.perf_counter() - started)

        return build(rows, timed)

    monkeypatch.setattr(view, "build_snapshot", watching)
    await episodes.upsert_many([make_episode(200, title="Quantum annealing")], seen_at=LATER)
    with search._answering():  # a search under way: the rebuild waits (at most STEP_ASIDE_MAX)
        rebuild = asyncio.create_task(search.autocomplete("quantum"))
        await asyncio.sleep(0.3)
    assert [hit.episode.guid for hit in await rebuild] == ["guid-200"]
    assert waited
    assert max(waited) >= engine.STEP_ASIDE_MAX * 0.9
