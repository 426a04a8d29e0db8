"""Episode search: whatever a listener types (words, typos, a number, a guest) -> ranked episodes."""

from __future__ import annotations

import asyncio
import bisect
import functools
import heapq
import itertools
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.db import EpisodeRepository
from bot.db.search_index import TITLE_OR_GUESTS, CatalogueEntry, SearchIndex
from bot.models import StoredEpisode

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 200
MAX_TERMS = 6  # the most selective words of a longer query; C(6, 3) = 20 conjunctions at most
RANK_WINDOW = 1500  # see SearchIndex.ranked
COMPLETIONS_PER_PREFIX = 6
COVERAGE_BANDS = (1.0, 0.75, 0.5, 0.25, 0.0)
COMMON_FRACTION = 0.8  # a term matching more of the catalogue than this is left out
TITLE_BONUS = 0.1  # bands are 0.25 apart; bm25 adds at most 0.1 within one
SAME_NOTES_MIN_CHARS = 80  # a rebroadcast with an original's exact notes (this long) is that episode
EXACT_SCORE = float("inf")

_NUMBER_QUERY = re.compile(
    r"^\s*(?:(?:episode|ep|e|no|number)\s*\.?\s*#?\s*|#\s*)?(\d{1,6})\s*[.!?]*\s*$", re.IGNORECASE
)
# A word as FTS5's unicode61 tokenizer sees it, plus the joiners that make "t-shirt", "gpt-2" one unit.
_CHUNK = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*")
_WORD = re.compile(r"[^\W_]+")
_LETTERS_DIGITS = re.compile(r"[^\W\d_]+|\d+")
_RB_MARKER = re.compile(r"\[\s*(?:rb|rebroadcast)\s*\]|\(\s*(?:rb|rebroadcast)\s*\)", re.IGNORECASE)
_NUMBER_IN_TITLE = re.compile(r"^\s*episode\s+\d+\s*:|\bep(?:isode)?\.?\s*#?\d+\b", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[\W_]+")

# Letters unicode61's remove_diacritics leaves alone (they do not decompose), folded for matching.
_SPECIAL_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h"}
)


_STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she should
    so some such than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves also really another any anything come comes coming get gets getting got
    give go goes going know like lot lots make makes making much many new say see take tell use used
    uses using want way ways well
    episode episodes ep podcast podcasts show shows one talk talks talked talking discuss discussed
    discussing listen listened heard guy someone something thing things stuff remember called find
    looking search please think
    """.split()  # noqa: SIM905 - a word list reads better as text
)

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

# British stem -> American stem, matched at the start of a word ("behaviours" -> "behaviors").
_BRITISH_AMERICAN = (
    ("colour", "color"),
    ("behaviour", "behavior"),
    ("favour", "favor"),
    ("honour", "honor"),
    ("humour", "humor"),
    ("labour", "labor"),
    ("neighbour", "neighbor"),
    ("flavour", "flavor"),
    ("harbour", "harbor"),
    ("rumour", "rumor"),
    ("vapour", "vapor"),
    ("endeavour", "endeavor"),
    ("armour", "armor"),
    ("odour", "odor"),
    ("rigour", "rigor"),
    ("tumour", "tumor"),
    ("vigour", "vigor"),
    ("centre", "center"),
    ("metre", "meter"),
    ("litre", "liter"),
    ("fibre", "fiber"),
    ("theatre", "theater"),
    ("catalogue", "catalog"),
    ("dialogue", "dialog"),
    ("analogue", "analog"),
    ("defence", "defense"),
    ("licence", "license"),
    ("offence", "offense"),
    ("programme", "program"),
    ("grey", "gray"),
    ("ageing", "aging"),
    ("judgement", "judgment"),
    ("sceptic", "skeptic"),
    ("aluminium", "aluminum"),
    ("mould", "mold"),
    ("learnt", "learned"),
)
_IZE = re.compile(r"(?<=[a-z]{3})i([sz])(e|es|ed|er|ers|ing|ation|ations|ational|able)$")
_YZE = re.compile(r"(?<=[a-z]{2})y([sz])(e|es|ed|er|ers|ing)$")
_DOUBLE_L = re.compile(r"(?<=[a-z]{3}[aeiou])(ll?)(ed|ing|er|ers)$")


# --- Text normalisation (pure) -------------------------------------------------------------------


def index_form(word: str) -> str:
    """A word as the unicode61 tokenizer with remove_diacritics 2 stores it: lower case, unaccented."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def fold(text: str) -> str:
    """Lower case, accents removed and letters like "ł", "ø", "ß" spelled in ASCII: "same word" keys."""
    return index_form(text).translate(_SPECIAL_LETTERS)


