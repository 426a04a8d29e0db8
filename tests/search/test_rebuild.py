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
from bot.search import EpisodeSearch, engine
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
    build = engine._build_snapshot

    def recording(rows: CatalogueRows, step_aside: Callable[[], object]) -> engine._Snapshot:
        built_in.append(threading.current_thread().name)
        return build(rows, step_aside)

    monkeypatch.setattr(engine, "_build_snapshot", recording)
    await search.search("gan")
    await episodes.upsert_many([make_episode(200, title="Quantum annealing")], seen_at=LATER)
    assert await titles(search, "quantum ann") == ["guid-200"]
    assert len(built_in) == 2
    assert threading.main_thread().name not in built_in
    await search.search("gan")  # nothing changed since: no rebuild
    assert len(built_in) == 2


async def test_a_search_during_a_slow_rebuild_answers_from_the_previous_view(
    episodes: EpisodeRepository, catalogue: list[StoredEpisode], monkeypatch: pytest.MonkeyPatch
) -> None:
    search = EpisodeSearch(episodes, fresh_wait=0.05)
    assert await titles(search, "quantum") == []
    build = engine._build_snapshot

    def slow(rows: CatalogueRows, step_aside: Callable[[], object]) -> engine._Snapshot:
        time.sleep(0.5)
        return build(rows, step_aside)

    monkeypatch.setattr(engine, "_build_snapshot", slow)
    await episodes.upsert_many([make_episode(200, title="Quantum annealing")], seen_at=LATER)
    started = time.perf_counter()
    # The full-text index is current: the search finds the new episode before the view is rebuilt...
    assert [hit.episode.guid for hit in await search.search("quantum annealing")] == ["guid-200"]
    # ...and title completion, which lives in the view, does not yet, but answers at once.
    assert await titles(search, "quantum") == []
    assert time.perf_counter() - started < 0.4
    await asyncio.sleep(0.6)
    assert await titles(search, "quantum") == ["guid-200"]


async def test_concurrent_searches_after_a_change_share_one_rebuild(
    search: EpisodeSearch,
    episodes: EpisodeRepository,
    catalogue: list[StoredEpisode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builds = 0
    build = engine._build_snapshot

    def counting(rows: CatalogueRows, step_aside: Callable[[], object]) -> engine._Snapshot:
        nonlocal builds
        builds += 1
        return build(rows, step_aside)

    monkeypatch.setattr(engine, "_build_snapshot", counting)
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
    build = engine._build_snapshot

    def watching(rows: CatalogueRows, step_aside: Callable[[], object]) -> engine._Snapshot:
        def timed() -> None:
            started = time.perf_counter()
            step_aside()
            waited.append(time.perf_counter() - started)

        return build(rows, timed)

    monkeypatch.setattr(engine, "_build_snapshot", watching)
    await episodes.upsert_many([make_episode(200, title="Quantum annealing")], seen_at=LATER)
    with search._answering():  # a search under way: the rebuild waits (at most STEP_ASIDE_MAX)
        rebuild = asyncio.create_task(search.autocomplete("quantum"))
        await asyncio.sleep(0.3)
    assert [hit.episode.guid for hit in await rebuild] == ["guid-200"]
    assert waited
    assert max(waited) >= engine.STEP_ASIDE_MAX * 0.9
