"""The search engine: ranks an in-memory view of the catalogue, kept current off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from bot.db import EpisodeRepository
from bot.db.search_index import CatalogueEntry, SearchIndex
from bot.models import StoredEpisode
from bot.search import steps
from bot.search import view as views
from bot.search.english import phrase_weight
from bot.search.query import Term, parse_query
from bot.search.ranking import Found, find, phrase_documents, ranked
from bot.search.text import MAX_QUERY_CHARS, episode_number_in
from bot.search.titles import Titles
from bot.search.view import Recent, Snapshot, View
from bot.text import WORD, fold

log = logging.getLogger(__name__)

COMMON_FRACTION = 0.8  # a term matching more of the catalogue than this is left out
EXACT_SCORE = float("inf")
STEP_ASIDE_MAX = 0.05  # seconds a rebuild waits for searches at each look
FRESH_WAIT = 0.5  # seconds a search waits for a rebuild before answering from the previous view
RELEASE_PATIENCE = 2.0  # seconds a retired view waits for the searches under way before it is freed
QUESTION_TERMS = 3  # this many terms or more (stop words left out): a question or a sentence
SENTENCE_WORDS = 5  # or this many words typed, a name of several words counting as one term
RECENT_ON_LOOP = 20  # episodes stored since the view that are indexed on the loop; more, in a thread
RECENT_MOST = 200  # new episodes indexed apart before the whole view is rebuilt with them
REBUILD_RETRY = 60.0  # seconds after a failed rebuild (MemoryError...) before the next one: the
# previous view answers meanwhile


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: an episode, how well it matched, and the rebroadcasts shown as part of it."""

    episode: StoredEpisode
    score: float  # higher is better
    rebroadcasts: tuple[StoredEpisode, ...] = ()  # later airings folded into this episode


