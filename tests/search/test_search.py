"""EpisodeSearch.search over the fixture podcast's 93 episodes in a real database."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from bot.db import EpisodeRepository
from bot.models import StoredEpisode
from bot.search import EpisodeSearch
from tests.conftest import make_episode

LATER = datetime(2026, 2, 1, tzinfo=UTC)


async def guids(search: EpisodeSearch, query: str, **options: object) -> list[str]:
    return [hit.episode.guid for hit in await search.search(query, **options)]  # type: ignore[arg-type]


async def test_an_episode_number_goes_straight_to_that_episode(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    for query in ("59", "ep 59", "episode 59", "#59", "Ep. 59"):
        assert await guids(search, query) == ["dsh-ep-059"]


async def test_a_number_shared_by_two_parts_finds_both(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    assert await guids(search, "episode 38") == ["dsh-ep-038-part-1", "dsh-ep-038-part-2"]


async def test_a_number_no_episode_has_is_searched_as_text(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    assert (await guids(search, "2017"))[0] == "dsh-ep-016"  # "2017 Predictions in Data Science"
    assert await guids(search, "episode 5000") == []


async def test_a_rebroadcast_is_folded_into_its_original(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    hits = await search.search("replicating gpt-2 gokaslan")
    assert hits[0].episode.guid == "dsh-ep-078"
    assert [episode.guid for episode in hits[0].rebroadcasts] == ["dsh-ep-083"]
    assert "dsh-ep-083" not in [hit.episode.guid for hit in hits]


async def test_rebroadcasts_are_shown_after_their_original_when_asked_for(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    found = await guids(search, "replicating gpt-2 gokaslan", include_rebroadcasts=True)
    assert found[:2] == ["dsh-ep-078", "dsh-ep-083"]
    assert found.count("dsh-ep-083") == 1


async def test_a_rebroadcast_with_the_same_notes_under_another_title_is_folded(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    # "Are you ready for AI winter? [Rebroadcast]" repeats "Get ready for AI winter" word for word.
    hits = await search.search("are you ready for ai winter")
    assert hits[0].episode.guid == "dsh-ep-034"
    assert [episode.guid for episode in hits[0].rebroadcasts] == ["dsh-ep-047"]
    assert "dsh-ep-047" not in [hit.episode.guid for hit in hits]


async def test_a_rebroadcast_without_an_original_is_still_shown(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    assert (await guids(search, "scale ai in your organisation"))[0] == "dsh-ep-079"
    assert (await guids(search, "become data scientist"))[:2] == ["dsh-ep-025", "dsh-ep-006"]


async def test_a_number_query_for_a_rebroadcast_shows_that_rebroadcast(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    assert await guids(search, "ep 83") == ["dsh-ep-083"]
    # Number 84 is an original and its rebroadcast: shown once unless rebroadcasts are asked for.
    hits = await search.search("ep 84")
    assert [hit.episode.guid for hit in hits] == ["dsh-ep-084"]
    assert [episode.guid for episode in hits[0].rebroadcasts] == ["dsh-ep-084-rb"]
    assert await guids(search, "ep 84", include_rebroadcasts=True) == ["dsh-ep-084", "dsh-ep-084-rb"]


async def test_titles_and_guests_weigh_more_than_the_notes(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    # "Charles Martin" is in the notes of episode 31 ("St. Martin's Press") too.
    assert (await guids(search, "martin"))[0] == "dsh-ep-070"
    assert set((await guids(search, "optimisation"))[:2]) == {"dsh-ep-020", "dsh-ep-021"}


async def test_a_name_typed_without_its_accents_is_found(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    assert (await guids(search, "jastrzebski"))[0] == "dsh-ep-087"
    assert (await guids(search, "stanislaw"))[0] == "dsh-ep-087"
    assert (await guids(search, "piekniewski"))[0] == "dsh-ep-034"


async def test_british_and_american_spellings_find_each_other(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    assert (await guids(search, "parallelizing"))[0] == "dsh-ep-022"  # the title says "Parallelising"
    assert (await guids(search, "organization scale ai"))[0] == "dsh-ep-079"


async def test_a_misspelled_word_still_finds_its_episode(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    assert (await guids(search, "adverserial"))[0] in {"dsh-ep-059", "dsh-ep-080", "dsh-ep-088"}
    assert (await guids(search, "transfomers"))[0] == "dsh-ep-084"
    assert (await guids(search, "gokaslen"))[0] == "dsh-ep-078"


async def test_a_word_the_stemmer_knows_is_not_treated_as_a_typo(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    # "replication" is in no episode, but stems like "Replicating" do.
    assert (await guids(search, "replication"))[0] == "dsh-ep-078"


async def test_the_stemmer_keeps_apart_words_of_different_meaning(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    # The original Porter algorithm stems "generalization" and "generate" alike ("gener").
    found = await guids(search, "generalization", limit=20)
    assert "dsh-ep-045" in found  # why models fail: generalization
    assert "dsh-ep-076" not in found  # how to generate very large images


async def test_a_word_found_nowhere_does_not_hide_the_others(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    assert (await guids(search, "qwzxv transformers"))[0] == "dsh-ep-084"
    assert await guids(search, "qwzxv") == []


async def test_every_match_is_ranked_however_many_and_however_old(episodes: EpisodeRepository) -> None:
    catalogue = [
        make_episode(n, title=f"Episode {n}", description="On graphs, briefly.") for n in range(2, 2002)
    ]
    catalogue.append(make_episode(1, title="Episode 1", description="Graphs, graphs, graphs."))
    await episodes.upsert_many(catalogue, seen_at=LATER)
    hits = await EpisodeSearch(episodes).search("graphs", limit=3)
    assert [hit.episode.number for hit in hits][:1] == [1]


async def test_results_never_exceed_the_limit(search: EpisodeSearch, catalogue: list[StoredEpisode]) -> None:
    for limit in (1, 3, 10, 50):
        assert len(await search.search("learning", limit=limit)) == limit
    assert await search.search("learning", limit=0) == []


async def test_a_query_without_words_finds_nothing(
    search: EpisodeSearch, catalogue: list[StoredEpisode]
) -> None:
    for query in ("", "   ", "?!", '"" *', "()"):
        assert await search.search(query) == []


async def test_an_empty_catalogue_finds_nothing(search: EpisodeSearch) -> None:
    assert await search.search("anything") == []
    assert await search.search("59") == []


async def test_new_and_edited_episodes_are_found_at_once(
    search: EpisodeSearch, episodes: EpisodeRepository, catalogue: list[StoredEpisode]
) -> None:
    assert await guids(search, "quantum annealing") == []
    await episodes.upsert_many(
        [make_episode(200, title="Episode 200: Quantum annealing with Ada Lovelace")], seen_at=LATER
    )
    hits = await search.search("quantum annealing")
    assert [hit.episode.guid for hit in hits] == ["guid-200"]
    assert (await guids(search, "ada lovelace"))[0] == "guid-200"
    await episodes.upsert_many(
        [make_episode(200, title="Episode 200: Topological data analysis")], seen_at=LATER
    )
    assert await guids(search, "quantum annealing") == []
    assert await guids(search, "topological") == ["guid-200"]


class RolledBack(Exception):
    pass


async def test_rows_of_a_transaction_rolled_back_are_not_remembered(
    search: EpisodeSearch, episodes: EpisodeRepository, catalogue: list[StoredEpisode]
) -> None:
    with contextlib.suppress(RolledBack):
        async with episodes.database.transaction() as connection:
            await connection.execute(
                "INSERT INTO episodes (guid, title, first_seen_at, updated_at) VALUES (?, ?, ?, ?)",
                ("phantom", "Quantum annealing", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
            )
            # Searching meanwhile (the bot shares one connection) sees the uncommitted row.
            assert [entry.title for entry in await search.autocomplete("quantum")] == ["Quantum annealing"]
            raise RolledBack
    # The next committed episode takes the same row id and generation number the phantom had.
    await episodes.upsert_many([make_episode(300, title="Episode 300: Graph databases again")], seen_at=LATER)
    assert await search.autocomplete("quantum") == []
    assert (await guids(search, "graph databases again"))[0] == "guid-300"
