"""Near-duplicate detection: which texts are the same suggestion, and which episodes already cover one."""

from __future__ import annotations

import pytest

from bot.clock import utc_now
from bot.community.suggestions import DUPLICATE_SCORE, episode_match, normalise, similarity
from bot.models import StoredEpisode
from tests.conftest import make_episode


def stored(title: str, number: int = 1) -> StoredEpisode:
    episode = make_episode(number, title=title)
    values = {name: getattr(episode, name) for name in episode.__dataclass_fields__}
    return StoredEpisode(**values, id=number, first_seen=utc_now())


def test_normalise_keeps_the_words_that_say_what_is_meant() -> None:
    assert normalise("An episode about Gödel, Escher & BACH, please!") == "godel escher bach"
    assert normalise("Interview with Yann LeCun") == "yann lecun"
    assert normalise("the of and") == "the of and"  # nothing but filler: kept rather than emptied


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Interview with Yann LeCun", "yann lecunn interview please!"),
        ("Graph neural networks", "graph neural network"),
        ("Quantum machine learning", "Machine learning, quantum"),
        ("Causal inference for marketing", "causal inference in marketing teams"),
        ("How to fool a smart camera", "how to fool a smart camera with deep learning"),
    ],
)
def test_the_same_suggestion_in_other_words_is_a_duplicate(first: str, second: str) -> None:
    assert similarity(normalise(first), normalise(second)) >= DUPLICATE_SCORE


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("AI ethics", "AI in healthcare"),
        ("Reinforcement learning", "Transfer learning"),
        ("Deep learning", "History and applications of deep learning"),  # one shared phrase is not enough
        ("Deep learning", "Beyond deep learning"),  # two words name a field, not a subject
        ("Privacy", "The end of privacy"),
        ("Causal inference", "Causal discovery"),
    ],
)
def test_different_suggestions_sharing_words_are_not_duplicates(first: str, second: str) -> None:
    assert similarity(normalise(first), normalise(second)) < DUPLICATE_SCORE


def test_an_episode_matches_a_suggestion_of_its_guest() -> None:
    episode = stored("Deeplearning is easier when it is illustrated (with Jon Krohn) (Ep. 86)", 86)
    match = episode_match(normalise("Invite Jon Krohn"), episode)
    assert match is not None
    assert match.guest == "Jon Krohn"


def test_an_episode_matches_its_title_with_or_without_guests_and_numbers() -> None:
    episode = stored("Episode 62: AI and the future of banking with Chris Skinner [RB]", 62)
    match = episode_match(normalise("The future of banking with AI"), episode)
    assert match is not None
    assert match.guest is None
    assert episode_match(normalise("The future of farming"), episode) is None