def _numbered_hits(
    snapshot: Snapshot, numbered: list[StoredEpisode], limit: int, include_rebroadcasts: bool
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


class EpisodeSearch:
    """The one search function behind the slash commands and `python -m bot search`."""

    def __init__(self, episodes: EpisodeRepository, *, fresh_wait: float = FRESH_WAIT) -> None:
        self._episodes = episodes
        self._index = SearchIndex(episodes.database)
        self._fresh_wait = fresh_wait
        self._snapshot: Snapshot | None = None
        self._recent: Recent | None = None
        self._rebuild: asyncio.Task[Snapshot] | None = None
        self._failed_at: float | None = None  # when the last rebuild failed (loop time)
        self._releases: set[asyncio.Task[None]] = set()  # retired views being freed in a thread
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

    def _answers_done(self) -> None:
        """Called before a retired view is freed: wait (a little at most) for the searches under way,
        which may still rank with it."""
        self._no_answer_running.wait(RELEASE_PATIENCE)

    async def search(
        self, query: str, *, limit: int = 10, include_rebroadcasts: bool = False
    ) -> list[SearchHit]:
        """The best episodes for `query`, at most `limit`; each rebroadcast folded into its original
        unless `include_rebroadcasts`. Never raises on what a user typed.
        """
        if limit <= 0:
            return []
        current = await self._current()
        with self._answering():
            return await self._search(current, query, limit, include_rebroadcasts)

    async def _search(
        self, current: View, query: str, limit: int, include_rebroadcasts: bool
    ) -> list[SearchHit]:
        snapshot = current.snapshot
        number = episode_number_in(query)
        if number is not None:
            numbered = await self._episodes.by_number(number)
            if numbered:
                return _numbered_hits(snapshot, numbered, limit, include_rebroadcasts)
        terms = _terms(current, query)
        if not terms:
            return []
        found = [one for _, one in terms]
        # A question's everyday words say less than the field's (english.py); keywords are all meant.
        question = len(terms) >= QUESTION_TERMS or len(WORD.findall(query)) >= SENTENCE_WORDS
        weights = [phrase_weight(term.source.split()) for term, _ in terms] if question else None
        indexes = [part.index for part in current.parts]
        wanted = 2 * limit + 10
        while True:
            best = ranked(found, indexes, weights=weights, wanted=wanted)
            scores: dict[int, float] = {}
            for hit in best:
                scores.setdefault(int(current.parts[hit.part].ids[hit.position]), hit.score)
            groups = {snapshot.canonical(episode_id) for episode_id in scores}
            # Rebroadcasts folded into their originals can leave fewer than `limit`: rank further.
            if len(groups) >= limit or len(best) < wanted:
                break
            wanted *= 4
        return await self._arrange(snapshot, scores, limit, include_rebroadcasts)

    async def autocomplete(
        self, prefix: str, *, limit: int = 25, include_rebroadcasts: bool = False
    ) -> list[CatalogueEntry]:
        """Titles matching what has been typed so far (every word as a prefix), newest first, titles
        that start with the text ahead; an episode number first. Empty text: the latest episodes.

        Answered from the titles held in memory, without a round trip to SQLite: a listener's every
        keystroke asks, and fetching 25 rows cost more than finding them.
        """
        if limit <= 0:
            return []
        current = await self._current()
        with self._answering():
            return self._autocomplete(current, prefix, limit, include_rebroadcasts)

    def _autocomplete(
        self, current: View, prefix: str, limit: int, include_rebroadcasts: bool
    ) -> list[CatalogueEntry]:
        snapshot = current.snapshot
        words = WORD.findall(fold(unicodedata.normalize("NFKC", prefix)[:MAX_QUERY_CHARS]))
        if words:
            # A word no title has: its closest title word, or else leave it out.
            titles = snapshot.catalogue.titles
            if not all(any(part.titles.titles_with(word) for part in current.parts) for word in words):
                fixed = [word if titles.titles_with(word) else titles.corrected(word) for word in words]
                words = [word for word in fixed if word is not None]
                if not words:
                    return []
        number = episode_number_in(prefix)
        entries = itertools.chain.from_iterable(
            _completions(part.titles, words, number, limit) for part in current.parts
        )
        suggested: list[CatalogueEntry] = []
        seen: set[int] = set()
        for entry in entries:
            if not (include_rebroadcasts or words or entry.id not in snapshot.original_of):
                continue  # nothing typed: a rebroadcast of an older episode is left to its original
            original = None if include_rebroadcasts else snapshot.original_of.get(entry.id)
            shown = entry if original is None else snapshot.originals[original]
            if shown.id not in seen:
                seen.add(shown.id)
                suggested.append(shown)
                if len(suggested) == limit:
                    break
        return suggested

    async def _arrange(
        self, snapshot: Snapshot, ranked: Mapping[int, float], limit: int, include_rebroadcasts: bool
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

    async def ready(self) -> None:
        """Returns once the in-memory view holds the catalogue as it is now (new episodes perhaps
        indexed apart), built if need be: for a warm start, and to measure a rebuild whole.
        """
        while await self._rebuild_due():
            if self._rebuild is not None:
                await asyncio.shield(self._rebuild)
        if self._releases:  # the retired view freed too: a rebuild measured whole
            await asyncio.wait(self._releases)

    async def _rebuild_due(self) -> bool:
        """Whether the current view awaits a rebuild. Holds no view past its return: a retired view
        must be left to the thread that frees it (steps.release_in_steps), not freed on the loop."""
        recent = (await self._current()).recent
        return recent is not None and recent.rebuild_due

    async def _current(self) -> View:
        """The in-memory view of the catalogue, rebuilt off the event loop when the catalogue changed.

        The episodes stored since the view was read are indexed apart (a few milliseconds): a new
        episode is found at once, and until an edit, a rebroadcast to fold or RECENT_MOST of them,
        nothing is rebuilt (seconds of CPU at 50,000 episodes, each a chance to delay the loop). A
        change other than insertions waits for the rebuild at most `fresh_wait` seconds, then the
        previous view answers.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._fresh_wait
        snapshot = self._snapshot
        while True:
            generation = await self._index.generation()
            if snapshot is not None and snapshot.generation == generation:
                return View(snapshot)
            if snapshot is None:  # the first view: nothing to answer from meanwhile
                snapshot = await asyncio.shield(self._rebuild_started())
                continue
            recent = await self._recent_since(snapshot, generation)
            if not recent.rebuild_due:
                return View(snapshot, recent)
            if self._failed_at is not None and loop.time() - self._failed_at < REBUILD_RETRY:
                return View(snapshot, recent)  # the last rebuild failed: not tried again at every search
            rebuild = self._rebuild_started()
            if recent.complete or loop.time() >= deadline:
                return View(snapshot, recent)
            try:
                async with asyncio.timeout_at(deadline):
                    snapshot = await asyncio.shield(rebuild)
            except TimeoutError:
                log.debug("Search answered from generation %d while rebuilding", snapshot.generation)
                return View(snapshot, recent)
            except Exception:  # reported by _rebuild_done: the previous view answers meanwhile
                return View(snapshot, recent)

    def _rebuild_started(self) -> asyncio.Task[Snapshot]:
        """The rebuild under way, started if need be (awaited through asyncio.shield: a search that
        stops waiting for it does not cancel it).
        """
        if self._rebuild is None or self._rebuild.done():
            self._rebuild = asyncio.create_task(self._rebuilt(), name="search-rebuild")
            self._rebuild.add_done_callback(self._rebuild_done)
        return self._rebuild

    def _rebuild_done(self, rebuild: asyncio.Task[Snapshot]) -> None:
        # A search that found the view current enough does not wait for the rebuild it started.
        if not rebuild.cancelled() and rebuild.exception() is not None:
            log.warning("Rebuilding the search view failed", exc_info=rebuild.exception())
            self._failed_at = asyncio.get_running_loop().time()
        else:
            self._failed_at = None

    async def _recent_since(self, snapshot: Snapshot, generation: int) -> Recent:
        """The episodes stored since `snapshot` was read, indexed apart."""
        recent = self._recent
        if recent is not None and recent.base is snapshot and recent.generation == generation:
            return recent
        writing = self._index.writing()
        rows = await self._index.episodes_after(snapshot.last_id)
        if len(rows) <= RECENT_ON_LOOP:
            part = views.build_recent(rows)
        else:
            part = await asyncio.to_thread(views.build_recent, rows, self._step_aside)
        # Each insertion counts one generation: if that is all that happened, nothing else is stale.
        complete = generation - snapshot.generation == len(rows) and not writing
        # A rebroadcast is folded into its original by the whole view's titles and notes.
        rebuild_due = not complete or len(rows) > RECENT_MOST or any(row[3] for row in rows)
        recent = Recent(generation, snapshot, part, complete, rebuild_due)
        if not (writing or self._index.writing()):  # uncommitted rows are not remembered
            self._recent = recent
        return recent

    async def _rebuilt(self) -> Snapshot:
        await self._index.fill_missing_guests()
        writing = self._index.writing()
        rows = await self._index.catalogue_rows()
        snapshot = await asyncio.to_thread(views.build_off_the_loop, rows, self._step_aside)
        log.debug("Search caches rebuilt at generation %d: %d episodes", rows.generation, len(rows.episodes))
        # Freeing a view's hundreds of thousands of objects takes tens of ms: done in a thread, in steps.
        retired: list[object] = [rows, self._snapshot, self._recent]
        del rows
        # Another coroutine's open transaction shows its rows before they are committed; were it
        # rolled back, a cached copy would keep them under a generation number used again later.
        if not (writing or self._index.writing()):
            self._snapshot = snapshot
            self._recent = None
        else:
            del retired[1:]
        # Not awaited: the searches still ranking with the old view may be waiting for this rebuild,
        # and the release waits for them to be done with it.
        release = asyncio.create_task(
            asyncio.to_thread(steps.release_in_steps, retired, self._answers_done), name="search-release"
        )
        self._releases.add(release)
        release.add_done_callback(self._releases.discard)
        return snapshot


def _terms(current: View, query: str) -> list[tuple[Term, Found]]:
    """The query's terms and where they occur, none matching nothing; one found almost everywhere
    says nothing about the episode (the rarest term is kept, whatever it is).
    """
    indexes = [part.index for part in current.parts]
    vocabulary = current.snapshot.vocabulary
    terms = parse_query(query, vocabulary)
    unsure = [term.source for term in terms if term.documents == 0]
    # A name of several words, estimated from its words, may be nowhere as a phrase.
    names = {term: find(term, indexes) for term in terms if " " in term.source}
    absent = [term.source for term, one in names.items() if not one.documents]
    if unsure or absent:
        # Words missing from the unstemmed vocabulary may match once stemmed; the others are typos.
        stemmed = {source: phrase_documents(tuple(source.split()), indexes) for source in unsure}
        terms = parse_query(query, vocabulary, stemmed | dict.fromkeys(absent, 0))
    found = [(term, names.get(term) or find(term, indexes)) for term in terms]
    found = [(term, one) for term, one in found if one.documents]
    if not found:
        return []
    episodes = sum(index.size for index in indexes)
    rarest = min(found, key=lambda pair: pair[1].documents)
    return [pair for pair in found if pair is rarest or pair[1].documents <= COMMON_FRACTION * episodes]


def _completions(
    titles: Titles, words: list[str], number: int | None, limit: int
) -> Iterable[CatalogueEntry]:
    """Entries of one part whose title matches: its episode number first, then titles that start
    with the text, then every word as a prefix; nothing typed, every title; newest first.
    """
    if not words:
        return titles.entries
    positions = itertools.chain(
        titles.by_number.get(number, ()) if number is not None else (),
        titles.opening_with(" ".join(words), 2 * limit),
        titles.matching(words) if all(titles.titles_with(word) for word in words) else (),
    )
    return (titles.entries[position] for position in positions)
