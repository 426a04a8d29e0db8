"""Fixtures shared by the whole suite: a real SQLite database with the migrations applied."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.db import Database, EpisodeRepository, FeedRepository
from bot.models import Episode

FIXTURES = Path(__file__).parent / "fixtures"
DSH_FIXTURES = FIXTURES / "datascienceathome"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def episodes(database: Database) -> EpisodeRepository:
    return EpisodeRepository(database)


@pytest.fixture
def feeds(database: Database) -> FeedRepository:
    return FeedRepository(database)


def make_episode(number: int, **changes: object) -> Episode:
    """A plausible episode; tests override only the fields they are about."""
    values: dict[str, object] = {
        "guid": f"guid-{number}",
        "title": f"Episode {number}: a topic",
        "number": number,
        "published": datetime(2019, 1, 1, 12, tzinfo=UTC).replace(day=1 + number % 28),
        "duration_seconds": 1200,
        "audio_url": f"https://cdn.example/{number}.mp3",
        "link": f"https://example.com/{number}/",
        "description": "Plain text notes.",
        "image": None,
        "rebroadcast": False,
    }
    values.update(changes)
    return Episode(**values)  # type: ignore[arg-type]
