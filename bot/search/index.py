"""The in-memory inverted index a search ranks with: each stem's episodes, how often it occurs in the
title and guests and in the notes, and where (for phrases). Built from plain text in a worker thread.
"""

from __future__ import annotations

import array
import bisect
import itertools
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import Stemmer

from bot.search.steps import release_in_steps, sorted_in_steps
from bot.text import WORD, index_form

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

STEP_ASIDE_EVERY = 500  # episodes a build reads between two looks for searches
_STEM_MIN, _STEM_MAX = 3, 64  # shorter and longer words are left as they are
_SEPARATOR = 0  # word number between an episode's fields: no phrase spans two of them
MAX_WORDS = 65_000  # an episode's words past this are left out: counts and offsets fit in 16 bits
_FIELD_MAX_WORDS = 1000  # of a title, and of the guests
_DENSE_SHARE = 8  # a union of more than size / this many postings is summed in an array per episode
_CACHED_MATCHES = 512
# A phrase's word that occurs more than _WITHIN_MIN times is read only in the episodes that have every
# word of the phrase, when they are under 1/_WITHIN_SHARE of its own: for less, reading all is quicker.
_WITHIN_MIN, _WITHIN_SHARE = 20_000, 4
_PHRASES_AT_ONCE = 50  # phrases matched ahead between two looks for searches (at most a few ms)
# Work a build does in one call that holds the GIL (the event loop waits meanwhile): a few ms at most.
_STEMS_AT_ONCE = 1000


class Match(NamedTuple):
    """The episodes (index positions, ascending) where a word or phrase occurs, and how often."""

    docs: Ints
    titles: Floats  # occurrences in the title or the guests
    notes: Floats  # occurrences in the notes


EMPTY = Match(np.empty(0, np.int64), np.empty(0), np.empty(0))


def words_of(text: str) -> list[str]:
    """A text's words in lower case, accents kept (index_form, applied to each distinct word once,
    removes them): precomposed first, so a decomposed accent does not split a word.
    """
    lowered = text.lower()
    return WORD.findall(lowered if lowered.isascii() else unicodedata.normalize("NFC", lowered))


_stems: dict[str, str] = {}  # every word stemmed so far: a catalogue's words repeat across rebuilds
_stemmers = threading.local()  # a Stemmer object is not safe to share between threads


def stems(words: Sequence[str]) -> list[str]:
    """Stems of words in index form, by Snowball's English stemmer (Porter2). The original Porter
    algorithm, which SQLite FTS5 uses, gives "generalization", "generate" and "general" one stem
    ("gener"), "organization" the stem of "organ", "news" that of "new".
    """
    missing = [word for word in words if word not in _stems]
    if missing:
        stemmer: Stemmer.Stemmer | None = getattr(_stemmers, "stemmer", None)
        if stemmer is None:
            stemmer = _stemmers.stemmer = Stemmer.Stemmer("english")
        for start in range(0, len(missing), _STEMS_AT_ONCE):
            chunk = missing[start : start + _STEMS_AT_ONCE]
            for word, stemmed in zip(chunk, stemmer.stemWords(chunk), strict=True):
                _stems[word] = stemmed if _STEM_MIN <= len(word) <= _STEM_MAX else word
    return [_stems[word] for word in words]


def stem(word: str) -> str:
    found = _stems.get(word)
    return found if found is not None else stems([word])[0]


class _Numbering(dict[str, int]):
    """Word -> its number, from 1 in order of first use (0 is the field separator)."""

    def __missing__(self, word: str) -> int:
        number = self[word] = len(self) + 1
        return number


Terms = tuple[int, int]  # a range of term numbers: stems in alphabetical order, so a prefix is one range


