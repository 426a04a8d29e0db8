"""Ranking a query's terms over in-memory indexes: coverage bands by the terms' rarity, bm25 inside
a band, every term in a title or the guests first; questions by bm25 with one rarity per term.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.search.index import EMPTY, Floats, Ints, InvertedIndex, Match, Terms, summed
from bot.search.query import Phrase, Term

K1, B = 1.2, 0.75  # bm25's usual constants, as SQLite FTS5 uses them
TITLE_WEIGHT = 10.0  # a word in the title or the guests counts ten times one in the notes
COVERAGE_BANDS = (1.0, 0.75, 0.5, 0.25, 0.0)
RELATED_BELOW = 0.125  # half a band: related names rank under the words typed, over less coverage
TITLE_BONUS = 0.1  # every term in the title or the guests: above every band
WITHIN_BAND = 0.1  # bm25 adds at most this inside a band
QUESTION_BAND = 0.5
_BANDS_ASCENDING = np.array(sorted(COVERAGE_BANDS))


@dataclass(frozen=True, slots=True)
class Found:
    """Where one term occurs, index by index: as typed, and by the field's other names for it."""

    typed: tuple[Match, ...]
    related: tuple[Match, ...]
    documents: int  # episodes with either, in every index
    typed_documents: int  # episodes with the words typed, in every index
    related_documents: int  # episodes with the other names, in every index


def rarity(documents: int, episodes: int) -> float:
    """bm25's inverse document frequency, kept positive however common the term."""
    return math.log(1.0 + (episodes - documents + 0.5) / (documents + 0.5))


def find(term: Term, indexes: Sequence[InvertedIndex]) -> Found:
    typed = tuple(_names(index, term.alternatives, term.prefix) for index in indexes)
    related = tuple(_names(index, term.related, None) for index in indexes)
    documents = sum(
        len(_union([one.docs, other.docs], index.size))
        for index, one, other in zip(indexes, typed, related, strict=True)
    )
    return Found(
        typed, related, documents, sum(len(one.docs) for one in typed), sum(len(one.docs) for one in related)
    )


def phrase_documents(words: Phrase, indexes: Sequence[InvertedIndex]) -> int:
    """How many episodes have these words in a row, stemmed."""
    return sum(len(index.phrase([index.term(word) for word in words]).docs) for index in indexes)


def _names(index: InvertedIndex, phrases: Sequence[Phrase], prefix: Phrase | None) -> Match:
    """The episodes with any of these phrases (a prefix phrase ends in a prefix), counts summed."""
    single: list[Terms] = []
    matches: list[Match] = []
    for phrase in phrases:
        if len(phrase) == 1:
            single.append(index.term(phrase[0]))
        else:
            matches.append(index.phrase([index.term(word) for word in phrase]))
    if prefix is not None:
        parts = [*(index.term(word) for word in prefix[:-1]), index.prefixed(prefix[-1])]
        if len(parts) == 1:
            single.append(parts[0])
        else:
            matches.append(index.phrase(parts))
    # A word and a prefix (or two spellings) with the same stem count once.
    ranges = sorted({terms for terms in single if terms[1] > terms[0]})
    merged: list[Terms] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    matches.extend(index.phrase([terms]) for terms in merged)
    matches = [match for match in matches if len(match.docs)]
    if not matches:
        return EMPTY
    if len(matches) == 1:
        return matches[0]
    return summed(
        np.concatenate([match.docs for match in matches]),
        np.concatenate([match.titles for match in matches]),
        np.concatenate([match.notes for match in matches]),
        index.size,
    )


@dataclass(frozen=True, slots=True)
class Ranked:
    part: int  # which index
    position: int
    score: float


def ranked(
    found: Sequence[Found],
    indexes: Sequence[InvertedIndex],
    *,
    weights: Sequence[float] | None,
    wanted: int,
) -> list[Ranked]:
    """The best `wanted` episodes over every index, best first (ties: earlier index and position).
    With `weights` (one per term) the query is a question: bm25 with each term's rarity weighted.
    """
    episodes = sum(index.size for index in indexes)
    words = sum(index.words for index in indexes)
    if not found or not episodes:
        return []
    average_length = max(words / episodes, 1.0)
    question = weights is not None
    if weights is None:
        rarities = related_rarities = np.array([rarity(term.documents, episodes) for term in found])
    else:
        # A question ranks the words typed by their own rarity, the field's other names for them by
        # theirs: "forecast" widened by "prediction" is no commoner for it.
        rarities = np.array([rarity(term.typed_documents, episodes) for term in found]) * weights
        related_rarities = np.array([rarity(term.related_documents, episodes) for term in found]) * weights
    best: list[Ranked] = []
    for part, index in enumerate(indexes):
        typed = [term.typed[part] for term in found]
        related = [term.related[part] for term in found]
        docs, scores = _scored(
            index, typed, related, rarities, related_rarities, average_length, question=question
        )
        if len(docs) > wanted:
            top = np.argpartition(-scores, wanted)[:wanted]
            docs, scores = docs[top], scores[top]
        order = np.lexsort((docs, -scores))
        best.extend(
            Ranked(part, position, score)
            for position, score in zip(docs[order].tolist(), scores[order].tolist(), strict=True)
        )
    best.sort(key=lambda hit: (-hit.score, hit.part, hit.position))
    return best[:wanted]