@functools.lru_cache(maxsize=65536)
def spelling_variants(word: str) -> frozenset[str]:
    """Other spellings of a lower-case word: British/American (-ise/-ize, -yse/-yze, -our/-or...)."""
    variants: set[str] = set()
    for pattern in (_IZE, _YZE):
        match = pattern.search(word)
        if match:
            swapped = "z" if match.group(1) == "s" else "s"
            variants.add(f"{word[: match.start()]}{word[match.start()]}{swapped}{match.group(2)}")
    match = _DOUBLE_L.search(word)
    if match:
        other = "l" if match.group(1) == "ll" else "ll"
        variants.add(f"{word[: match.start()]}{other}{match.group(2)}")
    for british, american in _BRITISH_AMERICAN:
        if word.startswith(british):
            variants.add(american + word[len(british) :])
        elif word.startswith(american):
            variants.add(british + word[len(american) :])
    variants.discard(word)
    return frozenset(variants)


def episode_number_in(query: str) -> int | None:
    """The episode number a query asks for directly: "59", "ep 59", "Ep. 59", "episode #59", "#59"."""
    match = _NUMBER_QUERY.match(query)
    return int(match.group(1)) if match else None


def rebroadcast_key(title: str) -> str:
    """A title without its rebroadcast marker and episode number: equal keys, same episode."""
    bare = _NUMBER_IN_TITLE.sub(" ", _RB_MARKER.sub(" ", title))
    return _NON_ALNUM.sub(" ", fold(bare)).strip()


