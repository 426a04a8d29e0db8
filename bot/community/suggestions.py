"""Listener suggestions: submit (with near-duplicate detection), vote, rank, moderate, tell the voters."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from rapidfuzz import fuzz

from bot.clock import utc_now
from bot.db import EpisodeRepository
from bot.db.announcements import Announcement, AnnouncementRepository
from bot.db.suggestions import NewSuggestion, Suggestion, SuggestionRepository
from bot.episode_facts import guests_in_title, rebroadcast_key
from bot.errors import UserFacingError
from bot.models import StoredEpisode
from bot.search import EpisodeSearch
from bot.text import fold, has_visible, readable

log = logging.getLogger(__name__)

TOPIC_MIN_CHARS = 5
TOPIC_MAX_CHARS = 150
DETAILS_MAX_CHARS = 1000
REASON_MAX_CHARS = 300
SUGGESTIONS_PER_WINDOW = 3
RATE_WINDOW = timedelta(hours=1)
# 0-100 (see similarity): at or above, two texts are worth showing side by side before posting.
DUPLICATE_SCORE = 85.0
GUEST_SCORE = 90.0
MAX_SIMILAR_SHOWN = 3
MAX_EPISODES_SHOWN = 2
SEARCH_CANDIDATES = 5
TOP_LIMIT = 10
MINE_LIMIT = 15

Period = Literal["week", "month", "all"]
MarkStatus = Literal["planned", "done", "declined"]
PERIODS: dict[Period, timedelta | None] = {
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "all": None,
}

_NON_ALNUM = re.compile(r"[\W_]+")
_SPACES = re.compile(r"\s+")
# Words that say nothing about which topic or guest is meant: "An episode about X" is X.
_FILLER = frozenset(
    """
    a an the of on in at to for with and or about by from into is are be as
    episode episodes ep podcast show topic talk talking discuss discussion cover covering more
    please would could should love like hear listen want some any your you we i me my our
    interview interviewing invite inviting guest guests have get do does
    """.split()  # noqa: SIM905 - a word list reads better as text
)


# ---- matching (pure) ----------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Lower case, accents and punctuation gone, filler words dropped: the words that say what is meant."""
    words = _NON_ALNUM.sub(" ", fold(unicodedata.normalize("NFKC", text))).split()
    kept = [word for word in words if word not in _FILLER]
    return " ".join(kept or words)


def similarity(a: str, b: str) -> float:
    """How alike two normalised texts are, 0-100: the same words in any order, small typos, or one
    text being most of the other ("graph neural networks" in "graph neural networks for drugs").

    token_set_ratio alone scores 100 whenever one text's words are a subset of the other's, so "AI"
    would match every suggestion mentioning AI: it only counts when the shorter text has three words
    or more and at least two thirds as many as the longer one. Two words name a field, not a subject
    ("deep learning" is not covered by "beyond deep learning"); they match only as a whole.
    """
    if not a or not b:
        return 0.0
    score = fuzz.token_sort_ratio(a, b)
    shorter, longer = sorted((len(set(a.split())), len(set(b.split()))))
    if shorter >= 3 and shorter * 3 >= longer * 2:
        score = max(score, fuzz.token_set_ratio(a, b))
    return float(score)


def episode_match(wanted: str, episode: StoredEpisode) -> EpisodeMatch | None:
    """Whether a normalised suggestion asks for this episode: one of its guests, or its title with or
    without the guests' names ("the future of banking with AI" is "AI and the future of banking with
    Chris Skinner")."""
    guests = guests_in_title(episode.title)
    for guest in guests:
        if fuzz.ratio(wanted, normalise(guest)) >= GUEST_SCORE:
            return EpisodeMatch(episode, guest)
    title = normalise(rebroadcast_key(episode.title))
    guest_words = {word for guest in guests for word in normalise(guest).split()}
    bare = " ".join(word for word in title.split() if word not in guest_words)
    if max(similarity(wanted, title), similarity(wanted, bare)) >= DUPLICATE_SCORE:
        return EpisodeMatch(episode, None)
    return None


def clean_topic(topic: str) -> str:
    """One line, single spaces, nothing invisible: a topic is a title, whatever the client pasted."""
    return _SPACES.sub(" ", readable(topic))


# ---- records ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draft:
    """A suggestion not stored yet: what the member typed, checked but not saved."""

    guild_id: int
    author_id: int
    topic: str
    details: str | None


