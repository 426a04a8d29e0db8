"""A small soak on every run: seeded random faults and restarts hours apart, then every (server,
episode) is in Discord exactly once and in order. benchmarks/soak_bench.py runs bigger ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.soak import soak


@pytest.mark.timeout(240)
@pytest.mark.parametrize("seed", [1, 2])
async def test_every_server_gets_every_episode_once_in_order_whatever_discord_does(
    seed: int, tmp_path: Path
) -> None:
    report = await soak(seed, servers=6, episodes=10, steps=18, workdir=tmp_path, log=lambda _: None)

    assert report.expected == 60
    assert (report.delivered, report.duplicates, report.missing, report.out_of_order) == (60, 0, 0, 0)
    assert sum(report.faults.values()) == 18