def _display_title(title: str) -> str:
    """The part of a title a listener reads first ("Episode 59: How to..." -> "how to...")."""
    return " ".join(_WORD.findall(fold(_NUMBER_IN_TITLE.sub(" ", _RB_MARKER.sub(" ", title)))))


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


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: an episode, how well it matched, and the rebroadcasts shown as part of it."""

    episode: StoredEpisode
    score: float  # higher is better
    rebroadcasts: tuple[StoredEpisode, ...] = ()  # later airings folded into this episode


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
        parts = [_quote(phrase) for phrase in self.alternatives]
        if self.prefix is not None:
            parts.append(_quote(self.prefix) + " *")
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def _quote(phrase: Phrase) -> str:
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
    chunks = list(_CHUNK.finditer(text))
    if not chunks:
        return []
    typing_last = chunks[-1].end() == len(text)
    units: list[Phrase] = [tuple(_WORD.findall(chunk.group().lower())) for chunk in chunks]
    terms: list[tuple[Term, bool]] = []  # (term, is a stop word)
    position = 0
    while position < len(units):
        is_last = typing_last and position == len(units) - 1
        consumed, term = _term_at(units, position, vocabulary, is_last, stemmed)
        stop = consumed == 1 and len(units[position]) == 1 and units[position][0] in _STOP_WORDS
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
        if len(following) == 1 and not (is_last or {unit[0], following[0]} & _STOP_WORDS):
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
        if head in _STOP_WORDS or tail in _STOP_WORDS:
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


# --- What the engine keeps in memory between catalogue changes ----------------------------------------


@dataclass(frozen=True, slots=True)
class _Titles:
    """Every title's words, for autocomplete: an inverted index over positions (0 = newest)."""

    entries: tuple[CatalogueEntry, ...]
    words: tuple[tuple[str, ...], ...]  # per position: folded title words and their other spellings
    postings: Mapping[str, tuple[int, ...]]
    sorted_words: tuple[str, ...]
    postings_before: tuple[int, ...]  # [i]: how many postings the words before sorted_words[i] have
    openings: tuple[tuple[str, int], ...]  # (title as read, folded; position), sorted
    by_number: Mapping[int, tuple[int, ...]]

    @classmethod
    def build(cls, entries: Sequence[CatalogueEntry]) -> _Titles:
        postings: dict[str, list[int]] = {}
        words: list[tuple[str, ...]] = []
        by_number: dict[int, list[int]] = {}
        for position, entry in enumerate(entries):
            title_words = _WORD.findall(fold(entry.title))
            spelled = tuple(dict.fromkeys(itertools.chain(title_words, *map(spelling_variants, title_words))))
            words.append(spelled)
            for word in spelled:
                postings.setdefault(word, []).append(position)
            if entry.number is not None:
                by_number.setdefault(entry.number, []).append(position)
        sorted_words = tuple(sorted(postings))
        return cls(
            entries=tuple(entries),
            words=tuple(words),
            postings={word: tuple(positions) for word, positions in postings.items()},
            sorted_words=sorted_words,
            postings_before=(0, *itertools.accumulate(len(postings[word]) for word in sorted_words)),
            openings=tuple(
                sorted((_display_title(entry.title), position) for position, entry in enumerate(entries))
            ),
            by_number={number: tuple(positions) for number, positions in by_number.items()},
        )

    def _word_range(self, prefix: str) -> tuple[int, int]:
        return (
            bisect.bisect_left(self.sorted_words, prefix),
            bisect.bisect_left(self.sorted_words, prefix + "\U0010ffff"),
        )

    def titles_with(self, prefix: str) -> int:
        """At most how many titles have a word starting with `prefix` (cheap: no set is built)."""
        start, end = self._word_range(prefix)
        return self.postings_before[end] - self.postings_before[start]

    def opening_with(self, text: str, limit: int) -> list[int]:
        """The newest `limit` positions whose title, as read, starts with `text`."""
        start = bisect.bisect_left(self.openings, (text,))
        end = bisect.bisect_left(self.openings, (text + "\U0010ffff",))
        return heapq.nsmallest(limit, (position for _, position in self.openings[start:end]))

    def matching(self, words: Sequence[str]) -> Iterator[int]:
        """Positions, newest first, whose title has for every typed word a word starting with it."""
        ordered = sorted(words, key=self.titles_with)
        if self.titles_with(ordered[0]) * 4 > len(self.entries):
            # Every word is common: walking titles newest first finds enough almost at once.
            candidates: Iterable[int] = range(len(self.entries))
        else:
            start, end = self._word_range(ordered[0])
            found: set[int] = set()
            for word in self.sorted_words[start:end]:
                found.update(self.postings[word])
            candidates, ordered = sorted(found), ordered[1:]
        for position in candidates:
            title_words = self.words[position]
            if all(any(word.startswith(typed) for word in title_words) for typed in ordered):
                yield position

    def corrected(self, word: str) -> str | None:
        """The title word closest to a misspelled one, or None."""
        if len(word) < 4:
            return None
        found = process.extractOne(word, self.sorted_words, scorer=OSA.distance, score_cutoff=1)
        return None if found is None else found[0]


@dataclass(frozen=True, slots=True)
class _Snapshot:
    generation: int
    vocabulary: Vocabulary
    titles: _Titles
    original_of: Mapping[int, int]  # rebroadcast id -> original id
    rebroadcasts_of: Mapping[int, tuple[int, ...]]  # original id -> its rebroadcasts, oldest first

    def canonical(self, episode_id: int) -> int:
        return self.original_of.get(episode_id, episode_id)


def _originals(entries: Sequence[CatalogueEntry], by_description: Mapping[int, int]) -> dict[int, int]:
    """Rebroadcast id -> original id, by title (minus markers and numbers), else by identical notes."""
    earliest_original: dict[str, CatalogueEntry] = {}
    for entry in entries:  # newest first: the earliest original is written last and wins
        if not entry.rebroadcast:
            earliest_original[rebroadcast_key(entry.title)] = entry
    originals: dict[int, int] = {}
    for entry in entries:
        if entry.rebroadcast:
            original = earliest_original.get(rebroadcast_key(entry.title))
            if original is not None:
                originals[entry.id] = original.id
            elif entry.id in by_description:
                originals[entry.id] = by_description[entry.id]
    return originals


