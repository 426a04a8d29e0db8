"""Reading a query: the catalogue's vocabulary, and the terms a query asks for."""

from __future__ import annotations

import bisect
import heapq
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.search.english import is_english, phrase_weight
from bot.search.field_terms import Meaning, field_terms
from bot.search.index import stem
from bot.search.steps import sorted_in_steps
from bot.search.text import CHUNK, MAX_QUERY_CHARS, STOP_WORDS, spelling_variants
from bot.text import WORD, fold, index_form

MAX_TERMS = 6  # the most telling words of a longer query: rare in the catalogue and in English
COMPLETIONS_PER_PREFIX = 6
FAMILY_MIN = 5  # letters of the shortest stem taken for a word's family
REMEMBERED_WORDS = 4096  # query words whose corrections and compound splits are kept
V = TypeVar("V")

_LETTERS_DIGITS = re.compile(r"[^\W\d_]+|\d+")

# --- Vocabulary: which words the catalogue uses ----------------------------------------------------


class Vocabulary:
    """The catalogue's words with their episode counts, and its stems: for completion, folding and
    typo correction without a round trip to the database.
    """

    def __init__(
        self,
        documents: Mapping[str, int],
        sorted_stems: Sequence[str],  # the index's stems, in order (sorting again cost 10-18 ms of GIL)
        *,
        step_aside: Callable[[], object] = lambda: None,  # called now and then while building
    ) -> None:
        self._documents = dict(documents)
        self._sorted = sorted_in_steps(self._documents)
        self._counts = np.fromiter(
            (self._documents[word] for word in self._sorted), dtype=np.int64, count=len(self._sorted)
        )
        self._stems = sorted_stems
        self._by_fold: dict[str, list[str]] = {}
        # Typo candidates by (length, first letter) and (length, second letter): a misspelling
        # rarely gets both of its first two letters wrong, and comparing fewer words is faster.
        by_shape: dict[tuple[int, int, str], list[str]] = {}
        for position, term in enumerate(self._sorted):
            if position % 2000 == 0:
                step_aside()
            folded = fold(term)
            if folded != term:
                self._by_fold.setdefault(folded, []).append(term)
            for index in (0, 1):
                if len(term) > index:
                    by_shape.setdefault((len(term), index, term[index]), []).append(term)
        # Tuples of strings drop out of the garbage collector's passes; lists never do.
        self._by_shape = {shape: tuple(terms) for shape, terms in by_shape.items()}
        self._corrections: dict[str, list[str]] = {}
        self._splits: dict[str, tuple[str, ...] | None] = {}

    def documents(self, word: str) -> int:
        """How many episodes use this word (as the unstemmed index stores it)."""
        return self._documents.get(word, 0)

    def same_word(self, word: str) -> list[str]:
        """Indexed words that fold to the same letters: "stanislaw" -> ["stanisław"]."""
        return self._by_fold.get(fold(word), [])

    def completions(self, prefix: str, limit: int) -> list[str]:
        """The most used words starting with `prefix` (the prefix itself excluded)."""
        start = bisect.bisect_left(self._sorted, prefix)
        end = bisect.bisect_left(self._sorted, prefix + "\U0010ffff", start)
        if start < end and self._sorted[start] == prefix:
            start += 1
        if end - start > limit:  # the most used first
            counts = self._counts[start:end]
            best = np.argpartition(-counts, limit)[:limit]
            chosen = sorted(best.tolist(), key=lambda place: (-counts[place], place))
            return [self._sorted[start + place] for place in chosen]
        return sorted(self._sorted[start:end], key=self.documents, reverse=True)

    def stem_starts_with(self, prefix: str) -> bool:
        """Whether some stem in the index starts with the stem of `prefix`, so the prefix matches."""
        stemmed = stem(prefix)
        start = bisect.bisect_left(self._stems, stemmed)
        return start < len(self._stems) and self._stems[start].startswith(stemmed)

    def shorter_stem(self, word: str) -> str | None:
        """The longest stem in the index that begins this word's stem and holds at least half of it
        (FAMILY_MIN letters or more): its family, where the stemmer keeps derivations apart
        ("detector" -> "detect", "fraudster" -> "fraud").
        """
        stemmed = stem(word)
        for length in range(len(stemmed) - 1, max(FAMILY_MIN, (len(stemmed) + 1) // 2) - 1, -1):
            start = bisect.bisect_left(self._stems, stemmed[:length])
            if start < len(self._stems) and self._stems[start] == stemmed[:length]:
                return stemmed[:length]
        return None

    def split_compound(self, word: str) -> Phrase | None:
        """ "gpt2" -> ("gpt", "2"), "montecarlo" -> ("monte", "carlo"): the catalogue writes them
        apart (remembered: every word of every query is tried).
        """
        return _remembered(self._splits, word, lambda: _split_compound(word, self))

    def corrections(self, word: str) -> list[str]:
        """The closest words by edit distance (a transposition counts as one), most used first."""
        return _remembered(self._corrections, word, lambda: self._closest(word))

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


def _remembered(cache: dict[str, V], word: str, compute: Callable[[], V]) -> V:
    """cache[word], computed if need be; the cache starts afresh past REMEMBERED_WORDS."""
    if word not in cache:
        if len(cache) > REMEMBERED_WORDS:
            cache.clear()
        cache[word] = compute()
    return cache[word]


# --- Query model -----------------------------------------------------------------------------------

Phrase = tuple[str, ...]
Stemmed = Mapping[str, int] | None  # see parse_query


@dataclass(frozen=True, slots=True)
class Term:
    """One thing the query asks for: any of its alternative phrases, or words starting with `prefix`."""

    source: str  # what was typed
    alternatives: tuple[Phrase, ...]
    prefix: Phrase | None = None
    documents: int = 0  # how many episodes match it, widened (estimated from the vocabulary, then counted)
    related: tuple[Phrase, ...] = ()  # the field's other names for it: they rank below the words typed


def parse_query(query: str, vocabulary: Vocabulary, stemmed: Stemmed = None) -> list[Term]:
    """The terms of a free-text query, at most MAX_TERMS, stop words dropped unless nothing else is left.

    The last word, when the query ends in it, also matches as a prefix: listeners search as they type.
    `stemmed` says how many episodes the words missing from the (unstemmed) vocabulary match once
    stemmed ("replication" finds "replicating"); those matching none get as alternatives the words
    they begin ("bayes": "bayesian") or else their closest spellings (typo correction), never for an
    English word; or else their family as a related name ("detector": "detect"). It also names,
    with 0, the field's names of several words and the hyphenated words that match nowhere: they are
    read word by word. Without it (a first pass) no word is corrected.
    """
    text = unicodedata.normalize("NFKC", query)[:MAX_QUERY_CHARS]
    chunks = list(CHUNK.finditer(text))
    if not chunks:
        return []
    typing_last = chunks[-1].end() == len(text)
    units: list[Phrase] = [tuple(WORD.findall(chunk.group().lower())) for chunk in chunks]
    terms: list[tuple[Term, bool]] = []  # (term, is a stop word)
    position = 0
    plain_until = 0  # the words of a field's name the catalogue lacks under every name: read one by one

    def found_nowhere(term: Term) -> bool:  # its words never stand together in the stemmed index
        return stemmed is not None and stemmed.get(term.source) == 0

    while position < len(units):
        is_last = typing_last and position == len(units) - 1
        field = position >= plain_until
        consumed, term = _term_at(units, position, vocabulary, is_last, stemmed, field=field)
        if consumed == 1 and len(units[position]) > 1 and found_nowhere(term):
            # Words joined by a hyphen that never stand together ("GA-trained"): read one by one.
            units[position : position + 1] = [(word,) for word in units[position]]
            continue
        if consumed > 1 and (not term.documents or found_nowhere(term)):
            plain_until = position + consumed
            consumed, term = _term_at(units, position, vocabulary, is_last, stemmed, field=False)
        stop = consumed == 1 and all(word in STOP_WORDS for word in units[position])
        terms.append((term, stop))
        position += consumed
    kept = [term for term, stop in terms if not stop] or [term for term, _ in terms]
    if len(kept) > MAX_TERMS:
        selective = set(
            heapq.nsmallest(
                MAX_TERMS,
                range(len(kept)),
                key=lambda i: (kept[i].documents + 1) / phrase_weight(kept[i].source.split()),
            )
        )
        kept = [term for i, term in enumerate(kept) if i in selective]
    return kept


def _term_at(
    units: list[Phrase],
    position: int,
    vocabulary: Vocabulary,
    is_last: bool,
    stemmed: Stemmed,
    *,
    field: bool = True,
) -> tuple[int, Term]:
    """The term starting at units[position] and how many units it spans; `field`: look the words up
    in the field's vocabulary.
    """
    unit = units[position]
    meaning = _equivalent_at(units, position) if field else None
    if meaning is not None:
        length, names = meaning
        if length > 1 or names.several:
            source = _source(units[position : position + length])
            joined = "".join(source.split())  # "monte carlo": also written "montecarlo"
            same = (*names.same, (joined,)) if vocabulary.documents(index_form(joined)) else names.same
            return length, _term(source, same, vocabulary, related=names.related)
        # A single word with synonyms only: read as any other word (prefix, spellings), then widened.
        length, term = _term_at(units, position, vocabulary, is_last, stemmed, field=False)
        return length, _widened(term, names.related, vocabulary)
    if len(unit) == 1:
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


def _widened(term: Term, related: Iterable[Phrase], vocabulary: Vocabulary) -> Term:
    others = tuple(name for name in related if name not in term.alternatives)
    documents = max([term.documents, *(_phrase_documents(name, vocabulary) for name in others)])
    return replace(term, related=others, documents=documents)


def _equivalent_at(units: list[Phrase], position: int) -> tuple[int, Meaning] | None:
    """A name from the field's vocabulary starting at units[position]: how many units it spans and
    every name it means. "cross-entropy", one unit, is the name "cross entropy".
    """
    words = [word for unit in units[position:] for word in unit]
    found = field_terms().meaning_at(words, 0)
    if found is None and words[0].endswith("s") and not is_english(words[0]):
        # The plural of an abbreviation that the endings rule leaves alone ("GPUs", "NNs").
        found = field_terms().meaning_at([words[0][:-1], *words[1:]], 0)
    if found is None:
        return None
    length, names = found
    ends = list(itertools.accumulate(len(unit) for unit in units[position:]))
    return (ends.index(length) + 1, names) if length in ends else None


def _source(units: Sequence[Phrase]) -> str:
    return " ".join(word for unit in units for word in unit)


def _word_term(word: str, vocabulary: Vocabulary, is_last: bool, stemmed: Stemmed) -> Term:
    spellings = {word, *spelling_variants(word)}
    alternatives: list[Phrase] = [(spelling,) for spelling in sorted(spellings, key=lambda s: s != word)]
    for spelling in spellings:
        alternatives.extend((same,) for same in vocabulary.same_word(spelling))
    split = vocabulary.split_compound(word)
    if split is not None:
        alternatives.append(split)
    used = any(vocabulary.documents(index_form(a[0])) for a in alternatives if len(a) == 1)
    form = index_form(word)
    prefix: Phrase | None = None
    if is_last and len(word) >= 2:
        prefix = (word,)
        if not used and not vocabulary.stem_starts_with(form):
            # An unfinished word no stem starts with: the stemmer made "optimization" "optim",
            # which the prefix "optimiz*" misses; its completions as whole words do not.
            completions = vocabulary.completions(form, COMPLETIONS_PER_PREFIX)
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
    # "stolen", "payments": English words the catalogue lacks are not misspellings of its own. Other
    # words are shortenings ("bayes", "freq") of the catalogue's words they begin, or else misspellings.
    if not is_english(word):
        guesses = vocabulary.completions(form, COMPLETIONS_PER_PREFIX) or vocabulary.corrections(form)
        if guesses:
            return _term(word, [*alternatives, *((guess,) for guess in guesses)], vocabulary, prefix=prefix)
    family = vocabulary.shorter_stem(form)
    related = [(family,)] if family is not None else []
    return _term(word, alternatives, vocabulary, prefix=prefix, stemmed=stemmed, related=related)


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
    related: Iterable[Phrase] = (),
) -> Term:
    unique = tuple(dict.fromkeys(alternatives))
    others = tuple(phrase for phrase in dict.fromkeys(related) if phrase not in unique)
    documents = max((_phrase_documents(phrase, vocabulary) for phrase in (*unique, *others)), default=0)
    if stemmed:
        documents = max(documents, stemmed.get(source, 0))
    return Term(source, unique, prefix, documents, others)


def _phrase_documents(phrase: Phrase, vocabulary: Vocabulary) -> int:
    return min(vocabulary.documents(index_form(word)) for word in phrase)
