"""The engine's in-memory view of the catalogue: built from its rows in a worker thread and swapped in
whole; the episodes stored since are indexed apart, from the few rows the view lacks.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.db.search_index import CatalogueEntry, CatalogueRows, EpisodeRow
from bot.episode_facts import rebroadcast_key
from bot.search import english
from bot.search.field_terms import field_terms
from bot.search.index import Ints, InvertedIndex, build_index
from bot.search.query import Vocabulary
from bot.search.steps import ProcessSetting, split_in_steps, switching_often
from bot.search.titles import Titles

SAME_NOTES_MIN_CHARS = 80  # a rebroadcast with an original's exact notes (this long) is that episode


@dataclass(frozen=True, slots=True)
class Part:
    """Episodes indexed together, newest first: title completion and the full-text index."""

    titles: Titles
    index: InvertedIndex
    ids: Ints  # the episode id at each position

    @property
    def entries(self) -> tuple[CatalogueEntry, ...]:
        return self.titles.entries


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole catalogue as of one generation."""

    generation: int
    vocabulary: Vocabulary
    catalogue: Part
    original_of: Mapping[int, int]  # rebroadcast id -> original id
    rebroadcasts_of: Mapping[int, tuple[int, ...]]  # original id -> its rebroadcasts, oldest first
    originals: Mapping[int, CatalogueEntry]  # original id -> its entry, for each original rebroadcast
    last_id: int  # the greatest episode id it holds: later ones were stored since

    def canonical(self, episode_id: int) -> int:
        return self.original_of.get(episode_id, episode_id)


@dataclass(frozen=True, slots=True)
class Recent:
    """The episodes stored since a snapshot was read (ids past its last one), indexed on their own."""

    generation: int
    base: Snapshot
    part: Part
    complete: bool  # nothing but these insertions happened since: the snapshot and they are current
    rebuild_due: bool  # the snapshot is to be rebuilt: see EpisodeSearch._current


@dataclass(frozen=True, slots=True)
class View:
    """What a search ranks: a snapshot, and the episodes stored since, if any."""

    snapshot: Snapshot
    recent: Recent | None = None

    @property
    def parts(self) -> tuple[Part, ...]:
        """Newest part first."""
        return (
            (self.snapshot.catalogue,) if self.recent is None else (self.recent.part, self.snapshot.catalogue)
        )


def build_recent(rows: Sequence[EpisodeRow], step_aside: Callable[[], object] = lambda: None) -> Part:
    """build_part for rows in any order: as ORDER BY published_at DESC, id DESC, undated ones last."""
    ordered = sorted(rows, key=lambda row: (row[4] is not None, row[4] or "", row[0]), reverse=True)
    return build_part(ordered, step_aside)


def build_part(ordered: Sequence[EpisodeRow], step_aside: Callable[[], object] = lambda: None) -> Part:
    """Title completion and the full-text index of these episodes, newest first (pure: run in a
    worker thread, or on the loop for a few rows).
    """
    entries = [CatalogueEntry(row[0], row[1], row[2], bool(row[3])) for row in ordered]
    return Part(
        titles=Titles.build(entries, step_aside),
        # Generators, not lists: a list of 50,000 tuples, freed in one call, held the GIL for about
        # 12 ms; numpy reading a list of numbers, a few ms.
        index=build_index(((row[2], row[5], row[6]) for row in ordered), step_aside),
        ids=np.fromiter((row[0] for row in ordered), dtype=np.int64, count=len(ordered)),
    )


def build_snapshot(rows: CatalogueRows, step_aside: Callable[[], object] = lambda: None) -> Snapshot:
    """The in-memory view from the rows fetched (pure, and run in a worker thread)."""
    english.warm_up()
    catalogue = build_part(rows.episodes, step_aside)
    catalogue.index.match_ahead(field_terms().phrases, step_aside)
    original_of = _originals(catalogue.entries, _originals_by_notes(rows.episodes))
    rebroadcasts_of: dict[int, list[int]] = {}
    for entry in reversed(catalogue.entries):  # oldest first
        if entry.id in original_of:
            rebroadcasts_of.setdefault(original_of[entry.id], []).append(entry.id)
    return Snapshot(
        generation=rows.generation,
        vocabulary=Vocabulary(_documents(rows), catalogue.index.stems, step_aside=step_aside),
        catalogue=catalogue,
        original_of=original_of,
        rebroadcasts_of={original: tuple(ids) for original, ids in rebroadcasts_of.items()},
        originals={entry.id: entry for entry in catalogue.entries if entry.id in rebroadcasts_of},
        last_id=max((row[0] for row in rows.episodes), default=0),
    )


def _documents(rows: CatalogueRows) -> dict[str, int]:
    """Word -> how many episodes use it, a slice of words at a time."""
    documents: dict[str, int] = {}
    for words, counts in rows.words:
        for word, count in zip(split_in_steps(words), split_in_steps(counts), strict=True):
            documents[word] = int(count)
    return documents


def _originals_by_notes(rows: Sequence[EpisodeRow]) -> dict[int, int]:
    """Rebroadcast id -> the earliest original carrying exactly the same (long enough) notes."""
    earliest: dict[str, int] = {}
    for row in rows:  # newest first: the earliest is written last and wins
        if not row[3] and len(row[6]) >= SAME_NOTES_MIN_CHARS:
            earliest[row[6]] = row[0]
    return {row[0]: earliest[row[6]] for row in rows if row[3] and row[6] in earliest}


def _originals(entries: Sequence[CatalogueEntry], by_notes: Mapping[int, int]) -> dict[int, int]:
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
            elif entry.id in by_notes:
                originals[entry.id] = by_notes[entry.id]
    return originals


def _pause_collector() -> Callable[[], object]:
    was_enabled = gc.isenabled()
    gc.disable()

    def resume() -> None:
        gc.freeze()
        if was_enabled:
            gc.enable()

    return resume


_collector_paused = ProcessSetting(_pause_collector).held


def build_off_the_loop(rows: CatalogueRows, step_aside: Callable[[], object]) -> Snapshot:
    """build_snapshot, run in a worker thread, disturbing the event loop as little as it can: it
    hands over the GIL often (steps.switching_often), and the cyclic garbage collector is paused,
    then the heap frozen.

    The build allocates hundreds of thousands of objects; each full collection they trigger walks
    the whole heap (the previous view included) holding the GIL, which stalled the event loop for
    30-120 ms. A view holds no reference cycles, so reference counting frees the old one; freezing
    moves what is alive now out of the collector's reach, so later collections stay short.
    """
    with _collector_paused(), switching_often():
        return build_snapshot(rows, step_aside)