def _scored(
    index: InvertedIndex,
    typed: Sequence[Match],
    related: Sequence[Match],
    rarities: Floats,
    related_rarities: Floats,
    average_length: float,
    *,
    question: bool,
) -> tuple[Ints, Floats]:
    """(positions, scores) of the episodes of one index that match any term."""
    docs = _union([match.docs for match in (*typed, *related)], index.size)
    if not len(docs):
        return docs, np.empty(0)
    counts = np.zeros((len(typed), len(docs)))
    titles = np.zeros((len(typed), len(docs)))
    # Most queries match none of the field's other names: their scores need only the words typed.
    other_names = np.zeros((len(typed), len(docs))) if any(len(other.docs) for other in related) else None
    for term, (one, other) in enumerate(zip(typed, related, strict=True)):
        if len(one.docs):
            where = np.searchsorted(docs, one.docs)
            counts[term, where] = TITLE_WEIGHT * one.titles + one.notes
            titles[term, where] = one.titles
        if other_names is not None and len(other.docs):
            where = np.searchsorted(docs, other.docs)
            other_names[term, where] = TITLE_WEIGHT * other.titles + other.notes
    saturation = K1 * (1.0 - B + B * index.lengths[docs] / average_length)
    weights = rarities[:, None]

    def saturated(frequencies: Floats) -> Floats:
        part: Floats = frequencies * (K1 + 1.0) / (frequencies + saturation)
        return part

    def bm25(frequencies: Floats) -> Floats:
        part: Floats = (weights * saturated(frequencies)).sum(axis=0)
        return part

    def squeezed(value: Floats) -> Floats:
        return WITHIN_BAND * value / (1.0 + value)

    if question:
        term_parts = weights * saturated(counts)
        if other_names is not None:
            term_parts = np.maximum(term_parts, related_rarities[:, None] * saturated(other_names))
        scores = QUESTION_BAND + squeezed(term_parts.sum(axis=0))
    else:
        # rarities @ matrix, not matrix.T @ rarities: numpy multiplies a transposed boolean matrix
        # element by element, 3-4 times slower for a sentence's thousands of episodes.
        typed_band = coverage_band(rarities @ (counts > 0), rarities)
        scores = typed_band + squeezed(bm25(counts))
        if other_names is not None:
            widened = np.maximum(counts, other_names)
            wide_band = coverage_band(rarities @ (widened > 0), rarities) - RELATED_BELOW
            scores = np.where(wide_band > typed_band, wide_band + squeezed(bm25(widened)), scores)
    in_titles = (titles > 0).all(axis=0)
    if in_titles.any():
        title_scores = 1.0 + TITLE_BONUS + squeezed(bm25(TITLE_WEIGHT * titles))
        scores = np.where(in_titles, title_scores, scores)
    return docs, scores


def coverage_band(covered: Floats, rarities: Floats) -> Floats:
    """The best band each coverage reaches (-1 for none): band b needs b of the query's weight, and
    at least its lightest term's.
    """
    total, lightest = float(rarities.sum()), float(rarities.min())
    needed = [max(threshold * total, lightest) - 1e-9 for threshold in _BANDS_ASCENDING]
    # The last threshold each coverage reaches (needs ascend with the bands); -1: before the first.
    reached = np.searchsorted(needed, covered, side="right") - 1
    band: Floats = np.where(reached >= 0, _BANDS_ASCENDING[reached], -1.0)
    return band


def _union(arrays: Sequence[Ints], size: int) -> Ints:
    """The positions in any of these (each ascending), ascending."""
    arrays = [array for array in arrays if len(array)]
    if not arrays:
        return np.empty(0, np.int64)
    if len(arrays) == 1:
        return arrays[0]
    total = sum(len(array) for array in arrays)
    if total * 8 > size:
        present = np.zeros(size, dtype=np.bool_)
        for array in arrays:
            present[array] = True
        return np.flatnonzero(present)
    merged = np.sort(np.concatenate(arrays))
    return merged[np.concatenate(([True], merged[1:] != merged[:-1]))]
