"""Insights: what a server's listeners search for, suggest and discuss, recorded without who, for the host."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from bot.clock import utc_now
from bot.community.search_topics import search_topic
from bot.community.suggestions import normalise, similarity
from bot.db.insights import EpisodeCount, InsightsRepository, QueryCount, ThreadCount
from bot.db.suggestions import Suggestion, SuggestionRepository

log = logging.getLogger(__name__)

T = TypeVar("T")

LISTED = 10
SUGGESTIONS_LISTED = 5
# An open suggestion with this many votes (its author's included) has found support.
SUPPORTED_VOTES = 3
# 0-100 (see similarity): a search topic and a suggestion this alike ask for the same episode.
TOPIC_MATCH_SCORE = 80.0


@dataclass(frozen=True, slots=True)
class MissingTopic:
    """A topic listeners searched for and did not find, or found and opened nothing."""

    query: str
    searches: int
    not_found: int
    suggestion: Suggestion | None  # an open suggestion that asks for it


@dataclass(frozen=True, slots=True)
class TrendingSuggestion:
    suggestion: Suggestion
    recent_votes: int  # cast in the period


@dataclass(frozen=True, slots=True)
class InsightsReport:
    guild_id: int
    days: int | None  # the period: the last `days` days, or None: all that is kept
    since: datetime | None
    recording: bool
    searches_per_day: dict[date, int]
    missing: list[MissingTopic]
    top_queries: list[QueryCount]
    opened: list[EpisodeCount]
    trending: list[TrendingSuggestion]
    waiting: list[Suggestion]  # open the longest while supported
    threads: list[ThreadCount]

    @property
    def searches(self) -> int:
        return sum(self.searches_per_day.values())

    def as_json(self) -> dict[str, Any]:
        def suggestion(found: Suggestion) -> dict[str, Any]:
            return {
                "number": found.number,
                "topic": found.topic,
                "status": found.status,
                "votes": found.votes,
            }

        return {
            "guild_id": str(self.guild_id),
            "days": self.days,
            "since": None if self.since is None else self.since.isoformat(),
            "recording": self.recording,
            "searches": self.searches,
            "searches_per_day": {day.isoformat(): count for day, count in self.searches_per_day.items()},
            "missing_topics": [
                {
                    "query": topic.query,
                    "searches": topic.searches,
                    "not_found": topic.not_found,
                    "suggestion": None if topic.suggestion is None else suggestion(topic.suggestion),
                }
                for topic in self.missing
            ],
            "top_queries": [
                {"query": query.query, "searches": query.searches, "not_found": query.not_found}
                for query in self.top_queries
            ],
            "opened_episodes": [
                {"episode_id": episode.episode_id, "title": episode.title, "opens": episode.count}
                for episode in self.opened
            ],
            "trending_suggestions": [
                {**suggestion(trend.suggestion), "votes_in_period": trend.recent_votes}
                for trend in self.trending
            ],
            "waiting_suggestions": [
                {**suggestion(waiting), "created": waiting.created_at.isoformat()} for waiting in self.waiting
            ],
            "discussions": [
                {"thread_id": str(thread.thread_id), "title": thread.title, "messages": thread.messages}
                for thread in self.threads
            ],
        }


def matching_suggestion(query: str, suggestions: Sequence[Suggestion]) -> Suggestion | None:
    """The open suggestion that asks for what `query` searched for: one naming every word of it, else
    the most alike at TOPIC_MATCH_SCORE or above; the most voted on ties."""
    wanted = normalise(query)
    words = set(wanted.split())
    best: tuple[float, int] | None = None
    found = None
    for candidate in suggestions:
        topic = normalise(candidate.topic)
        score = 100.0 if words and words <= set(topic.split()) else similarity(wanted, topic)
        if score >= TOPIC_MATCH_SCORE and (best is None or (score, candidate.votes) > best):
            best, found = (score, candidate.votes), candidate
    return found


@dataclass(slots=True)
class RecordedSearch:
    """A search being recorded in the background; the episodes it leads to are recorded against it."""

    _insights: Insights
    _stored: asyncio.Task[int | None] | None
    _opened: set[int] = field(default_factory=set)

    def opened(self, episode_id: int) -> None:
        """The listener opened this episode from the search's results (once per episode is counted)."""
        if self._stored is None or episode_id in self._opened:
            return
        self._opened.add(episode_id)
        stored = self._stored

        async def write() -> None:
            search_id = await stored
            if search_id is not None:
                await self._insights.repository.record_open(search_id, episode_id)

        self._insights.in_background("the opening of a searched episode", write)


