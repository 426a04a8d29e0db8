"""The fixture podcast's 93 episodes, built straight from its catalogue JSON, in a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from bot.db import EpisodeRepository
from bot.models import Episode, StoredEpisode
from bot.search import EpisodeSearch
from tests.conftest import DSH_FIXTURES

SEEN = datetime(2026, 1, 1, tzinfo=UTC)


def catalogue_episode(record: dict[str, Any]) -> Episode:
    return Episode(
        guid=record["guid"],
        title=record["title"],
        number=record["number"],
        published=parsedate_to_datetime(record["pub_date"]).astimezone(UTC),
        duration_seconds=record["duration_seconds"],
        audio_url=record["enclosure"]["url"],
        link=record["link"],
        description=record["description"],
        image=None,
        rebroadcast=record["flags"]["rebroadcast"],
    )


def catalogue_episodes() -> list[Episode]:
    """Newest first, as the feed lists them."""
    records = json.loads((DSH_FIXTURES / "catalogue.json").read_text(encoding="utf-8"))
    return [catalogue_episode(record) for record in records]


@pytest.fixture
async def catalogue(episodes: EpisodeRepository) -> list[StoredEpisode]:
    await episodes.upsert_many(catalogue_episodes(), seen_at=SEEN)
    return await episodes.all()


@pytest.fixture
def search(episodes: EpisodeRepository) -> EpisodeSearch:
    return EpisodeSearch(episodes)


@pytest.fixture
def by_guid(catalogue: list[StoredEpisode]) -> dict[str, StoredEpisode]:
    return {episode.guid: episode for episode in catalogue}
