"""EpisodeSearch.autocomplete: titles as a listener types them."""

from __future__ import annotations

import pytest

from bot.db.search_index import SearchIndex
from bot.models import StoredEpisode
from bot.search import EpisodeSearch


async def titles(search: EpisodeSearch, prefix: str, **options: object) -> list[str]:
    return [entry.title for entry in await search.autocomplete(prefix, **options)]  # type: ignore[arg-type]


async def test_nothing_typed_shows_the_latest_episodes_without_rebroadcasts(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    guid_of = {episode.id: episode.guid for episode in catalogue}
    suggested = await search.autocomplete("", limit=5)
    assert [guid_of[entry.id] for entry in suggested] == [
        "dsh-ep-090",
        "dsh-ep-089",
        "dsh-ep-088",
        "dsh-ep-087",
        "dsh-ep-086",
    ]
    # The newest item is a rebroadcast of 84 (folded); with rebroadcasts it comes back.
    everything = await search.autocomplete("", limit=3, include_rebroadcasts=True)
    assert [guid_of[entry.id] for entry in everything] == ["dsh-ep-090", "dsh-ep-089", "dsh-ep-084-rb"]


async def test_titles_starting_with_the_text_come_first(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    found = await titles(search, "how to gen")
    assert found[0] == "How to generate very large images with GANs (Ep. 76)"
    assert all("how" in title.lower() for title in found)


async def test_every_typed_word_matches_the_start_of_a_title_word(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    assert await titles(search, "neur infin") == ["Episode 57: Neural networks with infinite layers"]
    assert await titles(search, "GPT gok") == [
        "Replicating GPT-2, the most dangerous NLP model (with Aaron Gokaslan) (Ep. 78)"
    ]


async def test_accents_spelling_and_a_typo_do_not_stop_a_match(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    assert (await titles(search, "jastrzebs"))[0].endswith("(with Stanisław Jastrzębski) (Ep. 87)")
    assert (await titles(search, "stanislaw"))[0].endswith("(with Stanisław Jastrzębski) (Ep. 87)")
    assert await titles(search, "optimization strat") == [
        "Episode 21: Additional optimisation strategies for deep learning"
    ]
    assert await titles(search, "markow clus") == [
        "How to cluster tabular data with Markov Clustering (Ep. 73)"
    ]


async def test_an_episode_number_comes_first(search: EpisodeSearch, catalogue: list[StoredEpisode]) -> None:
    assert (await titles(search, "59"))[0] == "Episode 59: How to fool a smart camera with deep learning"
    assert (await titles(search, "ep 7"))[0] == "Episode 7: 30 min with data scientist Sebastian Raschka"


async def test_limit_and_nonsense(search: EpisodeSearch, catalogue: list[StoredEpisode]) -> None:
    assert len(await search.autocomplete("e", limit=25)) == 25
    assert len(await search.autocomplete("e", limit=2)) == 2
    assert await search.autocomplete("e", limit=0) == []
    assert await search.autocomplete("qwzxvqwzxv") == []
    assert await search.autocomplete('"*()') != []  # no word typed: the latest episodes


async def test_a_rebroadcast_typed_suggests_its_original_once(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    # "Videoflow" is in the titles of Ep. 69 and of its rebroadcast, Ep. 75: one suggestion, the original's.
    assert await titles(search, "videoflow") == ["Complex video analysis made easy with Videoflow (Ep. 69)"]
    assert await titles(search, "videoflow", include_rebroadcasts=True) == [
        "[RB] Complex video analysis made easy with Videoflow (Ep. 75)",
        "Complex video analysis made easy with Videoflow (Ep. 69)",
    ]


async def test_suggestions_come_from_memory_without_a_round_trip_to_sqlite(
    search: EpisodeSearch, catalogue: list[StoredEpisode], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every keystroke asks: fetching the 25 suggestions' rows cost more than finding them.
    await search.autocomplete("warm")  # the view built
    fetched: list[object] = []

    async def fetching(self: SearchIndex, ids: object) -> dict[int, StoredEpisode]:
        fetched.append(ids)
        return {}

    monkeypatch.setattr(SearchIndex, "episodes", fetching)
    suggested = await search.autocomplete("markov clus")
    assert fetched == []
    markov = "How to cluster tabular data with Markov Clustering (Ep. 73)"
    assert [entry.title for entry in suggested] == [markov]
