"""Search benchmark: 10,000 synthetic episodes, search and autocomplete latency against a LIKE scan.

Run: python benchmarks/search_bench.py [--episodes 10000] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.db import Database, EpisodeRepository  # noqa: E402
from bot.models import Episode  # noqa: E402
from bot.search import EpisodeSearch  # noqa: E402

CATALOGUE = ROOT / "tests" / "fixtures" / "datascienceathome" / "catalogue.json"
SEARCH_TARGET_MS = 5.0
AUTOCOMPLETE_TARGET_MS = 2.0
_MARKERS = re.compile(
    r"\[RB\]|\((?:Rebroadcast|rebroadcast)\)|\[Rebroadcast\]|^Episode \d+:\s*|\s*\(Ep\. \d+\)"
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
# Word lists read better as text.
SYLLABLES = "ka lo mi ra ven tor qu ix el an dro fi sel pa nu zo ber gan lum tec".split()  # noqa: SIM905
FIRST_NAMES = """
    Aaron Ada Alan Alice Amir Ana Anna Ben Carla Chen Chris Clara Dan David Elena Emma Eva Felix Filip Grace
    Hannah Hugo Ines Ivan Jakub James Jana Jon Julia Kai Karin Lars Lea Leo Lucia Maria Marco Maya Mei Nina
    Noah Olga Omar Pablo Paula Petra Priya Raj Rosa Sam Sara Sofia Stanisław Tom Uma Victor Yuki Zoe
""".split()  # noqa: SIM905
LAST_NAMES = """
    Andersson Bauer Bilbro Brown Castner Chen Costa Dubois Fernández García Gokaslan Hansen Ivanova Jansen
    Jastrzębski Kim Kopec Krohn Kowalski Larsen Martin Meyer Moreau Müller Nakamura Novak Nowak Okafor Park
    Petrov Piękniewski Raschka Rossi Schmidt Silva Skinner Smith Soni Tanaka Ueda Varga Wagner Weber Zhang
""".split()  # noqa: SIM905


def synthetic_catalogue(count: int, seed: int) -> list[Episode]:
    """`count` episodes whose titles and notes recombine the fixture podcast's words and sentences."""
    rng = random.Random(seed)
    records = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    titles = [_MARKERS.sub("", record["title"]).strip() for record in records]
    sentences = [s for record in records for s in _SENTENCE.split(record["description"]) if len(s) > 30]
    vocabulary = sorted({word.lower() for record in records for word in _WORD.findall(record["description"])})
    rare_words = sorted(
        {
            "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            for _ in range(max(1000, count * 2))
        }
    )
    start = datetime(2012, 1, 1, 12, tzinfo=UTC)
    episodes: list[Episode] = []
    for number in range(1, count + 1):
        if episodes and rng.random() < 0.05:
            original = rng.choice(episodes[-200:])
            title = f"[RB] {_MARKERS.sub('', original.title).strip()} (Ep. {number})"
            description = original.description
        else:
            words = rng.choice(titles).split()
            for _ in range(rng.randint(0, 2)):  # vary the title: swap a word for another topic word
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
            guest = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            suffix = f" (with {guest})" if rng.random() < 0.3 else ""
            title = f"{' '.join(words)}{suffix} (Ep. {number})"
            notes = rng.sample(sentences, rng.randint(3, 10))
            # Names of tools, companies and papers: the vocabulary grows with the catalogue.
            names = ", ".join(rng.choice(rare_words).capitalize() for _ in range(rng.randint(2, 6)))
            notes.append(f"References and links: {names}.")
            if suffix:
                notes.insert(0, f"In this episode I speak with {guest}.")
            description = "\n\n".join(notes)
        episodes.append(
            Episode(
                guid=f"bench-{number}",
                title=title,
                number=number,
                published=start + timedelta(hours=12 * number),
                duration_seconds=rng.randint(600, 3600),
                audio_url=f"https://cdn.example/{number}.mp3",
                link=f"https://example.com/{number}/",
                description=description,
                image=None,
                rebroadcast=title.startswith("[RB]"),
            )
        )
    episodes.reverse()  # a feed lists newest first
    return episodes


