"""A suggestion service over a real SQLite database, with a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.community.suggestions import SuggestionService
from bot.db import Database, EpisodeRepository
from bot.db.announcements import AnnouncementRepository
from bot.db.suggestions import SuggestionRepository
from bot.search import EpisodeSearch

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(database: Database) -> AnnouncementRepository:
    return AnnouncementRepository(database)


@pytest.fixture
def service(
    database: Database, episodes: EpisodeRepository, outbox: AnnouncementRepository, clock: Clock
) -> SuggestionService:
    return SuggestionService(
        SuggestionRepository(database),
        search=EpisodeSearch(episodes),
        episodes=episodes,
        outbox=outbox,
        clock=clock,
    )
