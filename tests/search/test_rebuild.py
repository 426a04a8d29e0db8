"""The engine's in-memory view: new episodes indexed apart; rebuilt off the event loop after an edit
and swapped in whole.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.db import EpisodeRepository
from bot.db.search_index import CatalogueRows
from bot.models import StoredEpisode
from bot.search import EpisodeSearch, engine, index, steps, view
from tests.conftest import make_episode

LATER = datetime(2026, 2, 1, tzinfo=UTC)


async def suggested_guids(search: EpisodeSearch, episodes: EpisodeRepository, text: str) -> list[str]:
    suggested = await episodes.by_ids([entry.id for entry in await search.autocomplete(text)])
    return [episode.guid for episode in suggested]


async def retitle(episodes: EpisodeRepository, guid: str, title: str) -> None:
    async with episodes.database.transaction() as connection:
        await connection.execute("UPDATE episodes SET title = ? WHERE guid = ?", (title, guid))


def count_builds(monkeypatch: pytest.MonkeyPatch, *, seconds: float = 0.0) -> list[str]:
    """The threads each later build of the view runs in; each build takes `seconds` longer."""
    built_in: list[str] = []
    build = view.build_snapshot

    def recording(rows: CatalogueRows, step_aside: Callable[[], object]) -> view.Snapshot:
        built_in.append(threading.current_thread().name)
        time.sleep(seconds)
        return build(rows, step_aside)

    monkeypatch.setattr(view, "build_snapshot", recording)
    return built_in


async def test_the_view_is_built_in_a_worker_thread_and_swapped_in(
    search: EpisodeSearch,
    episodes: EpisodeRepository,
    catalogue: list[StoredEpisode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built_in = count_builds(monkeypatch)
    await search.search("gan")
    await retitle(episodes, "dsh-ep-073", "Quantum annealing")
    await search.ready()
    assert await suggested_guids(search, episodes, "quantum ann") == ["dsh-ep-073"]
    assert len(built_in) == 2
    assert threading.main_thread().name not in built_in
    await search.search("gan")  # nothing changed since: no rebuild
    assert len(built_in) == 2


async def test_the_fields_names_of_several_words_are_matched_while_the_view_is_built(
    search: EpisodeSearch, catalogue: list[StoredEpisode], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the words of "deep learning" or "generative adversarial network" stand next to each
    # other costs up to 3 ms at 10,000 episodes: worked out in the build's thread, not by a search.
    matched_in: list[str] = []
    match = index.InvertedIndex._phrase

    def recording(self: index.InvertedIndex, parts: tuple[index.Terms, ...]) -> index.Match:
        if len(parts) > 1:
            matched_in.append(threading.current_thread().name)
        return match(self, parts)

    monkeypatch.setattr(index.InvertedIndex, "_phrase", recording)
    await search.ready()
    assert matched_in
    matched_in.clear()
    hits = await search.search("an introduction to generative adversarial networks and deep learning")
    assert hits
    assert matched_in == []


async def test_a_new_episode_is_indexed_apart_at_once_and_nothing_is_rebuilt(
    search: EpisodeSearch,
    episodes: EpisodeRepository,
    catalogue: list[StoredEpisode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert await suggested_guids(search, episodes, "quantum") == []
    built_in = count_builds(monkeypatch)
    await episodes.upsert_many([make_episode(200, title="Quantum annealing")], seen_at=LATER)
    assert [hit.episode.guid for hit in await search.search("quantum annealing")] == ["guid-200"]
    assert await suggested_guids(search, episodes, "quantum") == ["guid-200"]
    assert (await search.search("markov clustering"))[0].episode.guid == "dsh-ep-073"  # and the rest
    await search.ready()
    assert built_in == []


async def test_many_new_episodes_are_folded_into_a_rebuilt_view(
    search: EpisodeSearch,
    episodes: EpisodeRepository,
    catalogue: list[StoredEpisode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await search.search("gan")
    built_in = count_builds(monkeypatch)
    monkeypatch.setattr(engine, "RECENT_MOST", 2)
    await episodes.upsert_many(
        [make_episode(200 + n, title=f"Quantum annealing {n}") for n in range(3)], seen_at=LATER
    )
    assert len(await search.search("quantum annealing")) == 3
    await search.ready()
    assert len(built_in) == 1
    assert search._recent is None


async def test_a_new_rebroadcast_is_found_at_once_during_the_rebuild_that_folds_it(
    episodes: EpisodeRepository, catalogue: list[StoredEpisode], monkeypatch: pytest.MonkeyPatch
) -> None:
    search = EpisodeSearch(episodes)
    assert await suggested_guids(search, episodes, "quantum") == []
    count_builds(monkeypatch, seconds=0.7)
    await episodes.upsert_many(
        [make_episode(200, title="Quantum annealing (Rebroadcast)", rebroadcast=True)], seen_at=LATER
    )
    started = time.perf_counter()
    # The episodes stored since the view was read are indexed apart: found before the rebuild ends.
    assert [hit.episode.guid for hit in await search.search("quantum annealing")] == ["guid-200"]
    assert await suggested_guids(search, episodes, "quantum") == ["guid-200"]
    assert (await search.search("markov clustering"))[0].episode.guid == "dsh-ep-073"  # and the rest
    assert time.perf_counter() - started < 0.3
    await asyncio.sleep(0.8)
    assert search._snapshot is not None
    assert search._recent is None
    assert await suggested_guids(search, episodes, "quantum") == ["guid-200"]


async def test_an_edit_during_a_slow_rebuild_waits_a_little_then_answers_from_the_previous_view(
    episodes: EpisodeRepository, catalogue: list[StoredEpisode], monkeypatch: pytest.MonkeyPatch
) -> None:
    search = EpisodeSearch(episodes, fresh_wait=0.05)
    assert (await search.search("markov clustering"))[0].episode.guid == "dsh-ep-073"
    count_builds(monkeypatch, seconds=0.5)
    await retitle(episodes, "dsh-ep-073", "Quantum annealing")
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
    built_in = count_builds(monkeypatch)
    results = await asyncio.gather(*(search.search("markov clustering") for _ in range(5)))
    assert len(built_in) == 1
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
    await retitle(episodes, "dsh-ep-073", "Quantum annealing")
    with search._answering():  # a search under way: the rebuild waits (at most STEP_ASIDE_MAX)
        rebuild = asyncio.create_task(search.autocomplete("quantum"))
        await asyncio.sleep(0.3)
    assert [entry.title for entry in await rebuild] == ["Quantum annealing"]
    assert waited
    assert max(waited) >= engine.STEP_ASIDE_MAX * 0.9


async def test_a_retired_view_is_freed_once_the_searches_under_way_are_done(
    search: EpisodeSearch,
    episodes: EpisodeRepository,
    catalogue: list[StoredEpisode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Freeing a view takes tens of ms at 50,000 episodes, and whoever drops the last reference pays:
    the release waits for the searches under way, which may still rank with the old view, so that
    the loop does not."""
    await search.search("gan")
    released_after: list[int] = []
    release = steps.release_in_steps
    retired = threading.Event()

    def recording(objects: list[object], settle: Callable[[], object]) -> None:
        retired.set()
        settle()
        released_after.append(answers_done)
        release(objects)

    monkeypatch.setattr(steps, "release_in_steps", recording)
    answers_done = 0
    await retitle(episodes, "dsh-ep-073", "Quantum annealing")
    with search._answering():  # a search under way, ranking with the old view
        ready = asyncio.create_task(search.ready())  # the view is rebuilt and swapped meanwhile
        assert await asyncio.to_thread(retired.wait, 10)
        await asyncio.sleep(0.1)
        answers_done = 1
    await ready
    assert released_after == [1]
    assert await suggested_guids(search, episodes, "quantum") == ["dsh-ep-073"]