def query_mix(episodes: Sequence[Episode], seed: int, rounds: int = 2) -> list[tuple[str, str]]:
    """(kind, query): keywords, guest names, prefixes, typos, episode numbers, whole sentences."""
    rng = random.Random(seed + 1)
    return [query for _ in range(rounds) for query in _query_round(episodes, rng)]


def _query_round(episodes: Sequence[Episode], rng: random.Random) -> list[tuple[str, str]]:
    words = sorted({w.lower() for episode in episodes[:500] for w in _WORD.findall(episode.title)})
    long_words = [word for word in words if len(word) >= 7]
    guests = sorted({m.group(1) for e in episodes for m in re.finditer(r"\(with ([^)]+)\)", e.title)})
    queries: list[tuple[str, str]] = []
    for _ in range(60):
        queries.append(("keyword", " ".join(rng.sample(words, rng.choice((1, 2, 2, 3))))))
    for _ in range(20):
        queries.append(("guest", rng.choice(guests).lower()))
    for _ in range(30):
        word = rng.choice(long_words)
        queries.append(("prefix", f"{rng.choice(words)} {word[: rng.randint(3, len(word) - 1)]}"))
    for _ in range(30):
        word = list(rng.choice(long_words))
        position = rng.randrange(1, len(word) - 1)
        edit = rng.choice(("swap", "drop", "double", "replace"))
        if edit == "swap":
            word[position], word[position + 1] = word[position + 1], word[position]
        elif edit == "drop":
            del word[position]
        elif edit == "double":
            word.insert(position, word[position])
        else:
            word[position] = rng.choice("aeioustrn")
        queries.append(("typo", "".join(word)))
    for _ in range(30):
        number = rng.randint(1, len(episodes))
        queries.append(
            ("number", rng.choice((f"{number}", f"ep {number}", f"episode {number}", f"#{number}")))
        )
    for _ in range(30):
        sentence = _WORD.findall(rng.choice(rng.choice(episodes).description.split("\n\n")))
        start = rng.randrange(max(1, len(sentence) - 5))
        queries.append(("sentence", "the one about " + " ".join(sentence[start : start + 5]).lower()))
    rng.shuffle(queries)
    return queries


def typing_sessions(episodes: Sequence[Episode], seed: int) -> list[str]:
    """Every prefix a listener types on the way to a title or a guest's name, plus the empty text."""
    rng = random.Random(seed + 2)
    targets = [_MARKERS.sub("", rng.choice(episodes).title).strip()[:24] for _ in range(40)]
    targets += [rng.choice(FIRST_NAMES) + " " + rng.choice(LAST_NAMES) for _ in range(10)]
    return ["", *(target[:end] for target in targets for end in range(1, len(target) + 1))]


async def like_scan(database: Database, query: str, limit: int = 10) -> list[int]:
    """The baseline: every word as a substring of the title or the notes, newest first."""
    words = re.findall(r"\w+", query.lower())[:8] or [""]
    conditions = " AND ".join(["(title LIKE ? OR description LIKE ?)"] * len(words))
    parameters: list[object] = [f"%{word}%" for word in words for _ in range(2)]
    rows = await database.connection.execute_fetchall(
        f"SELECT id FROM episodes WHERE {conditions} ORDER BY published_at DESC LIMIT ?",
        [*parameters, limit],
    )
    return [int(row[0]) for row in rows]


