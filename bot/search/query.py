"""Reading a query: the catalogue's vocabulary, the terms a query asks for, FTS5 coverage steps."""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.search.text import CHUNK, MAX_QUERY_CHARS, STOP_WORDS, spelling_variants
from bot.text import WORD, fold, index_form

MAX_TERMS = 6  # the most selective words of a longer query; C(6, 3) = 20 conjunctions at most
COMPLETIONS_PER_PREFIX = 6
COVERAGE_BANDS = (1.0, 0.75, 0.5, 0.25, 0.0)

_LETTERS_DIGITS = re.compile(r"[^\W\d_]+|\d+")

# Each line: spellings and abbreviations that mean the same thing. Plurals are left to the stemmer.
_EQUIVALENT_PHRASES: tuple[tuple[str, ...], ...] = (
    ("ai", "artificial intelligence"),
    ("agi", "artificial general intelligence"),
    ("ml", "machine learning"),
    ("dl", "deep learning", "deeplearning"),
    ("rl", "reinforcement learning"),
    ("nlp", "natural language processing"),
    ("cv", "computer vision"),
    ("gan", "generative adversarial network"),
    ("cnn", "convolutional neural network"),
    ("rnn", "recurrent neural network"),
    ("lstm", "long short term memory"),
    ("llm", "large language model"),
    ("mcmc", "markov chain monte carlo", "markov chain montecarlo"),
    ("svm", "support vector machine"),
    ("pca", "principal component analysis"),
    ("gpu", "graphics processing unit"),
    ("gdpr", "general data protection regulation"),
    ("nn", "neural network"),
)


# --- Vocabulary: which words the catalogue uses ----------------------------------------------------


class Vocabulary:
    """The catalogue's words with their episode counts, and its stems: for completion, folding and
    typo correction without a round trip to the database.
    """

    def __init__(self, documents: Mapping[str, int], stems: Iterable[str]) -> None:
        self._documents = dict(documents)
        self._sorted = sorted(self._documents)
        self._stems = sorted(stems)
        self._by_fold: dict[str, list[str]] = {}
        # Typo candidates by (length, first letter) and (length, second letter): a misspelling
        # rarely gets both of its first two letters wrong, and comparing fewer words is faster.
        self._by_shape: dict[tuple[int, int, str], list[str]] = {}
        for term in self._sorted:
            folded = fold(term)
            if folded != term:
                self._by_fold.setdefault(folded, []).append(term)
            for index in (0, 1):
                if len(term) > index:
                    self._by_shape.setdefault((len(term), index, term[index]), []).append(term)
        self._corrections: dict[str, list[str]] = {}

    def documents(self, word: str) -> int:
        """How many episodes use this word (as the unstemmed index stores it)."""
        return self._documents.get(word, 0)

    def same_word(self, word: str) -> list[str]:
        """Indexed words that fold to the same letters: "stanislaw" -> ["stanisław"]."""
        return self._by_fold.get(fold(word), [])

    def completions(self, prefix: str, limit: int) -> list[str]:
        """The most used words starting with `prefix` (the prefix itself excluded)."""
        start = bisect.bisect_left(self._sorted, prefix)
        end = bisect.bisect_left(self._sorted, prefix + "\U0010ffff")
        candidates = (term for term in itertools.islice(self._sorted, start, end) if term != prefix)
        return heapq.nlargest(limit, candidates, key=self.documents)

    def stem_starts_with(self, prefix: str) -> bool:
        """Whether some stem in the full-text index starts with `prefix`, so `prefix*` matches."""
        start = bisect.bisect_left(self._stems, prefix)
        return start < len(self._stems) and self._stems[start].startswith(prefix)

    def corrections(self, word: str) -> list[str]:
        """The closest words by edit distance (a transposition counts as one), most used first."""
        if word not in self._corrections:
            if len(self._corrections) > 4096:
                self._corrections.clear()
            self._corrections[word] = self._closest(word)
        return self._corrections[word]

    def _closest(self, word: str) -> list[str]:
        allowed = 1 if len(word) <= 5 else 2 if len(word) <= 9 else 3
        found: dict[str, float] = {}
        for length in range(len(word) - allowed, len(word) + allowed + 1):
            for index in (0, 1):
                choices = self._by_shape.get((length, index, word[index]), ())
                for term, distance, _ in process.extract(
                    word, choices, scorer=OSA.distance, score_cutoff=allowed, limit=None
                ):
                    found[term] = distance
        if not found:
            return []
        best = min(found.values())
        closest = [term for term, distance in found.items() if distance == best]
        return sorted(closest, key=self.documents, reverse=True)[:3]


# --- Query model -----------------------------------------------------------------------------------

Phrase = tuple[str, ...]
Stemmed = Mapping[str, int] | None  # see parse_query


