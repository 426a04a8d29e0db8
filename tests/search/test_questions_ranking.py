"""How a question (three terms or more) is ranked, on small catalogues made for each case."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.db import EpisodeRepository
from bot.search import EpisodeSearch
from tests.conftest import make_episode

SEEN = datetime(2026, 1, 1, tzinfo=UTC)
FILLER = "Notes about models, data and the people who build them. " * 2


async def first(search: EpisodeSearch, query: str) -> str:
    return (await search.search(query, limit=3))[0].episode.guid


async def test_a_rare_spelling_of_a_common_word_does_not_outweigh_a_rare_word(
    episodes: EpisodeRepository,
) -> None:
    catalogue = [make_episode(n, title=f"Deep learning, part {n}", description=FILLER) for n in range(1, 13)]
    catalogue += [make_episode(n, description=FILLER) for n in range(30, 50)]
    catalogue.append(make_episode(20, title="Deeplearning made easy", description="Predictions explained."))
    catalogue.append(make_episode(21, title="Estimating uncertainty", description="Predictions explained."))
    catalogue.append(make_episode(22, description=FILLER + "Uncertainty, briefly."))
    await episodes.upsert_many(catalogue, seen_at=SEEN)
    # As phrases "deeplearning" (one episode) is rarer than "uncertainty" (two), but the term
    # "deep learning" is in thirteen.
    assert await first(EpisodeSearch(episodes), "uncertainty in deep learning predictions") == "guid-21"


async def test_long_notes_that_hold_every_word_do_not_win_a_question(episodes: EpisodeRepository) -> None:
    rambling = "Predictions, errors, bars and charts. " + "A long digression on many things. " * 300
    catalogue = [make_episode(n, description=FILLER) for n in range(1, 10)]
    catalogue.append(make_episode(20, title="Everything at once", description=rambling))
    catalogue.append(make_episode(21, title="Estimating uncertainty", description=FILLER))
    await episodes.upsert_many(catalogue, seen_at=SEEN)
    assert await first(EpisodeSearch(episodes), "why do predictions need error bars") == "guid-21"


async def test_every_word_of_a_question_in_a_title_comes_first(episodes: EpisodeRepository) -> None:
    catalogue = [make_episode(n, description=FILLER) for n in range(1, 10)]
    catalogue.append(make_episode(20, title="Stock market chaos explained", description=FILLER))
    catalogue.append(
        make_episode(21, title="Markets", description="Chaos, chaos and the stock market, chaos again.")
    )
    await episodes.upsert_many(catalogue, seen_at=SEEN)
    assert await first(EpisodeSearch(episodes), "chaos in the stock market") == "guid-20"


async def test_an_everyday_word_in_a_title_does_not_outweigh_the_fields_words(
    episodes: EpisodeRepository,
) -> None:
    # "made" is as rare in this catalogue as "pruning", but it says little about the topic.
    catalogue = [make_episode(n, description=FILLER) for n in range(1, 30)]
    catalogue.append(make_episode(40, title="Made in Italy", description=FILLER))
    catalogue.append(make_episode(41, title="Sparse models", description="Pruning a network, step by step."))
    catalogue += [make_episode(n, description=FILLER + "A network.") for n in range(50, 55)]
    await episodes.upsert_many(catalogue, seen_at=SEEN)
    assert await first(EpisodeSearch(episodes), "how is a network pruning made") == "guid-41"


async def test_a_name_of_the_field_nowhere_as_a_phrase_is_searched_word_by_word(
    episodes: EpisodeRepository,
) -> None:
    catalogue = [make_episode(n, description=FILLER) for n in range(1, 10)]
    catalogue.append(make_episode(20, title="Optimisation notes", description="Where the minima are."))
    catalogue.append(make_episode(21, title="Sharp tools", description=FILLER))
    await episodes.upsert_many(catalogue, seen_at=SEEN)
    # "sharp minima" is a name of the field (vocabulary.json); no episode says it.
    hits = await EpisodeSearch(episodes).search("sharp minima")
    assert {hit.episode.guid for hit in hits} == {"guid-20", "guid-21"}


async def test_a_word_the_stemmer_keeps_apart_finds_its_family(episodes: EpisodeRepository) -> None:
    catalogue = [make_episode(n, description=FILLER) for n in range(1, 10)]
    catalogue.append(make_episode(20, title="Fooling cameras", description="Object detection, fooled."))
    await episodes.upsert_many(catalogue, seen_at=SEEN)
    # The stemmer keeps "detector" and "detection" apart ("detector", "detect").
    assert await first(EpisodeSearch(episodes), "detector") == "guid-20"


async def test_a_rare_word_with_no_close_spelling_finds_its_family(episodes: EpisodeRepository) -> None:
    catalogue = [make_episode(n, description=FILLER) for n in range(1, 10)]
    catalogue.append(make_episode(20, title="Payments at scale", description="Fraud detection, explained."))
    await episodes.upsert_many(catalogue, seen_at=SEEN)
    # "fraudsters" is neither in the catalogue nor a common English word, and no word is spelled
    # like it: its family is.
    assert await first(EpisodeSearch(episodes), "catching fraudsters") == "guid-20"
