"""The episodes table's podcast_tags column: an item's Podcasting 2.0 tags as JSON, and back."""

from __future__ import annotations

import json
from typing import Any

from bot.models import NO_TAGS, Person, PodcastTags, Soundbite, TranscriptLink


def tags_to_json(tags: PodcastTags) -> str | None:
    """None for an item without tags, so that such rows stay as they were before the column."""
    if tags == NO_TAGS:
        return None
    return json.dumps(
        {
            "season": tags.season,
            "season_name": tags.season_name,
            "transcripts": [[link.url, link.mime_type, link.language] for link in tags.transcripts],
            "chapters_url": tags.chapters_url,
            "persons": [[person.name, person.role, person.href] for person in tags.persons],
            "soundbites": [
                [bite.start_seconds, bite.duration_seconds, bite.title] for bite in tags.soundbites
            ],
        },
        separators=(",", ":"),
    )


def tags_from_json(text: str | None) -> PodcastTags:
    if text is None:
        return NO_TAGS
    values: dict[str, Any] = json.loads(text)
    return PodcastTags(
        season=values["season"],
        season_name=values["season_name"],
        transcripts=tuple(TranscriptLink(*link) for link in values["transcripts"]),
        chapters_url=values["chapters_url"],
        persons=tuple(Person(*person) for person in values["persons"]),
        soundbites=tuple(Soundbite(*bite) for bite in values["soundbites"]),
    )
