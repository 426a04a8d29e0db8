"""Title completion: every title's words in an inverted index over positions (0 = newest)."""

from __future__ import annotations

import bisect
import heapq
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.db.search_index import CatalogueEntry
from bot.episode_facts import bare_title_folded
from bot.search.steps import release_in_steps, sorted_in_steps
from bot.search.text import spelling_variants
from bot.text import WORD, fold

STEP_ASIDE_EVERY = 500  # titles a build handles between two looks for searches


@dataclass(frozen=True, slots=True)
class Titles:
    """Every title's words, for autocomplete: an inverted index over positions (0 = newest)."""

    entries: tuple[CatalogueEntry, ...]
    words: tuple[tuple[str, ...], ...]  # per position: folded title words and their other spellings
    postings: Mapping[str, tuple[int, ...]]
    sorted_words: tuple[str, ...]
    postings_before: tuple[int, ...]  # [i]: how many postings the words before sorted_words[i] have
    openings: tuple[tuple[str, int], ...]  # (title as read, folded; position), sorted
    by_number: Mapping[int, tuple[int, ...]]

    @classmethod
    def build(
        cls, entries: Sequence[CatalogueEntry], step_aside: Callable[[], object] = lambda: None
    ) -> Titles:
        postings: dict[str, list[int]] = {}
        words: list[tuple[str, ...]] = []
        by_number: dict[int, list[int]] = {}
        for position, entry in enumerate(entries):
            if position % STEP_ASIDE_EVERY == 0:
                step_aside()
            title_words = WORD.findall(fold(entry.title))
            spelled = tuple(dict.fromkeys(itertools.chain(title_words, *map(spelling_variants, title_words))))
            words.append(spelled)
            for word in spelled:
                postings.setdefault(word, []).append(position)
            if entry.number is not None:
                by_number.setdefault(entry.number, []).append(position)
        sorted_words = tuple(sorted_in_steps(postings))
        titles = cls(
            entries=tuple(entries),
            words=tuple(words),
            postings={word: tuple(positions) for word, positions in postings.items()},
            sorted_words=sorted_words,
            postings_before=(0, *itertools.accumulate(len(postings[word]) for word in sorted_words)),
            openings=tuple(
                sorted_in_steps(
                    ((bare_title_folded(entry.title), position) for position, entry in enumerate(entries)),
                    key=operator.itemgetter(0),  # stable: positions stay in order, as if sorted with them
                )
            ),
            by_number={number: tuple(positions) for number, positions in by_number.items()},
        )
        # Freed at once on return, these lists would hold the GIL for 20-30 ms at 50,000 titles.
        temporaries: list[object] = [postings, words, by_number]
        del postings, words, by_number
        release_in_steps(temporaries)
        return titles

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
