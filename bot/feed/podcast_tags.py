"""Read the Podcasting 2.0 tags of a feed's items, which feedparser drops or flattens.

Runs inside parse_feed (so in the parser worker, under its time and memory limits) on the sanitised
document, which no longer has a DTD: expat then has no entity to expand, and an undeclared one is an
error that leaves the items without tags, as a malformed document does.
"""

from __future__ import annotations

import io
import logging
import math
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError, iterparse

from bot.models import NO_TAGS, Person, PodcastTags, Soundbite, TranscriptLink

log = logging.getLogger(__name__)

NAMESPACE = "https://podcastindex.org/namespace/1.0"
# The namespace URI the first drafts used; feeds written then still carry it.
_DRAFT_NAMESPACE = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
_NAMESPACES = (NAMESPACE, _DRAFT_NAMESPACE)
_DECLARED_PREFIX = re.compile(
    rb"xmlns:([A-Za-z_][\w.-]{0,40})\s*=\s*[\"'](?:"
    + b"|".join(re.escape(uri.encode()) for uri in _NAMESPACES)
    + rb")[\"']"
)
_READ_TAGS = rb"(?:transcript|chapters|person|soundbite|season|episode)\b"
# Bounds per item: a feed is trusted for its episodes, not for unbounded lists of extras.
_MAX_LINKS = 10
_MAX_PERSONS = 30
_MAX_SOUNDBITES = 10
_MAX_TEXT = 200
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ItemTags:
    tags: PodcastTags
    episode: str | None  # podcast:episode, as written: a number beside itunes:episode


def items_podcast_tags(document: bytes, base_url: str) -> list[ItemTags] | None:
    """The tags of every RSS item, in document order; None when the document declares no Podcasting
    2.0 namespace or item tag (the common case, which costs a scan or two) or cannot be read as XML."""
    prefixes = {match.group(1) for match in _DECLARED_PREFIX.finditer(document)}
    if not any(re.search(b"<" + re.escape(prefix) + b":" + _READ_TAGS, document) for prefix in prefixes):
        return None
    found: list[ItemTags] = []
    try:
        # The document's DTD is gone (see the module docstring): there is nothing to expand.
        for _, element in iterparse(io.BytesIO(document), events=("end",)):  # noqa: S314
            if element.tag == "item":
                found.append(_item_tags(element, base_url))
                element.clear()
    except ParseError as error:
        log.debug("Podcasting 2.0 tags unreadable: %s", error)
        return None
    return found


def _item_tags(item: Element, base_url: str) -> ItemTags:
    children = [child for child in item if _local_name(child.tag) is not None]
    if not children:
        return ItemTags(NO_TAGS, None)
    episode: str | None = None
    season: int | None = None
    season_name: str | None = None
    transcripts: list[TranscriptLink] = []
    chapters_url: str | None = None
    persons: list[Person] = []
    soundbites: list[Soundbite] = []
    for child in children:
        name = _local_name(child.tag)
        if name == "episode" and episode is None:
            episode = _text(child.text)
        elif name == "season" and season is None:
            season = _positive_int(child.text)
            season_name = _text(child.get("name")) if season is not None else None
        elif name == "transcript" and len(transcripts) < _MAX_LINKS:
            url = _http_url(base_url, child.get("url"))
            if url is not None:
                language = _text(child.get("language"))
                transcripts.append(TranscriptLink(url, (child.get("type") or "").strip().lower(), language))
        elif name == "chapters" and chapters_url is None:
            chapters_url = _http_url(base_url, child.get("url"))
        elif name == "person" and len(persons) < _MAX_PERSONS:
            person_name = _text(child.text)
            if person_name:
                role = (_text(child.get("role")) or "host").lower()
                persons.append(Person(person_name, role, _http_url(base_url, child.get("href"))))
        elif name == "soundbite" and len(soundbites) < _MAX_SOUNDBITES:
            start, duration = _seconds(child.get("startTime")), _seconds(child.get("duration"))
            if start is not None and duration is not None and duration > 0:
                soundbites.append(Soundbite(start, duration, _text(child.text) or ""))
    tags = PodcastTags(
        season=season,
        season_name=season_name,
        transcripts=tuple(transcripts),
        chapters_url=chapters_url,
        persons=tuple(persons),
        soundbites=tuple(soundbites),
    )
    return ItemTags(tags, episode)


def _local_name(tag: object) -> str | None:
    """The tag's name if it is in the Podcasting 2.0 namespace."""
    if not isinstance(tag, str) or not tag.startswith("{"):
        return None
    uri, _, name = tag[1:].partition("}")
    return name if uri in _NAMESPACES else None


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = _SPACES.sub(" ", value).strip()[:_MAX_TEXT]
    return cleaned or None


def _positive_int(value: str | None) -> int | None:
    text = (value or "").strip()
    if text.isascii() and text.isdigit() and 0 < int(text) < 1_000_000:
        return int(text)
    return None


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float((value or "").strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds < 1_000_000 else None


def _http_url(base_url: str, url: str | None) -> str | None:
    if not url or not url.strip():
        return None
    try:
        resolved = urljoin(base_url, url.strip()) if base_url else url.strip()
        parts = urlsplit(resolved)
    except ValueError:
        return None
    return resolved if parts.scheme in ("http", "https") and parts.netloc else None