@dataclass(frozen=True, slots=True)
class Term:
    """One thing the query asks for: any of its alternative phrases, or words starting with `prefix`."""

    source: str  # what was typed
    alternatives: tuple[Phrase, ...]
    prefix: Phrase | None = None
    documents: int = 0  # how many episodes match it (estimated from the vocabulary, then counted)

    def fts(self) -> str:
        parts = [fts_phrase(phrase) for phrase in self.alternatives]
        if self.prefix is not None:
            parts.append(fts_phrase(self.prefix) + " *")
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def fts_phrase(phrase: Phrase) -> str:
    # Inside double quotes FTS5 syntax (AND, NEAR, *, ^, :, parentheses) is plain text.
    return '"' + " ".join(phrase).replace('"', '""') + '"'


def _equivalents_index() -> dict[str, list[tuple[Phrase, tuple[Phrase, ...]]]]:
    index: dict[str, list[tuple[Phrase, tuple[Phrase, ...]]]] = {}
    for spellings in _EQUIVALENT_PHRASES:
        phrases = tuple(tuple(spelling.split()) for spelling in spellings)
        for phrase in phrases:
            index.setdefault(phrase[0], []).append((phrase, phrases))
    for candidates in index.values():
        candidates.sort(key=lambda candidate: -len(candidate[0]))  # longest match first
    return index


_EQUIVALENTS = _equivalents_index()


def parse_query(query: str, vocabulary: Vocabulary, stemmed: Stemmed = None) -> list[Term]:
    """The terms of a free-text query, at most MAX_TERMS, stop words dropped unless nothing else is left.

    The last word, when the query ends in it, also matches as a prefix: listeners search as they type.
    `stemmed` says how many episodes the words missing from the (unstemmed) vocabulary match once
    stemmed ("replication" finds "replicating"); those matching none get their closest spellings as
    alternatives: typo correction. Without it (a first pass) no word is corrected.
    """
    text = unicodedata.normalize("NFKC", query)[:MAX_QUERY_CHARS]
    chunks = list(CHUNK.finditer(text))
    if not chunks:
        return []
    typing_last = chunks[-1].end() == len(text)
    units: list[Phrase] = [tuple(WORD.findall(chunk.group().lower())) for chunk in chunks]
    terms: list[tuple[Term, bool]] = []  # (term, is a stop word)
    position = 0
    while position < len(units):
        is_last = typing_last and position == len(units) - 1
        consumed, term = _term_at(units, position, vocabulary, is_last, stemmed)
        stop = consumed == 1 and len(units[position]) == 1 and units[position][0] in STOP_WORDS
        terms.append((term, stop))
        position += consumed
    kept = [term for term, stop in terms if not stop] or [term for term, _ in terms]
    if len(kept) > MAX_TERMS:
        selective = set(heapq.nsmallest(MAX_TERMS, range(len(kept)), key=lambda i: kept[i].documents))
        kept = [term for i, term in enumerate(kept) if i in selective]
    return kept


def _term_at(
    units: list[Phrase],
    position: int,
    vocabulary: Vocabulary,
    is_last: bool,
    stemmed: Stemmed,
) -> tuple[int, Term]:
    """The term starting at units[position] and how many units it spans."""
    unit = units[position]
    if len(unit) == 1:
        equivalent = _equivalent_at(units, position)
        if equivalent is not None:
            length, phrases = equivalent
            return length, _term(_source(units[position : position + length]), phrases, vocabulary)
        following = units[position + 1] if position + 1 < len(units) else ()
        if len(following) == 1 and not (is_last or {unit[0], following[0]} & STOP_WORDS):
            joined = unit[0] + following[0]
            if vocabulary.documents(index_form(joined)):
                return 2, _term(_source([unit, following]), ((unit[0], following[0]), (joined,)), vocabulary)
        return 1, _word_term(unit[0], vocabulary, is_last, stemmed)
    alternatives: list[Phrase] = [unit]
    joined = "".join(unit)
    if vocabulary.documents(index_form(joined)):
        alternatives.append((joined,))
    prefix = unit if is_last and len(unit[-1]) >= 2 else None
    return 1, _term(_source([unit]), alternatives, vocabulary, prefix=prefix, stemmed=stemmed)


def _equivalent_at(units: list[Phrase], position: int) -> tuple[int, tuple[Phrase, ...]] | None:
    word = units[position][0]
    candidates = _EQUIVALENTS.get(word) or _EQUIVALENTS.get(word[:-1] if word.endswith("s") else "", [])
    for phrase, phrases in candidates:
        following = units[position : position + len(phrase)]
        words = tuple(part for unit in following for part in unit)
        if all(len(unit) == 1 for unit in following) and (
            words == phrase or (len(phrase) == 1 and words == (phrase[0] + "s",))
        ):
            return len(phrase), phrases
    return None


