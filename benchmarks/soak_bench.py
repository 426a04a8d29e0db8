"""Soak benchmark: the real bot against the Discord emulator's real limits, many servers and episodes,
seeded random faults (429 bursts, 5xx runs, lost responses, Cloudflare's ban, gateway drops, restarts
hours apart) on a clock moved forward; then every (server, episode) is counted from what Discord stored.

    .venv/bin/python benchmarks/soak_bench.py [--seeds 1 2 3 4 5] [--servers 30] [--episodes 20] [--steps 40]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e.soak import SoakReport, soak


async def main(seeds: list[int], servers: int, episodes: int, steps: int) -> int:
    logging.basicConfig(level=logging.CRITICAL)
    header = (
        "seed",
        "expected",
        "delivered",
        "dupes",
        "missing",
        "order",
        "requests",
        "invalid",
        "faults",
        "s",
    )
    print("  ".join(f"{column:>9}" for column in header))
    reports: list[SoakReport] = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            report = await soak(
                seed,
                servers=servers,
                episodes=episodes,
                steps=steps,
                workdir=Path(scratch),
                log=lambda _: None,
            )
            seconds = time.perf_counter() - started
        reports.append(report)
        faults = sum(count for kind, count in report.faults.items() if kind != "none")
        row = (
            seed,
            report.expected,
            report.delivered,
            report.duplicates,
            report.missing,
            report.out_of_order,
            report.requests,
            report.invalid_requests,
            faults,
            f"{seconds:.0f}",
        )
        print("  ".join(f"{value!s:>9}" for value in row))
    exact = sum(report.exact for report in reports)
    print(f"{exact} of {len(reports)} runs exact: every (server, episode) once, in order")
    return 0 if exact == len(reports) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--servers", type=int, default=30)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--steps", type=int, default=40)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.seeds, arguments.servers, arguments.episodes, arguments.steps)))