@dataclass(frozen=True, slots=True, eq=False)
class InvertedIndex:
    """Postings by term (a stem; numbered in alphabetical order): the episodes (positions) it occurs
    in with its counts per field, and its occurrences' offsets within each episode, in that order.
    """

    size: int
    lengths: Floats  # words per episode, every field: bm25's document length
    words: float  # how many words the index holds (for the average document length)
    notes_start: Ints  # per episode, the offset of its first word of notes
    stems: tuple[str, ...]  # [term number]
    posting_starts: Ints  # [term]: where its postings start; [terms]: how many there are
    posting_docs: npt.NDArray[np.int32]
    posting_titles: npt.NDArray[np.uint8]  # at most 255: past that the rest count as notes
    posting_notes: npt.NDArray[np.uint16]
    occurrence_starts: Ints
    occurrence_offsets: npt.NDArray[np.uint16]
    _cache: dict[object, Match] = field(default_factory=dict)
    _ahead: dict[object, Match] = field(default_factory=dict)  # matched while the view was built

    def term(self, word: str) -> Terms:
        """The term of a word (lower case), once stemmed: an empty range if no episode has it."""
        stemmed = stem(index_form(word))
        start = bisect.bisect_left(self.stems, stemmed)
        found = start < len(self.stems) and self.stems[start] == stemmed
        return (start, start + 1) if found else (start, start)

    def prefixed(self, word: str) -> Terms:
        """The terms whose stem starts with this word's stem (SQLite FTS5 stems a prefix too)."""
        stemmed = stem(index_form(word))
        start = bisect.bisect_left(self.stems, stemmed)
        return start, bisect.bisect_left(self.stems, stemmed + "\U0010ffff", start)

    def documents(self, terms: Terms) -> int:
        """At most how many episodes these terms are in (exactly, for one term)."""
        return int(self.posting_starts[terms[1]] - self.posting_starts[terms[0]])

    def phrase(self, parts: Sequence[Terms]) -> Match:
        """Where consecutive words occur, each part a range of terms allowed at its place (several for
        a prefix). One part: any of its terms, their counts summed.
        """
        key = tuple(parts)
        found = self._ahead.get(key)
        if found is None:
            found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= _CACHED_MATCHES:
                self._cache.clear()
            found = self._cache[key] = self._phrase(key)
        return found

    def match_ahead(self, phrases: Iterable[Sequence[str]], step_aside: Callable[[], object]) -> None:
        """Matches these phrases now, in the build's thread: the field's names of several words. The
        first search for one ("deep learning") would otherwise spend up to 3 ms of the event loop's
        time on where its common words stand next to each other, after every rebuild.
        """
        for count, phrase in enumerate(phrases):
            if count % _PHRASES_AT_ONCE == 0:
                step_aside()
            key = tuple(self.term(word) for word in phrase)
            if key not in self._ahead:
                self._ahead[key] = self._phrase(key)

    def _phrase(self, parts: tuple[Terms, ...]) -> Match:
        if not parts or any(end <= start for start, end in parts):
            return EMPTY
        if len(parts) == 1:
            return self._postings(parts[0])
        # Only the episodes with every part can hold the phrase: the occurrences of its common words
        # ("state of the art") are read in those alone, not across the catalogue.
        rarest, *others = sorted(parts, key=self.documents)
        commonest = others[-1]
        within: Ints | None = None
        if self._occurrence_count(commonest) > _WITHIN_MIN and (
            self.documents(rarest) * _WITHIN_SHARE < self.documents(commonest)
        ):
            within = self._episodes(rarest)
            for part in others:
                within = within[self._present(self._episodes(part))[within]]
            if not len(within):
                return EMPTY
        occurrences = [self._occurrences(part, within) for part in parts]
        order = sorted(range(len(parts)), key=lambda place: len(occurrences[place]))
        starts = occurrences[order[0]] - order[0]  # where the phrase would start
        for place in order[1:]:
            if not len(starts):
                return EMPTY
            starts = _common(starts + place, occurrences[place]) - place
        if not len(starts):
            return EMPTY
        docs = starts >> 32
        in_titles = (starts & 0xFFFFFFFF) < self.notes_start[docs]
        first = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
        titles = np.add.reduceat(in_titles.astype(np.float64), first)
        totals = np.diff(np.append(first, len(docs))).astype(np.float64)
        return Match(docs[first], titles, totals - titles)

    def _postings(self, terms: Terms) -> Match:
        start, end = int(self.posting_starts[terms[0]]), int(self.posting_starts[terms[1]])
        docs = self.posting_docs[start:end].astype(np.int64)
        titles = self.posting_titles[start:end].astype(np.float64)
        notes = self.posting_notes[start:end].astype(np.float64)
        return (
            Match(docs, titles, notes) if terms[1] - terms[0] == 1 else summed(docs, titles, notes, self.size)
        )

    def _episodes(self, terms: Terms) -> Ints:
        """The positions of the episodes with any of these terms, ascending."""
        start, end = int(self.posting_starts[terms[0]]), int(self.posting_starts[terms[1]])
        docs = self.posting_docs[start:end].astype(np.int64)
        return docs if terms[1] - terms[0] == 1 else np.flatnonzero(self._present(docs))

    def _occurrence_count(self, terms: Terms) -> int:
        return int(self.occurrence_starts[terms[1]] - self.occurrence_starts[terms[0]])

    def _present(self, docs: Ints) -> npt.NDArray[np.bool_]:
        present = np.zeros(self.size, dtype=np.bool_)
        present[docs] = True
        return present

    def _occurrences(self, terms: Terms, within: Ints | None) -> Ints:
        """(position << 32 | offset) of every occurrence of these terms (in the episodes at the
        positions `within`, if given), ascending.
        """
        start, end = int(self.posting_starts[terms[0]]), int(self.posting_starts[terms[1]])
        counts = self.posting_titles[start:end].astype(np.int64) + self.posting_notes[start:end]
        posting_docs = self.posting_docs[start:end]
        offsets = self.occurrence_offsets[int(self.occurrence_starts[terms[0]]) :]
        if (
            within is not None
            and self._occurrence_count(terms) > _WITHIN_MIN
            and len(within) * _WITHIN_SHARE < end - start
        ):
            kept = self._present(within)[posting_docs]
            # Each kept posting's occurrences are a run of the term's offsets: where its run starts.
            runs = (np.cumsum(counts) - counts)[kept]
            counts, posting_docs = counts[kept], posting_docs[kept]
            offsets = offsets[
                np.arange(int(counts.sum())) + np.repeat(runs - (np.cumsum(counts) - counts), counts)
            ]
        docs = np.repeat(posting_docs.astype(np.int64), counts)
        keys = (docs << 32) | offsets[: len(docs)]
        if terms[1] - terms[0] > 1:
            keys.sort()
        return keys