async def test_a_failed_rebuild_leaves_the_previous_view_answering_and_is_retried_later(
    search: EpisodeSearch,
    episodes: EpisodeRepository,
    catalogue: list[StoredEpisode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert (await search.search("markov clustering"))[0].episode.guid == "dsh-ep-073"
    build = view.build_snapshot
    attempts: list[int] = []

    def out_of_memory(rows: CatalogueRows, step_aside: Callable[[], object]) -> view.Snapshot:
        attempts.append(rows.generation)
        raise MemoryError

    monkeypatch.setattr(view, "build_snapshot", out_of_memory)
    await retitle(episodes, "dsh-ep-073", "Quantum annealing")
    for _ in range(3):  # the previous view answers; one attempt, not one per search
        assert (await search.search("markov clustering"))[0].episode.guid == "dsh-ep-073"
    assert len(attempts) == 1
    monkeypatch.setattr(view, "build_snapshot", build)
    monkeypatch.setattr(engine, "REBUILD_RETRY", 0.0)
    assert [hit.episode.guid for hit in await search.search("quantum annealing")] == ["dsh-ep-073"]


async def test_a_rebuild_puts_back_the_collector_and_the_switch_interval(
    search: EpisodeSearch,
    episodes: EpisodeRepository,
    catalogue: list[StoredEpisode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    usual = sys.getswitchinterval()
    during: list[tuple[bool, float]] = []
    build = view.build_snapshot

    def watching(rows: CatalogueRows, step_aside: Callable[[], object]) -> view.Snapshot:
        during.append((gc.isenabled(), sys.getswitchinterval()))
        return build(rows, step_aside)

    monkeypatch.setattr(view, "build_snapshot", watching)
    await asyncio.gather(search.search("gan"), EpisodeSearch(episodes).search("gan"))
    assert during == [(False, steps.SWITCH_INTERVAL)] * 2  # two builds overlapping or not
    assert gc.isenabled()
    assert sys.getswitchinterval() == usual


def test_a_big_list_or_dict_is_taken_apart_a_slice_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Listing all of a 90,000-word vocabulary's entries at once held the GIL (and the loop) 32 ms.
    class Word:
        pass

    words = [Word() for _ in range(5 * steps.RELEASED_AT_ONCE)]
    alive = [weakref.ref(word) for word in words]
    counts = dict.fromkeys(Word() for _ in range(3 * steps.RELEASED_AT_ONCE))
    alive += [weakref.ref(word) for word in counts]

    class Numbering(dict[Word, int]):  # the index's word numbering is a dict of its own kind
        pass

    numbered = Numbering((Word(), number) for number in range(3 * steps.RELEASED_AT_ONCE))
    alive += [weakref.ref(word) for word in numbered]
    listed: list[int] = []
    referents = gc.get_referents

    def recording(*objects: object) -> list[object]:
        found = referents(*objects)
        listed.append(len(found))
        return found

    monkeypatch.setattr(steps.gc, "get_referents", recording)
    retired: list[object] = [words, counts, numbered]
    del words, counts, numbered
    steps.release_in_steps(retired)
    assert all(word() is None for word in alive)
    assert max(listed) <= steps.RELEASED_AT_ONCE + 1  # the last slice, and the class of a subclass's instance


@pytest.mark.parametrize("text", ["", "word", "two words", " ".join(f"w{n}" for n in range(3000))])
def test_a_long_text_is_split_a_piece_at_a_time_into_the_same_words(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The vocabulary comes as one string of words per letter: 52,000 of them held the GIL 4 ms a split.
    monkeypatch.setattr(steps, "SPLIT_AT_ONCE", 100)  # 3,000 words: about 150 pieces, each cut at a space
    assert list(steps.split_in_steps(text)) == text.split()