def _source(units: Sequence[Phrase]) -> str:
    return " ".join(word for unit in units for word in unit)


def _word_term(word: str, vocabulary: Vocabulary, is_last: bool, stemmed: Stemmed) -> Term:
    spellings = {word, *spelling_variants(word)}
    alternatives: list[Phrase] = [(spelling,) for spelling in sorted(spellings, key=lambda s: s != word)]
    for spelling in spellings:
        alternatives.extend((same,) for same in vocabulary.same_word(spelling))
    split = _split_compound(word, vocabulary)
    if split is not None:
        alternatives.append(split)
    used = any(vocabulary.documents(index_form(a[0])) for a in alternatives if len(a) == 1)
    prefix: Phrase | None = None
    if is_last and len(word) >= 2:
        prefix = (word,)
        if not used and not vocabulary.stem_starts_with(index_form(word)):
            # An unfinished word no stem starts with: the stemmer made "optimization" "optim",
            # which the prefix "optimiz*" misses; its completions as whole words do not.
            completions = vocabulary.completions(index_form(word), COMPLETIONS_PER_PREFIX)
            alternatives.extend((completion,) for completion in completions)
            used = bool(completions)
    if (
        used
        or split is not None
        or len(word) < 4
        or not word.isalpha()
        or stemmed is None
        or stemmed.get(word)
    ):
        return _term(word, alternatives, vocabulary, prefix=prefix, stemmed=stemmed)
    alternatives.extend((correction,) for correction in vocabulary.corrections(index_form(word)))
    return _term(word, alternatives, vocabulary, prefix=prefix)


def _split_compound(word: str, vocabulary: Vocabulary) -> Phrase | None:
    """ "gpt2" -> ("gpt", "2"), "montecarlo" -> ("monte", "carlo"): the catalogue writes them apart."""
    parts = tuple(_LETTERS_DIGITS.findall(word))
    if len(parts) > 1:
        return parts if all(vocabulary.documents(part) for part in parts) else None
    best: tuple[int, Phrase] | None = None
    for cut in range(3, len(word) - 2):
        head, tail = word[:cut], word[cut:]
        if head in STOP_WORDS or tail in STOP_WORDS:
            continue
        documents = min(vocabulary.documents(head), vocabulary.documents(tail))
        if documents and (best is None or documents > best[0]):
            best = (documents, (head, tail))
    return None if best is None else best[1]


def _term(
    source: str,
    alternatives: Iterable[Phrase],
    vocabulary: Vocabulary,
    *,
    prefix: Phrase | None = None,
    stemmed: Stemmed = None,
) -> Term:
    unique = tuple(dict.fromkeys(alternatives))
    documents = max((_phrase_documents(phrase, vocabulary) for phrase in unique), default=0)
    if stemmed:
        documents = max(documents, stemmed.get(source, 0))
    return Term(source, unique, prefix, documents)


def _phrase_documents(phrase: Phrase, vocabulary: Vocabulary) -> int:
    return min(vocabulary.documents(index_form(word)) for word in phrase)


@dataclass(frozen=True, slots=True)
class CoverageStep:
    band: float  # the share of the query's weight every match carries
    expression: str  # FTS5
    most: int  # an upper bound on how many episodes match


def coverage_steps(terms: Sequence[Term], episodes: int) -> list[CoverageStep]:
    """Best band first: episodes matching terms that carry at least `band` of the query's weight
    (1.0: every term, 0.0: any term).

    A term weighs its inverse document frequency, so "agile" counts for more than "data": an episode
    with the rare words of a query beats one with only its common words.
    """
    weights = [math.log(1.0 + (episodes - term.documents + 0.5) / (term.documents + 0.5)) for term in terms]
    rendered = [term.fts() for term in terms]
    indexes = range(len(terms))
    subsets = [subset for size in indexes for subset in itertools.combinations(indexes, size + 1)]
    steps: list[CoverageStep] = []
    previous: list[tuple[int, ...]] = []
    for band in COVERAGE_BANDS:
        # Minimal subsets reaching the band: dropping any of their terms would fall short of it.
        needed = max(band * sum(weights), min(weights)) - 1e-9
        minimal = [
            subset
            for subset in subsets
            if sum(weights[i] for i in subset) >= needed
            and sum(weights[i] for i in subset) - min(weights[i] for i in subset) < needed
        ]
        if minimal != previous:
            conjunctions = [" AND ".join(rendered[i] for i in subset) for subset in minimal]
            most = sum(min(terms[i].documents for i in subset) for subset in minimal)
            steps.append(
                CoverageStep(band, " OR ".join(f"({conjunction})" for conjunction in conjunctions), most)
            )
            previous = minimal
    return steps