def summed(docs: Ints, titles: Floats, notes: Floats, size: int) -> Match:
    """Counts of the same episode added up (docs unordered, repeated)."""
    if len(docs) * _DENSE_SHARE > size:
        title_counts: Floats = np.bincount(docs, titles, minlength=size).astype(np.float64)
        note_counts: Floats = np.bincount(docs, notes, minlength=size).astype(np.float64)
        present = np.flatnonzero(title_counts + note_counts)
        return Match(present, title_counts[present], note_counts[present])
    order = np.argsort(docs, kind="stable")
    docs = docs[order]
    first = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
    return Match(docs[first], np.add.reduceat(titles[order], first), np.add.reduceat(notes[order], first))


def _common(first: Ints, second: Ints) -> Ints:
    """The values in both (each sorted, without repeats)."""
    if len(first) * 16 < len(second):
        places = np.minimum(np.searchsorted(second, first), len(second) - 1)
        found: Ints = first[second[places] == first]
        return found
    if len(second) * 16 < len(first):
        return _common(second, first)
    both = np.concatenate((first, second))
    both.sort(kind="stable")  # two ascending runs: merged in one pass
    repeated: Ints = both[:-1][both[1:] == both[:-1]]
    return repeated


def build_index(
    documents: Iterable[tuple[str, str, str]], step_aside: Callable[[], object] = lambda: None
) -> InvertedIndex:
    """The index of (title, guests, notes) texts; an episode's position is its place in `documents`
    (read once: a generator's tuples are freed one by one).
    """
    numbering = _Numbering()
    number = numbering.__getitem__
    # Every episode's word numbers, fields apart by a separator: in pieces, as one growing array
    # would now and then be copied whole, holding the GIL.
    pieces: list[array.array[int]] = []
    spans = array.array("q")  # per episode: how many numbers it put in the stream
    notes_start = array.array("q")
    for position, (title, guests, notes) in enumerate(documents):
        if position % STEP_ASIDE_EVERY == 0:
            step_aside()
            pieces.append(array.array("I"))
            stream = pieces[-1]
        title_words = words_of(title)[:_FIELD_MAX_WORDS]
        guest_words = words_of(guests)[:_FIELD_MAX_WORDS]
        note_words = words_of(notes)[: MAX_WORDS - len(title_words) - len(guest_words)]
        stream.extend(map(number, title_words))
        stream.append(_SEPARATOR)
        stream.extend(map(number, guest_words))
        stream.append(_SEPARATOR)
        stream.extend(map(number, note_words))
        spans.append(len(title_words) + len(guest_words) + len(note_words) + 2)
        notes_start.append(len(title_words) + len(guest_words) + 2)
    step_aside()
    stem_of_word = stems([index_form(word) for word in numbering])
    temporaries: list[object] = [numbering]
    del numbering, number
    # A set built by a loop, not set(): one call over 91,000 stems held the GIL for 7 ms.
    sorted_stems = sorted_in_steps({stemmed for stemmed in stem_of_word})
    term_of_stem = {stemmed: term for term, stemmed in enumerate(sorted_stems)}
    # From a generator: numpy reads a list of 91,000 numbers in one call, holding the GIL for 4-10 ms.
    term_of_word = np.fromiter(
        itertools.chain((-1,), (term_of_stem[stemmed] for stemmed in stem_of_word)),
        dtype=np.int64,
        count=len(stem_of_word) + 1,
    )
    temporaries += [term_of_stem, stem_of_word]
    del term_of_stem, stem_of_word
    release_in_steps(temporaries)  # freed at once, hundreds of thousands of words would hold the GIL
    step_aside()
    return _inverted(
        np.concatenate(
            [np.frombuffer(piece, dtype=np.uint32) for piece in pieces if piece] or [np.empty(0, np.uint32)]
        ),
        np.frombuffer(spans, dtype=np.int64) if spans else np.empty(0, np.int64),
        np.frombuffer(notes_start, dtype=np.int64).copy() if notes_start else np.empty(0, np.int64),
        term_of_word,
        tuple(sorted_stems),
    )


