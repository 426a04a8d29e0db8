"""MomentSearch: "the moment they talk about X": transcript passages ranked on their own (bm25 over
the moments' index), never mixed into episode search, with a link that starts there where the audio
host allows it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from bot.db import EpisodeRepository
from bot.db.documents import DocumentRepository, MomentHit
from bot.models import StoredEpisode
from bot.search.text import STOP_WORDS
from bot.text import fold

MAX_QUERY_CHARS = 200
MOMENTS_PER_EPISODE = 2
_WORD = re.compile(r"[^\W_]+")
# Hosts that serve the episode's audio file itself (no player page in between): a browser opens it in
# its own player, which honours a Media Fragments time (https://www.w3.org/TR/media-frags/, "#t=").
# Kept to hosts checked to serve the file directly; elsewhere the answer gives the time alone.
FRAGMENT_HOSTS = frozenset({"mcdn.podbean.com", "traffic.libsyn.com"})


@dataclass(frozen=True, slots=True)
class FoundMoment:
    episode: StoredEpisode
    start_seconds: float | None  # None: the transcript has no times
    snippet: str  # the passage around the match, the matched words between MATCH_START and MATCH_END
    link: str | None  # the audio from that moment, when its host honours "#t="


class MomentSearch:
    def __init__(self, documents: DocumentRepository, episodes: EpisodeRepository) -> None:
        self._documents = documents
        self._episodes = episodes

    async def has_transcripts(self) -> bool:
        return await self._documents.has_moments()

    async def search(self, query: str, limit: int = 5) -> list[FoundMoment]:
        """The best moments for `query`: every word must match, else any; at most two per episode."""
        words = [fold(word) for word in _WORD.findall(query[:MAX_QUERY_CHARS])]
        terms = [word for word in words if word not in STOP_WORDS] or words
        if not terms:
            return []
        quoted = [f'"{term}"' for term in dict.fromkeys(terms)]
        hits = await self._documents.moments_matching(" AND ".join(quoted), limit * 4)
        if not hits and len(quoted) > 1:
            hits = await self._documents.moments_matching(" OR ".join(quoted), limit * 4)
        chosen = _spread(hits, limit)
        episodes = {
            episode.id: episode for episode in await self._episodes.by_ids([h.episode_id for h in chosen])
        }
        return [
            FoundMoment(
                episode=episodes[hit.episode_id],
                start_seconds=hit.start_seconds,
                snippet=hit.text,
                link=moment_link(episodes[hit.episode_id].audio_url, hit.start_seconds),
            )
            for hit in chosen
            if hit.episode_id in episodes
        ]


def _spread(hits: list[MomentHit], limit: int) -> list[MomentHit]:
    """The best hits, at most MOMENTS_PER_EPISODE of one episode, so one long transcript cannot
    fill the answer."""
    per_episode: dict[int, int] = {}
    chosen = []
    for hit in hits:
        if per_episode.get(hit.episode_id, 0) < MOMENTS_PER_EPISODE:
            per_episode[hit.episode_id] = per_episode.get(hit.episode_id, 0) + 1
            chosen.append(hit)
            if len(chosen) == limit:
                break
    return chosen


def moment_link(audio_url: str | None, start_seconds: float | None) -> str | None:
    """The audio file from `start_seconds` on (a "#t=" media fragment), where its host honours it."""
    if audio_url is None or start_seconds is None:
        return None
    parts = urlsplit(audio_url)
    if parts.scheme != "https" or (parts.hostname or "") not in FRAGMENT_HOSTS:
        return None
    return urlunsplit(parts._replace(fragment=f"t={int(start_seconds)}"))
