"""The search engine: an in-memory view of the catalogue, ranking through FTS5, rebroadcasts folded."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import heapq
import itertools
import logging
import math
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.db import EpisodeRepository
from bot.db.search_index import TITLE_OR_GUESTS, CatalogueEntry, CatalogueRows, SearchIndex
from bot.episode_facts import bare_title_folded, rebroadcast_key
from bot.models import StoredEpisode
from bot.search.query import CoverageStep, Term, Vocabulary, coverage_steps, fts_phrase, parse_query
from bot.search.text import MAX_QUERY_CHARS, episode_number_in, spelling_variants
from bot.text import WORD, fold

log = logging.getLogger(__name__)

RANK_WINDOW = 1500  # see SearchIndex.ranked
COMMON_FRACTION = 0.8  # a term matching more of the catalogue than this is left out
TITLE_BONUS = 0.1  # bands are 0.25 apart; bm25 adds at most 0.1 within one
SAME_NOTES_MIN_CHARS = 80  # a rebroadcast with an original's exact notes (this long) is that episode
EXACT_SCORE = float("inf")
STEP_ASIDE_EVERY = 500  # titles or words a rebuild handles between two looks for searches
STEP_ASIDE_MAX = 0.05  # seconds a rebuild waits for searches at each look
FRESH_WAIT = 0.5  # seconds a search waits for a rebuild before answering from the previous view
QUESTION_CANDIDATES = 30  # a question's best episodes by FTS5's bm25, scored again term by term
BM25_PART_MAX = 100.0  # FTS5 gives a phrase found in most episodes the rarity 1e-6
QUESTION_WINDOW = 500  # see _rarer_terms
QUESTION_TERMS = 3  # this many terms or more (stop words left out): a question or a sentence


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: an episode, how well it matched, and the rebroadcasts shown as part of it."""

    episode: StoredEpisode
    score: float  # higher is better
    rebroadcasts: tuple[StoredEpisode, ...] = ()  # later airings folded into this episode


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
    def build(
        cls, entries: Sequence[CatalogueEntry], step_aside: Callable[[], object] = lambda: None
    ) -> _Titles:
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
        sorted_words = tuple(sorted(postings))
        return cls(
            entries=tuple(entries),
            words=tuple(words),
            postings={word: tuple(positions) for word, positions in postings.items()},
            sorted_words=sorted_words,
            postings_before=(0, *itertools.accumulate(len(postings[word]) for word in sorted_words)),
            openings=tuple(
                sorted((bare_title_folded(entry.title), position) for position, entry in enumerate(entries))
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


def _rarer_terms(terms: Sequence[Term]) -> list[Term]:
    """A question's rarer terms: together they match at most QUESTION_WINDOW episodes (the rarest
    is always one). They pick and score its episodes: ranking every episode that has a common word
    costs a microsecond each, and such a word weighs next to nothing in bm25 anyway.
    """
    chosen: list[Term] = []
    for term in sorted(terms, key=lambda term: term.documents):
        if chosen and sum(other.documents for other in chosen) + term.documents > QUESTION_WINDOW:
            break
        chosen.append(term)
    return chosen


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

    def __init__(self, episodes: EpisodeRepository, *, fresh_wait: float = FRESH_WAIT) -> None:
        self._episodes = episodes
        self._index = SearchIndex(episodes.database)
        self._fresh_wait = fresh_wait
        self._snapshot: _Snapshot | None = None
        self._rebuild: asyncio.Task[_Snapshot] | None = None
        self._answers_running = 0
        self._no_answer_running = threading.Event()  # a rebuild pauses while it is clear
        self._no_answer_running.set()

    @contextlib.contextmanager
    def _answering(self) -> Iterator[None]:
        """Marks a search or a completion under way: a rebuild in its thread steps aside meanwhile.

        Sharing the GIL with a thread that never waits, the event loop and SQLite's thread each wait
        a switch interval (5 ms) for it after every row fetched: at 50,000 episodes a search during a
        rebuild took a second.
        """
        self._answers_running += 1
        self._no_answer_running.clear()
        try:
            yield
        finally:
            self._answers_running -= 1
            if not self._answers_running:
                self._no_answer_running.set()

    def _step_aside(self) -> None:
        """Called by a rebuild now and then: wait (a little at most) for the searches under way."""
        self._no_answer_running.wait(STEP_ASIDE_MAX)

    async def search(
        self, query: str, *, limit: int = 10, include_rebroadcasts: bool = False
    ) -> list[SearchHit]:
        """The best episodes for `query`, at most `limit`; each rebroadcast folded into its original
        unless `include_rebroadcasts`. Never raises on what a user typed.
        """
        if limit <= 0:
            return []
        snapshot = await self._current()
        with self._answering():
            return await self._search(snapshot, query, limit, include_rebroadcasts)

    async def _search(
        self, snapshot: _Snapshot, query: str, limit: int, include_rebroadcasts: bool
    ) -> list[SearchHit]:
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
        if len(terms) >= QUESTION_TERMS:
            ranked = await self._question_ranked(snapshot, terms, steps[0], limit)
            return await self._arrange(snapshot, ranked, limit, include_rebroadcasts)
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

    async def _question_ranked(
        self, snapshot: _Snapshot, terms: list[Term], every_term: CoverageStep, limit: int
    ) -> dict[int, float]:
        """A question or a sentence. Every term in a title or the guests comes first; every term
        anywhere would mostly mean the longest notes, so bm25 ranks the rest, computed here term by
        term: FTS5 weighs each spelling and synonym by its own rarity, and a rare spelling of a
        common word would outweigh a rare word. Here a term weighs its rarity with all its names, and
        an episode scores by the best of them.
        """
        episodes = len(snapshot.titles.entries)
        ranked: dict[int, float] = {}
        title_step = f"{TITLE_OR_GUESTS}({every_term.expression})"
        for episode_id, bm25 in await self._index.ranked(title_step, limit=limit + 5, window=None):
            ranked[episode_id] = 1.0 + TITLE_BONUS + 0.1 * -bm25 / (1.0 - bm25)
        terms = _rarer_terms(terms)
        matching = sum(term.documents for term in terms)
        batch = await self._index.ranked(
            " OR ".join(term.fts(widened=True) for term in terms),
            limit=QUESTION_CANDIDATES,
            window=QUESTION_WINDOW if matching > QUESTION_WINDOW else None,
            exclude=list(ranked),
        )
        candidates = [episode_id for episode_id, _ in batch]
        if not candidates:
            return ranked
        phrases: list[tuple[int, str]] = []  # (term, one of its phrases)
        for number, term in enumerate(terms):
            phrases.extend((number, phrase) for phrase in term.phrases())
            phrases.extend((number, fts_phrase(name)) for name in term.related)
        expressions = [phrase for _, phrase in phrases]
        counts = await self._index.match_counts(expressions)
        scored = await self._index.scored_among(expressions, candidates)
        best: dict[tuple[int, int], float] = {}  # (term, episode) -> its best phrase's share
        for index, episode_id, bm25 in scored:
            number = phrases[index][0]
            # FTS5's bm25 for one phrase is its rarity times a term frequency part: keep the latter.
            rarity = max(math.log((episodes - counts[index] + 0.5) / (counts[index] + 0.5)), 1e-6)
            share = min(-bm25 / rarity, BM25_PART_MAX)
            best[number, episode_id] = max(best.get((number, episode_id), 0.0), share)
        for episode_id in candidates:
            score = 0.0
            for number, term in enumerate(terms):
                rarity = math.log(1.0 + (episodes - term.documents + 0.5) / (term.documents + 0.5))
                score += rarity * best.get((number, episode_id), 0.0)
            ranked[episode_id] = 0.5 + 0.1 * score / (1.0 + score)
        return ranked

    async def _terms(self, query: str, vocabulary: Vocabulary, episodes: int) -> list[Term]:
        """The query's terms, each weighed by how many episodes it really matches, none matching none."""
        terms = parse_query(query, vocabulary)
        unsure = [term.source for term in terms if term.documents == 0]
        if unsure:
            # Words missing from the unstemmed vocabulary may match once stemmed; the others are typos.
            stemmed = await self._index.match_counts([fts_phrase(tuple(word.split())) for word in unsure])
            terms = parse_query(query, vocabulary, dict(zip(unsure, stemmed, strict=True)))
        if len(terms) == 1:
            # Nothing to weigh against: skip counting, and rank it as if it matched everything
            # (in the window), since a lone common word may well match thousands of episodes.
            return [replace(terms[0], documents=episodes)]
        counts = await self._index.match_counts([term.fts(widened=True) for term in terms])
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
        with self._answering():
            return await self._autocomplete(snapshot, prefix, limit, include_rebroadcasts)

    async def _autocomplete(
        self, snapshot: _Snapshot, prefix: str, limit: int, include_rebroadcasts: bool
    ) -> list[SearchHit]:
        titles = snapshot.titles
        words = WORD.findall(fold(unicodedata.normalize("NFKC", prefix)[:MAX_QUERY_CHARS]))
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
        """The in-memory view of the catalogue, rebuilt off the event loop when the catalogue changed.

        While a rebuild runs, a search waits for it at most `fresh_wait` seconds, then answers from
        the previous view (the full-text index it ranks with is always current).
        """
        generation = await self._index.generation()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.generation == generation:
            return snapshot
        if self._rebuild is None or self._rebuild.done():
            self._rebuild = asyncio.create_task(self._rebuilt(), name="search-rebuild")
        rebuild = asyncio.shield(self._rebuild)
        if snapshot is None:
            return await rebuild
        try:
            async with asyncio.timeout(self._fresh_wait):
                return await rebuild
        except TimeoutError:
            log.debug("Search answered from generation %d while rebuilding", snapshot.generation)
            return snapshot

    async def _rebuilt(self) -> _Snapshot:
        await self._index.fill_missing_guests()
        writing = self._index.writing()
        rows = await self._index.catalogue_rows(SAME_NOTES_MIN_CHARS)
        snapshot = await asyncio.to_thread(_build_without_collector_pauses, rows, self._step_aside)
        log.debug("Search caches rebuilt at generation %d: %d episodes", rows.generation, len(rows.catalogue))
        # Freeing a view's hundreds of thousands of objects takes milliseconds: done in a thread.
        retired = [rows, self._snapshot]
        del rows
        # Another coroutine's open transaction shows its rows before they are committed; were it
        # rolled back, a cached copy would keep them under a generation number used again later.
        if not (writing or self._index.writing()):
            self._snapshot = snapshot
        else:
            retired.pop()
        await asyncio.to_thread(retired.clear)
        return snapshot


_collector_lock = threading.Lock()
_builds_running = 0
_collector_was_enabled = True


def _build_without_collector_pauses(rows: CatalogueRows, step_aside: Callable[[], object]) -> _Snapshot:
    """_build_snapshot with the cyclic garbage collector paused, then the heap frozen.

    The build allocates hundreds of thousands of objects; each full collection they trigger walks
    the whole heap (the previous view included) holding the GIL, which stalled the event loop for
    30-120 ms. A view holds no reference cycles, so reference counting frees the old one; freezing
    moves what is alive now out of the collector's reach, so later collections stay short.
    """
    global _builds_running, _collector_was_enabled
    with _collector_lock:
        if _builds_running == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _builds_running += 1
    try:
        return _build_snapshot(rows, step_aside)
    finally:
        with _collector_lock:
            _builds_running -= 1
            if _builds_running == 0:
                gc.freeze()
                if _collector_was_enabled:
                    gc.enable()


def _build_snapshot(rows: CatalogueRows, step_aside: Callable[[], object] = lambda: None) -> _Snapshot:
    """The in-memory view from the rows fetched (pure, and run in a worker thread)."""
    entries = [CatalogueEntry(row[0], row[1], row[2], bool(row[3])) for row in rows.catalogue]
    by_description = {int(row[0]): int(row[1]) for row in rows.originals_by_description}
    original_of = _originals(entries, by_description)
    rebroadcasts_of: dict[int, list[int]] = {}
    for entry in reversed(entries):  # oldest first
        if entry.id in original_of:
            rebroadcasts_of.setdefault(original_of[entry.id], []).append(entry.id)
    return _Snapshot(
        generation=rows.generation,
        vocabulary=Vocabulary(
            dict(zip(rows.words.split(), map(int, rows.word_documents.split()), strict=True)),
            rows.stems.split(),
            step_aside=step_aside,
        ),
        titles=_Titles.build(entries, step_aside),
        original_of=original_of,
        rebroadcasts_of={original: tuple(ids) for original, ids in rebroadcasts_of.items()},
    )