def _inverted(
    stream: npt.NDArray[np.uint32],
    spans: Ints,
    notes_start: Ints,
    term_of_word: Ints,
    sorted_stems: tuple[str, ...],
) -> InvertedIndex:
    """Sorts every occurrence by (term, episode, offset) in one key: postings and positions follow."""
    size = len(spans)
    starts = np.cumsum(spans) - spans
    # Each word's episode and offset (np.repeat would hold the GIL for all of it; these do not).
    marks = np.zeros(len(stream), dtype=np.int64)
    marks[starts[1:]] = 1
    docs = np.cumsum(marks)
    del marks
    offsets = np.arange(len(stream), dtype=np.int64) - starts[docs]
    real = stream != _SEPARATOR
    terms = term_of_word[stream[real]]
    docs, offsets = docs[real], offsets[real]
    del real
    offset_bits = max(int(spans.max(initial=1)).bit_length(), 1)
    doc_bits = max(size.bit_length(), 1)
    if len(sorted_stems).bit_length() + doc_bits + offset_bits <= 63:
        keys = (terms << (doc_bits + offset_bits)) | (docs << offset_bits) | offsets
        keys.sort()
        terms = keys >> (doc_bits + offset_bits)
        docs = (keys >> offset_bits) & ((1 << doc_bits) - 1)
        offsets = keys & ((1 << offset_bits) - 1)
        del keys
    else:  # too many bits for one key: sort on three
        order = np.lexsort((offsets, docs, terms))
        terms, docs, offsets = terms[order], docs[order], offsets[order]
    boundaries = np.arange(len(sorted_stems) + 1)
    new_posting = np.ones(len(docs), dtype=np.bool_)
    new_posting[1:] = (docs[1:] != docs[:-1]) | (terms[1:] != terms[:-1])
    first = np.flatnonzero(new_posting)
    del new_posting
    in_titles = offsets < notes_start[docs]
    titles = np.add.reduceat(in_titles.astype(np.int64), first) if len(first) else np.empty(0, np.int64)
    del in_titles
    titles = np.minimum(titles, 255)
    totals = np.diff(np.append(first, len(docs)))
    # Each array of a word per occurrence is freed as soon as it is used up, one at a time: freed
    # together on return they held the GIL for 10-20 ms at 50,000 episodes.
    posting_docs = docs[first].astype(np.int32)
    del docs
    occurrence_offsets = offsets.astype(np.uint16)
    del offsets
    posting_starts = np.searchsorted(terms[first], boundaries).astype(np.int64)
    occurrence_starts = np.searchsorted(terms, boundaries).astype(np.int64)
    del terms
    lengths = (spans - 2).astype(np.float64)
    return InvertedIndex(
        size=size,
        lengths=lengths,
        words=float(lengths.sum()),
        notes_start=notes_start,
        stems=sorted_stems,
        posting_starts=posting_starts,
        posting_docs=posting_docs,
        posting_titles=titles.astype(np.uint8),
        posting_notes=(totals - titles).astype(np.uint16),
        occurrence_starts=occurrence_starts,
        occurrence_offsets=occurrence_offsets,
    )