class Insights:
    """Records searches and discussion activity per server, and reads them back as a report.

    Recording never holds up a reply: writes run in the background, and one that fails is logged
    and forgotten."""

    def __init__(
        self,
        repository: InsightsRepository,
        suggestions: SuggestionRepository,
        *,
        retention: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.repository = repository
        self._suggestions = suggestions
        self.retention = retention
        self._clock = clock
        self._pending: set[asyncio.Task[Any]] = set()

    # ---- recording ------------------------------------------------------------------------------

    def record_search(self, guild_id: int, query: str, results: int) -> RecordedSearch:
        """Start recording a submitted search in a server that added the bot (not through a listener's
        own installation of it): nothing is kept of a query that looks personal."""
        topic = search_topic(query)
        if topic is None:
            return RecordedSearch(self, None)
        now = self._clock()

        async def write() -> int | None:
            return await self.repository.record_search(guild_id, topic, results, now=now)

        return RecordedSearch(self, self.in_background("a search", write))

    def in_background(self, what: str, work: Callable[[], Awaitable[T]]) -> asyncio.Task[T | None]:
        async def guarded() -> T | None:
            try:
                return await work()
            except Exception:
                log.warning("Recording %s for insights failed; it is left out", what, exc_info=True)
                return None

        task = asyncio.get_running_loop().create_task(guarded())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return task

    async def settle(self) -> None:
        """Wait for the recordings under way (before reading them back, or closing the database)."""
        while self._pending:
            await asyncio.gather(*self._pending)

    async def count_thread_message(self, guild_id: int, thread_id: int) -> bool:
        """Count a message in a thread if it is an episode's discussion thread; whether it was one."""
        episode_id = await self.repository.episode_of_thread(guild_id, thread_id)
        if episode_id is None:
            return False
        await self.repository.count_thread_message(guild_id, thread_id, episode_id, self._clock().date())
        return True

    # ---- settings and forgetting ----------------------------------------------------------------

    async def is_recording(self, guild_id: int) -> bool:
        return await self.repository.is_recording(guild_id)

    async def set_recording(self, guild_id: int, recording: bool) -> None:
        await self.settle()  # a search recorded just before "off" is deleted with the rest
        await self.repository.set_recording(guild_id, recording, now=self._clock())

    async def forget_guild(self, guild_id: int) -> None:
        await self.settle()
        await self.repository.forget_guild(guild_id)

    async def delete_expired(self) -> int:
        """Delete what is older than the retention time; how many records went."""
        return await self.repository.delete_before(self._clock() - self.retention)

    # ---- the report --------------------------------------------------------------------------------

    async def report(self, guild_id: int, days: int | None) -> InsightsReport:
        """The server's insights over the last `days` days (None: all that is kept)."""
        await self.settle()
        since = None if days is None else self._clock() - timedelta(days=days)
        repository = self.repository
        open_suggestions = await self._suggestions.open_in(guild_id)
        recent_votes = await repository.votes_since(guild_id, since)
        trending = sorted(
            (
                TrendingSuggestion(suggestion, recent_votes[suggestion.id])
                for suggestion in open_suggestions
                if recent_votes.get(suggestion.id)
            ),
            key=lambda trend: (-trend.recent_votes, -trend.suggestion.votes, trend.suggestion.number),
        )
        waiting = sorted(
            (suggestion for suggestion in open_suggestions if suggestion.votes >= SUPPORTED_VOTES),
            key=lambda suggestion: (suggestion.created_at, suggestion.number),
        )
        missing = [
            MissingTopic(
                unmet.query,
                unmet.searches,
                unmet.not_found,
                matching_suggestion(unmet.query, open_suggestions),
            )
            for unmet in await repository.unmet_queries(guild_id, since, LISTED)
        ]
        return InsightsReport(
            guild_id=guild_id,
            days=days,
            since=since,
            recording=await repository.is_recording(guild_id),
            searches_per_day=await repository.searches_per_day(guild_id, since),
            missing=missing,
            top_queries=await repository.top_queries(guild_id, since, LISTED),
            opened=await repository.opened_episodes(guild_id, since, LISTED),
            trending=trending[:SUGGESTIONS_LISTED],
            waiting=waiting[:SUGGESTIONS_LISTED],
            threads=await repository.busiest_threads(guild_id, since, LISTED),
        )
