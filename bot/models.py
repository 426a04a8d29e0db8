"""Domain records shared by the feed parser, the database and the cogs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Episode:
    """One podcast episode as normalised from a feed item."""

    guid: str
    title: str
    number: int | None
    published: datetime | None  # timezone-aware, UTC
    duration_seconds: int | None
    audio_url: str | None
    link: str | None
    description: str  # plain text: no HTML, entities decoded, whitespace tidied
    image: str | None
    rebroadcast: bool


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What one parse of a feed document yields."""

    title: str
    link: str | None
    image: str | None
    episodes: tuple[Episode, ...]
    # itunes:new-feed-url: the podcast's feed now lives there (Apple's way of moving a feed).
    new_feed_url: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEpisode(Episode):
    """An episode as the database holds it."""

    id: int
    first_seen: datetime
