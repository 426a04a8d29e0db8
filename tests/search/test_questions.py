"""Search quality on listener questions: top-1 and top-3 per set and per kind (`pytest -s` prints them)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from bot.models import StoredEpisode
from bot.search import EpisodeSearch
from tests.search.listener_questions import QUESTIONS

SPLITS = ("tune", "seen", "heldout")
# The goals for the held-out set: top-3 0.90, top-1 0.75. The floors are what the held-out
# set measured when it was evaluated, once, after round 7 of tuning ended (2026-12-02): both goals
# met on it, not on every earlier round's set (round 6's: top-1 52%, top-3 70%; listener_questions.py
# has them all). They guard the ranking: it cannot get worse unnoticed.
HELDOUT_GOAL_TOP3, HELDOUT_GOAL_TOP1 = 0.90, 0.75
HELDOUT_FLOOR_TOP3, HELDOUT_FLOOR_TOP1 = 0.90, 0.80


def _rate(results: list[bool]) -> float:
    return sum(results) / len(results)


def test_the_question_set_is_well_formed(by_guid: dict[str, StoredEpisode]) -> None:
    assert len([entry for entry in QUESTIONS if entry[0] == "tune"]) >= 80
    assert len([entry for entry in QUESTIONS if entry[0] == "heldout"]) >= 40
    assert {split for split, _, _, _ in QUESTIONS} == set(SPLITS)
    assert all(guids for _, _, _, guids in QUESTIONS)
    assert {guid for *_, guids in QUESTIONS for guid in guids} <= set(by_guid)
    queries = [query.casefold() for _, _, query, _ in QUESTIONS]
    assert len(queries) == len(set(queries))


@pytest.mark.timeout(30)
async def test_listener_questions_find_the_episodes_they_mean(
    search: EpisodeSearch, by_guid: dict[str, StoredEpisode], capsys: pytest.CaptureFixture[str]
) -> None:
    top1: dict[tuple[str, str], list[bool]] = defaultdict(list)
    top3: dict[tuple[str, str], list[bool]] = defaultdict(list)
    misses: dict[str, list[str]] = defaultdict(list)
    for split, kind, query, expected in QUESTIONS:
        hits = [hit.episode.guid for hit in await search.search(query, limit=3)]
        top1[split, kind].append(bool(hits) and hits[0] in expected)
        top3[split, kind].append(any(guid in expected for guid in hits))
        if not top1[split, kind][-1]:
            misses[split].append(f"  {query!r}: expected {expected}, got {hits}")

    totals: dict[str, tuple[float, float]] = {}
    with capsys.disabled():
        for split in SPLITS:
            ones = [hit for (s, _), results in top1.items() if s == split for hit in results]
            threes = [hit for (s, _), results in top3.items() if s == split for hit in results]
            totals[split] = (_rate(ones), _rate(threes))
            print(f"\nlistener questions, {split}, n={len(ones)}: top-1 {_rate(ones):6.1%}, ", end="")
            print(f"top-3 {_rate(threes):6.1%}")
            for s, kind in sorted(top1):
                if s == split:
                    print(
                        f"  {kind:<12} n={len(top1[s, kind]):>2}  top-1 {_rate(top1[s, kind]):6.1%}  "
                        f"top-3 {_rate(top3[s, kind]):6.1%}"
                    )
            if split != "heldout":  # the held-out misses are not shown: nobody tunes on them
                print("\n".join(["not first:", *misses[split]]) if misses[split] else "all first")
        print(f"held-out goals: top-3 {HELDOUT_GOAL_TOP3:.0%}, top-1 {HELDOUT_GOAL_TOP1:.0%}")

    heldout_top1, heldout_top3 = totals["heldout"]
    assert heldout_top3 >= HELDOUT_FLOOR_TOP3
    assert heldout_top1 >= HELDOUT_FLOOR_TOP1
