"""Domain records shared by the feed parser, the database and the cogs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Person:
    """A podcast:person of an item: someone who took part, with their role (the namespace's default
    role is "host"; guests are "guest")."""

    name: str
    role: str  # lower-case
    href: str | None = None


@dataclass(frozen=True, slots=True)
class TranscriptLink:
    """A podcast:transcript: where a transcript of the episode lives, and its declared format."""

    url: str
    mime_type: str  # lower-case, "" when the feed gave none
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Soundbite:
    """A podcast:soundbite: a moment the podcaster recommends, for a preview."""

    start_seconds: float
    duration_seconds: float
    title: str


# Machine-readable first: cues with times make moments a listener can jump to; HTML and plain text
# are for people (HTML may carry times, plain text never does).
_SEARCHABLE_RANK = {
    "text/vtt": 0,
    "application/x-subrip": 0,
    "application/srt": 0,
    "text/srt": 0,
    "application/json": 1,
    "text/html": 2,
    "text/plain": 3,
}
_READABLE_RANK = {"text/html": 0, "text/plain": 1}


@dataclass(frozen=True, slots=True)
class PodcastTags:
    """What an item's Podcasting 2.0 tags (https://podcastindex.org/namespace/1.0) say."""

    season: int | None = None
    season_name: str | None = None
    transcripts: tuple[TranscriptLink, ...] = ()
    chapters_url: str | None = None
    persons: tuple[Person, ...] = ()
    soundbites: tuple[Soundbite, ...] = ()

    @property
    def guests(self) -> tuple[str, ...]:
        return tuple(person.name for person in self.persons if person.role == "guest")

    @property
    def searchable_transcript(self) -> TranscriptLink | None:
        """The transcript to index: the richest format (timed cues) the feed offers."""
        return min(self.transcripts, key=_rank(_SEARCHABLE_RANK), default=None)

    @property
    def readable_transcript(self) -> TranscriptLink | None:
        """The transcript to show a person: HTML or plain text when offered, else any other."""
        return min(self.transcripts, key=_rank(_READABLE_RANK), default=None)


def _rank(ranks: dict[str, int]) -> Callable[[TranscriptLink], int]:
    return lambda link: ranks.get(link.mime_type, len(ranks))


NO_TAGS = PodcastTags()


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
    tags: PodcastTags = field(default=NO_TAGS, kw_only=True)


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