async def timed(calls: Sequence[Callable[[], Awaitable[object]]]) -> list[float]:
    latencies = []
    for call in calls:
        started = time.perf_counter()
        await call()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(name: str, latencies: Sequence[float]) -> str:
    return (
        f"{name:<26} n={len(latencies):>4}  p50 {percentile(latencies, 0.5):7.3f} ms  "
        f"p95 {percentile(latencies, 0.95):7.3f} ms  p99 {percentile(latencies, 0.99):7.3f} ms  "
        f"max {max(latencies):7.3f} ms  mean {statistics.fmean(latencies):7.3f} ms"
    )


async def run(count: int, seed: int) -> int:
    episodes = synthetic_catalogue(count, seed)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench.sqlite3"
        database = await Database.open(path)
        try:
            repository = EpisodeRepository(database)
            started = time.perf_counter()
            await repository.upsert_many(episodes, seen_at=datetime(2026, 1, 1, tzinfo=UTC))
            ingest_seconds = time.perf_counter() - started
            rss_before_mib = peak_rss_mib()
            search = EpisodeSearch(repository)
            started = time.perf_counter()
            await search.search("warm up")
            cold_ms = (time.perf_counter() - started) * 1000

            queries = query_mix(episodes, seed)
            prefixes = typing_sessions(episodes, seed)
            search_ms = await timed([lambda q=q: search.search(q, limit=10) for _, q in queries])
            like_ms = await timed([lambda q=q: like_scan(database, q) for _, q in queries])
            complete_ms = await timed([lambda p=p: search.autocomplete(p, limit=25) for p in prefixes])
            rss_after_mib = peak_rss_mib()
            # What an engine keeps in memory (vocabulary, titles, rebroadcast map): traced on a
            # second engine, after the timed runs, which tracing would have slowed.
            tracemalloc.start()
            second = EpisodeSearch(repository)
            await second.search("warm up")
            caches_mib = tracemalloc.get_traced_memory()[0] / 2**20
            tracemalloc.stop()

            await database.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db_bytes = path.stat().st_size
            sizes = await database.connection.execute_fetchall(
                "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY sum(pgsize) DESC LIMIT 8"
            )
        finally:
            await database.close()

    print(f"catalogue: {count} synthetic episodes (seed {seed}), ingested in {ingest_seconds:.1f} s")
    print(f"first search (builds the in-memory caches): {cold_ms:.1f} ms")
    print(summary("search (all)", search_ms))
    for kind in sorted({kind for kind, _ in queries}):
        print(
            summary(
                f"  search: {kind}", [ms for (k, _), ms in zip(queries, search_ms, strict=True) if k == kind]
            )
        )
    print(summary("autocomplete (as typed)", complete_ms))
    print(summary("baseline: LIKE scan", like_ms))
    ratio_p50 = percentile(like_ms, 0.5) / percentile(search_ms, 0.5)
    ratio_p95 = percentile(like_ms, 0.95) / percentile(search_ms, 0.95)
    print(f"LIKE scan / search: p50 x{ratio_p50:.1f}, p95 x{ratio_p95:.1f}")
    print(
        f"memory: peak RSS {rss_after_mib:.0f} MiB for the whole process ({rss_before_mib:.0f} MiB "
        f"before the first search); search caches {caches_mib:.1f} MiB"
    )
    print(f"database file: {db_bytes / 2**20:.1f} MiB")
    print(
        "largest tables and indexes: " + ", ".join(f"{name} {size / 2**20:.1f} MiB" for name, size in sizes)
    )
    search_ok = percentile(search_ms, 0.95) < SEARCH_TARGET_MS
    complete_ok = percentile(complete_ms, 0.95) < AUTOCOMPLETE_TARGET_MS
    print(f"target search p95 < {SEARCH_TARGET_MS} ms: {'met' if search_ok else 'MISSED'}")
    print(f"target autocomplete p95 < {AUTOCOMPLETE_TARGET_MS} ms: {'met' if complete_ok else 'MISSED'}")
    return 0 if search_ok and complete_ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    return asyncio.run(run(args.episodes, args.seed))


if __name__ == "__main__":
    sys.exit(main())