@dataclass(frozen=True, slots=True)
class SimilarSuggestion:
    suggestion: Suggestion
    score: float


@dataclass(frozen=True, slots=True)
class EpisodeMatch:
    episode: StoredEpisode
    guest: str | None  # the guest the suggestion names, when that is what matched


@dataclass(frozen=True, slots=True)
class Review:
    """What a draft resembles: open suggestions (most similar first) and episodes already out."""

    draft: Draft
    similar: tuple[SimilarSuggestion, ...]
    episodes: tuple[EpisodeMatch, ...]

    @property
    def clear(self) -> bool:
        return not self.similar and not self.episodes


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    suggestion: Suggestion  # as it is now, with the current vote count
    changed: bool  # False: the vote was already there (or already gone)


@dataclass(frozen=True, slots=True)
class Notification:
    """A message telling the people behind done suggestions that the episode covering them is out.
    Posted in `channel_id` (the announcement's thread, or its channel as a reply to `reply_to`)."""

    guild_id: int
    channel_id: int
    reply_to: int | None
    episode: StoredEpisode
    suggestions: tuple[Suggestion, ...]
    user_ids: tuple[int, ...]  # suggesters first, then voters in the order they voted


@dataclass(frozen=True, slots=True)
class MarkOutcome:
    suggestion: Suggestion
    episode: StoredEpisode | None  # the linked episode, when it is out
    notification: Notification | None  # to post now
    waiting_for_announcement: bool  # the voters will be told when the episode is announced here


class SuggestionError(UserFacingError):
    """A suggestion action that cannot be done; the message says why."""


