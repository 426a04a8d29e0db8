"""The in-memory inverted index on its own: phrases against a count made word by word."""

from __future__ import annotations

import itertools

from bot.search.index import build_index, words_of

EPISODES = 2500  # "of" ten times in each: enough that a phrase reads it only where "quantum" is


def _documents() -> list[tuple[str, str, str]]:
    documents = []
    for position in range(EPISODES):
        title = "quantum of solace" if position == 7 else f"episode {position}"
        notes = ["one", "of", "many"] * 10
        if position % 97 == 0:
            notes += ["a", "quantum", "of", "data", "and", "a", "quantum", "leap", "of", "faith"]
        elif position % 89 == 0:
            notes += ["the", "quantum", "offer"]
        documents.append((title, "", " ".join(notes)))
    return documents


def _counted(
    documents: list[tuple[str, str, str]], first: str, then: tuple[str, ...]
) -> dict[int, tuple[int, int]]:
    """Position -> (in the title, in the notes): where `first` stands right before a word of `then`."""
    found = {}
    for position, (title, _, notes) in enumerate(documents):
        counts = tuple(
            sum(1 for a, b in itertools.pairwise(words) if a == first and b in then)
            for words in (words_of(title), words_of(notes))
        )
        if any(counts):
            found[position] = counts
    return found


def test_a_rare_word_next_to_one_found_everywhere_matches_where_they_stand_together() -> None:
    documents = _documents()
    index = build_index(documents)
    for then, parts in (
        (("of",), [index.term("quantum"), index.term("of")]),
        (("of", "offer"), [index.term("quantum"), index.prefixed("of")]),
    ):
        match = index.phrase(parts)
        found = {int(doc): (int(title), int(notes)) for doc, title, notes in zip(*match, strict=True)}
        assert found == _counted(documents, "quantum", then)
    assert found[7] == (1, 0)  # the title's
    assert found[0] == (0, 1)  # "a quantum leap of faith": not a phrase