def _numbered_hits(
    snapshot: _Snapshot, numbered: list[StoredEpisode], limit: int, include_rebroadcasts: bool
) -> list[SearchHit]:
    # The listener asked for this number: show it even when it is a rebroadcast, folding a
    # rebroadcast only into an original that carries the same number.
    present = {episode.id for episode in numbered}
    hits: list[SearchHit] = []
    for episode in numbered:
        original = snapshot.original_of.get(episode.id)
        if include_rebroadcasts or original not in present:
            rebroadcasts = tuple(
                other
                for other in numbered
                if not include_rebroadcasts and snapshot.original_of.get(other.id) == episode.id
            )
            hits.append(SearchHit(episode, EXACT_SCORE, rebroadcasts))
    return hits[:limit]


# --- The engine ------------------------------------------------------------------------------------


class EpisodeSearch:
    """The one search function behind the slash commands and `python -m bot search`."""

    def __init__(self, episodes: EpisodeRepository) -> None:
        self._episodes = episodes
        self._index = SearchIndex(episodes.database)
        self._snapshot: _Snapshot | None = None
        self._refresh_lock = asyncio.Lock()

    async def search(
        self, query: str, *, limit: int = 10, include_rebroadcasts: bool = False
    ) -> list[SearchHit]:
        """The best episodes for `query`, at most `limit`; each rebroadcast folded into its original
        unless `include_rebroadcasts`. Never raises on what a user typed.
        """
        if limit <= 0:
            return []
        snapshot = await self._current()
        number = episode_number_in(query)
        if number is not None:
            numbered = await self._episodes.by_number(number)
            if numbered:
                return _numbered_hits(snapshot, numbered, limit, include_rebroadcasts)
        terms = await self._terms(query, snapshot.vocabulary, len(snapshot.titles.entries))
        if not terms:
            return []
        ranked: dict[int, float] = {}  # episode id -> score
        groups: set[int] = set()
        # Episodes carrying more of the query's weight first, bm25 ordering each band; every term
        # in the title or the guests comes before everything (a cheap step: an AND of rare words).
        steps = coverage_steps(terms, len(snapshot.titles.entries))
        if steps[0].band == 1.0:
            first = steps[0]
            steps.insert(
                0, CoverageStep(1.0 + TITLE_BONUS, f"{TITLE_OR_GUESTS}({first.expression})", first.most)
            )
        for step in steps:
            # Ranking every match of a common word would be slow; few matches need no window.
            window = RANK_WINDOW if step.most > RANK_WINDOW else None
            while len(groups) < limit:
                batch = await self._index.ranked(
                    step.expression, limit=limit + 5, window=window, exclude=list(ranked)
                )
                for episode_id, bm25 in batch:
                    # bm25 is negative, lower better: x / (1 + x) keeps each step inside its own band.
                    ranked[episode_id] = step.band + 0.1 * -bm25 / (1.0 - bm25)
                    groups.add(snapshot.canonical(episode_id))
                if len(batch) < limit + 5:
                    break
            if len(groups) >= limit:
                break
        return await self._arrange(snapshot, ranked, limit, include_rebroadcasts)

    async def _terms(self, query: str, vocabulary: Vocabulary, episodes: int) -> list[Term]:
        """The query's terms, each weighed by how many episodes it really matches, none matching none."""
        terms = parse_query(query, vocabulary)
        unsure = [term.source for term in terms if term.documents == 0]
        if unsure:
            # Words missing from the unstemmed vocabulary may match once stemmed; the others are typos.
            stemmed = await self._index.match_counts([_quote(tuple(word.split())) for word in unsure])
            terms = parse_query(query, vocabulary, dict(zip(unsure, stemmed, strict=True)))
        if len(terms) == 1:
            # Nothing to weigh against: skip counting, and rank it as if it matched everything
            # (in the window), since a lone common word may well match thousands of episodes.
            return [replace(terms[0], documents=episodes)]
        counts = await self._index.match_counts([term.fts() for term in terms])
        # A word found nowhere would only hide the episodes the other words find; one found almost
        # everywhere says nothing about the episode (the rarest term is kept, whatever it is).
        counted = [replace(term, documents=count) for term, count in zip(terms, counts, strict=True) if count]
        if not counted:
            return []
        rarest = min(counted, key=lambda term: term.documents)
        return [term for term in counted if term is rarest or term.documents <= COMMON_FRACTION * episodes]

    async def autocomplete(
        self, prefix: str, *, limit: int = 25, include_rebroadcasts: bool = False
    ) -> list[SearchHit]:
        """Titles matching what has been typed so far (every word as a prefix), newest first, titles
        that start with the text ahead; an episode number first. Empty text: the latest episodes.
        """
        if limit <= 0:
            return []
        snapshot = await self._current()
        titles = snapshot.titles
        words = _WORD.findall(fold(unicodedata.normalize("NFKC", prefix)[:MAX_QUERY_CHARS]))
        # Nothing typed: the latest episodes, a rebroadcast of an older one left to its original's date.
        positions: Iterable[int] = (
            position
            for position, entry in enumerate(titles.entries)
            if include_rebroadcasts or entry.id not in snapshot.original_of
        )
        if words:
            if not all(titles.titles_with(word) for word in words):
                # A word no title has: its closest title word, or else leave it out.
                fixed = [word if titles.titles_with(word) else titles.corrected(word) for word in words]
                words = [word for word in fixed if word is not None]
                if not words:
                    return []
            number = episode_number_in(prefix)
            positions = itertools.chain(
                titles.by_number.get(number, ()) if number is not None else (),
                titles.opening_with(" ".join(words), 2 * limit),
                titles.matching(words),
            )
        ids: list[int] = []
        seen: set[int] = set()
        for position in positions:
            entry = titles.entries[position]
            key = entry.id if include_rebroadcasts else snapshot.canonical(entry.id)
            if key not in seen:
                seen.add(key)
                ids.append(key)
                if len(ids) == limit:
                    break
        found = await self._index.episodes(ids)
        return [
            SearchHit(found[episode_id], float(limit - rank))
            for rank, episode_id in enumerate(ids)
            if episode_id in found
        ]

    async def _arrange(
        self, snapshot: _Snapshot, ranked: Mapping[int, float], limit: int, include_rebroadcasts: bool
    ) -> list[SearchHit]:
        """One hit per episode, originals in place of their rebroadcasts; best first."""
        best: dict[int, float] = {}
        for episode_id, score in ranked.items():
            group = snapshot.canonical(episode_id)
            best[group] = max(best.get(group, score), score)
        order = sorted(best, key=lambda group: -best[group])[:limit]
        members = {group: (group, *snapshot.rebroadcasts_of.get(group, ())) for group in order}
        wanted = [member for group in order for member in members[group]]
        found = await self._index.episodes(wanted)
        hits: list[SearchHit] = []
        for group in order:
            episodes = [found[member] for member in members[group] if member in found]
            if not episodes:  # deleted since the snapshot was taken
                continue
            if include_rebroadcasts:
                hits.extend(SearchHit(episode, best[group]) for episode in episodes)
            else:
                hits.append(SearchHit(episodes[0], best[group], tuple(episodes[1:])))
        return hits[:limit]

    async def _current(self) -> _Snapshot:
        """The in-memory view of the catalogue, rebuilt when the catalogue changed."""
        generation = await self._index.generation()
        if self._snapshot is not None and self._snapshot.generation == generation:
            return self._snapshot
        async with self._refresh_lock:
            if self._snapshot is not None and self._snapshot.generation == await self._index.generation():
                return self._snapshot
            await self._index.fill_missing_guests()
            writing = self._index.writing()
            generation = await self._index.generation()
            entries = await self._index.catalogue()
            original_of = _originals(
                entries, await self._index.originals_by_description(SAME_NOTES_MIN_CHARS)
            )
            rebroadcasts_of: dict[int, list[int]] = {}
            for entry in reversed(entries):  # oldest first
                if entry.id in original_of:
                    rebroadcasts_of.setdefault(original_of[entry.id], []).append(entry.id)
            snapshot = _Snapshot(
                generation=generation,
                vocabulary=Vocabulary(await self._index.vocabulary(), await self._index.stems()),
                titles=_Titles.build(entries),
                original_of=original_of,
                rebroadcasts_of={original: tuple(ids) for original, ids in rebroadcasts_of.items()},
            )
            # Another coroutine's open transaction shows its rows before they are committed; were it
            # rolled back, a cached copy would keep them under a generation number used again later.
            if not (writing or self._index.writing()):
                self._snapshot = snapshot
            log.debug("Search caches rebuilt at generation %d: %d episodes", generation, len(entries))
            return snapshot