class RateLimited(SuggestionError):
    def __init__(self, retry_at: datetime, per_window: int, window: timedelta) -> None:
        minutes = int(window.total_seconds() // 60)
        super().__init__(f"You can make {per_window} suggestions every {minutes} minutes in this server.")
        self.retry_at = retry_at


# ---- the service --------------------------------------------------------------------------------


class SuggestionService:
    def __init__(
        self,
        suggestions: SuggestionRepository,
        *,
        search: EpisodeSearch,
        episodes: EpisodeRepository,
        outbox: AnnouncementRepository,
        per_window: int = SUGGESTIONS_PER_WINDOW,
        window: timedelta = RATE_WINDOW,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._suggestions = suggestions
        self._search = search
        self._episodes = episodes
        self._outbox = outbox
        self._per_window = per_window
        self._window = window
        self.clock = clock

    # ---- the suggestions channel ----------------------------------------------------------

    async def channel(self, guild_id: int) -> int | None:
        return await self._suggestions.channel(guild_id)

    async def set_channel(self, guild_id: int, channel_id: int | None) -> None:
        await self._suggestions.set_channel(guild_id, channel_id, now=self.clock())

    async def channel_deleted(self, guild_id: int, channel_id: int) -> bool:
        return await self._suggestions.channel_deleted(guild_id, channel_id, now=self.clock())

    # ---- submitting ------------------------------------------------------------------------

    def draft(self, guild_id: int, author_id: int, topic: str, details: str | None) -> Draft:
        """Check what was typed (again: a client can send anything) and tidy it."""
        topic = clean_topic(topic)
        details = readable(details or "", lines=True) or None
        if not has_visible(topic):
            raise SuggestionError("A topic needs words: yours has only invisible characters or spaces.")
        if details is not None and not has_visible(details):
            details = None
        if not TOPIC_MIN_CHARS <= len(topic) <= TOPIC_MAX_CHARS:
            raise SuggestionError(
                f"A topic takes {TOPIC_MIN_CHARS} to {TOPIC_MAX_CHARS} characters; yours has {len(topic)}."
            )
        if details is not None and len(details) > DETAILS_MAX_CHARS:
            raise SuggestionError(f"Details take at most {DETAILS_MAX_CHARS} characters.")
        return Draft(guild_id, author_id, topic, details)

    async def review(self, draft: Draft) -> Review:
        """What the draft resembles, before it is posted. Raises RateLimited if the member may not
        suggest now, so they learn it before choosing anything."""
        refusal = await self._rate_limit(draft.guild_id, draft.author_id, self.clock())
        if refusal is not None:
            raise refusal
        wanted = normalise(draft.topic)
        scored = [
            SimilarSuggestion(suggestion, similarity(wanted, normalise(suggestion.topic)))
            for suggestion in await self._suggestions.open_in(draft.guild_id)
        ]
        similar = sorted(
            (match for match in scored if match.score >= DUPLICATE_SCORE),
            key=lambda match: (-match.score, -match.suggestion.votes, match.suggestion.number),
        )
        return Review(draft, tuple(similar[:MAX_SIMILAR_SHOWN]), await self._episodes_matching(wanted, draft))

    async def _episodes_matching(self, wanted: str, draft: Draft) -> tuple[EpisodeMatch, ...]:
        hits = await self._search.search(draft.topic, limit=SEARCH_CANDIDATES)
        matches = [match for hit in hits if (match := episode_match(wanted, hit.episode)) is not None]
        return tuple(matches[:MAX_EPISODES_SHOWN])

    async def submit(self, draft: Draft) -> Suggestion:
        """Store the suggestion, counting as its author's vote."""
        now = self.clock()
        stored = await self._suggestions.add(
            NewSuggestion(draft.guild_id, draft.author_id, draft.topic, draft.details),
            now=now,
            at_most=self._per_window,
            since=now - self._window,
        )
        if stored is None:
            # Counted again for the time to wait; the member may have deleted theirs meanwhile.
            refusal = await self._rate_limit(draft.guild_id, draft.author_id, now)
            raise refusal or RateLimited(now + self._window, self._per_window, self._window)
        log.info("Server %s: suggestion #%s by %s", draft.guild_id, stored.number, draft.author_id)
        return stored

    async def _rate_limit(self, guild_id: int, author_id: int, now: datetime) -> RateLimited | None:
        """The refusal for a member who used up their suggestions for now; None if they may suggest."""
        recent = await self._suggestions.recent_by(guild_id, author_id, now - self._window)
        if len(recent) < self._per_window:
            return None
        # Free again when enough of the recent ones have aged out of the window.
        retry_at = recent[len(recent) - self._per_window] + self._window
        return RateLimited(retry_at, self._per_window, self._window)

    async def attach_card(self, suggestion: Suggestion, *, channel_id: int, message_id: int) -> None:
        await self._suggestions.attach_card(suggestion.id, channel_id=channel_id, message_id=message_id)

    # ---- voting ----------------------------------------------------------------------------

    async def get(self, guild_id: int, number: int) -> Suggestion:
        suggestion = await self._suggestions.get(guild_id, number)
        if suggestion is None:
            raise SuggestionError(f"There is no suggestion #{number} in this server.")
        return suggestion

    async def vote(self, guild_id: int, number: int, user_id: int) -> VoteOutcome:
        suggestion = await self._open(guild_id, number)
        changed = await self._suggestions.add_vote(suggestion.id, user_id, now=self.clock())
        return VoteOutcome(await self.get(guild_id, number), changed)

    async def unvote(self, guild_id: int, number: int, user_id: int) -> VoteOutcome:
        suggestion = await self._open(guild_id, number)
        changed = await self._suggestions.remove_vote(suggestion.id, user_id)
        return VoteOutcome(await self.get(guild_id, number), changed)

    async def _open(self, guild_id: int, number: int) -> Suggestion:
        suggestion = await self.get(guild_id, number)
        if not suggestion.is_open:
            raise SuggestionError(f"Voting on #{number} is closed: it is {suggestion.status}.")
        return suggestion

    # ---- listing ---------------------------------------------------------------------------

    async def top(self, guild_id: int, period: Period = "all", *, limit: int = TOP_LIMIT) -> list[Suggestion]:
        """The most voted open and planned suggestions made in the period."""
        span = PERIODS[period]
        since = None if span is None else self.clock() - span
        return await self._suggestions.top(guild_id, since=since, limit=limit)

    async def mine(self, guild_id: int, author_id: int, *, limit: int = MINE_LIMIT) -> list[Suggestion]:
        return await self._suggestions.by_author(guild_id, author_id, limit=limit)

    async def voted_by(self, guild_id: int, user_id: int, *, limit: int = MINE_LIMIT) -> list[Suggestion]:
        return await self._suggestions.voted_by(guild_id, user_id, limit=limit)

    async def forget_member(self, guild_id: int, user_id: int) -> tuple[list[Suggestion], list[Suggestion]]:
        """Delete what the member made and cast in this server: their suggestions (as they were) and
        the suggestions that lost their vote (as they are now)."""
        deleted, unvoted = await self._suggestions.forget_member(guild_id, user_id)
        log.info(
            "Server %s: a member deleted %d suggestions and %d votes", guild_id, len(deleted), len(unvoted)
        )
        return deleted, unvoted

    # ---- moderation and telling the voters -------------------------------------------------

    async def mark(
        self,
        guild_id: int,
        number: int,
        status: MarkStatus,
        *,
        reason: str | None = None,
        episode_number: int | None = None,
    ) -> MarkOutcome:
        """Change a suggestion's status. A done one may name the episode that covered it, out or not:
        if it was already announced here, the notification to post now comes back; if not, the
        voters are told when it is announced (see on_announced)."""
        suggestion = await self.get(guild_id, number)
        if episode_number is not None and status != "done":
            raise SuggestionError("Only a done suggestion can link the episode that covered it.")
        reason = readable(reason or "") or None
        if reason is not None and not has_visible(reason):
            raise SuggestionError("A reason needs words: this one has only invisible characters.")
        if reason is not None and len(reason) > REASON_MAX_CHARS:
            raise SuggestionError(f"A reason takes at most {REASON_MAX_CHARS} characters.")
        updated = await self._suggestions.set_status(
            suggestion.id, status, reason=reason, episode_number=episode_number, now=self.clock()
        )
        log.info("Server %s: suggestion #%s marked %s (episode %s)", guild_id, number, status, episode_number)
        if episode_number is None or updated.notified_at is not None:
            return MarkOutcome(updated, None, None, waiting_for_announcement=False)
        return await self._outcome_for_episode(updated, episode_number)

    async def _outcome_for_episode(self, suggestion: Suggestion, episode_number: int) -> MarkOutcome:
        episodes = await self._episodes.by_number(episode_number)  # originals first
        if not episodes:
            return MarkOutcome(suggestion, None, None, waiting_for_announcement=True)
        pending = False
        for episode in episodes:
            announcement = await self._outbox.for_episode(suggestion.guild_id, episode.id)
            if announcement is None:
                continue
            if announcement.status == "sent" and announcement.message_id is not None:
                notification = await self._notification(announcement, episode, [suggestion])
                return MarkOutcome(suggestion, episode, notification, waiting_for_announcement=False)
            pending = pending or announcement.status == "pending"
        if pending:
            return MarkOutcome(suggestion, episodes[0], None, waiting_for_announcement=True)
        # Out before announcements started here (or its announcement failed): answer on the card.
        if suggestion.channel_id is None or suggestion.message_id is None:
            return MarkOutcome(suggestion, episodes[0], None, waiting_for_announcement=False)
        notification = Notification(
            guild_id=suggestion.guild_id,
            channel_id=suggestion.channel_id,
            reply_to=suggestion.message_id,
            episode=episodes[0],
            suggestions=(suggestion,),
            user_ids=await self._people([suggestion]),
        )
        return MarkOutcome(suggestion, episodes[0], notification, waiting_for_announcement=False)

    async def on_announced(self, announcement: Announcement, episode: StoredEpisode) -> Notification | None:
        """The notification for done suggestions linked to this newly announced episode, if any."""
        if episode.number is None or announcement.message_id is None:
            return None
        waiting = await self._suggestions.awaiting_episode(announcement.guild_id, episode.number)
        if not waiting:
            return None
        return await self._notification(announcement, episode, waiting)

    async def _notification(
        self, announcement: Announcement, episode: StoredEpisode, suggestions: Sequence[Suggestion]
    ) -> Notification:
        assert announcement.message_id is not None
        in_thread = announcement.thread_id is not None
        return Notification(
            guild_id=announcement.guild_id,
            channel_id=announcement.thread_id
            if announcement.thread_id is not None
            else announcement.channel_id,
            reply_to=None if in_thread else announcement.message_id,
            episode=episode,
            suggestions=tuple(suggestions),
            user_ids=await self._people(suggestions),
        )

    async def _people(self, suggestions: Sequence[Suggestion]) -> tuple[int, ...]:
        authors = [suggestion.author_id for suggestion in suggestions]
        voters = await self._suggestions.voters([suggestion.id for suggestion in suggestions])
        return tuple(dict.fromkeys([*authors, *voters]))

    async def notified(self, notification: Notification) -> None:
        """Record that the notification was posted, so nobody is told twice."""
        await self._suggestions.mark_notified(
            [suggestion.id for suggestion in notification.suggestions], now=self.clock()
        )
