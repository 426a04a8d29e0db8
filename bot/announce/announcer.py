"""Announcer: polls the feed, plans announcements into the outbox and delivers them exactly once."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import aiohttp
import discord

from bot.clock import utc_now
from bot.db import EpisodeRepository, FeedRepository
from bot.db.announcements import Announcement, AnnouncementRepository, PlannedAnnouncement
from bot.db.guilds import GuildSettings, GuildSettingsRepository
from bot.feed.ingest import FeedIngestor, IngestError, IngestResult
from bot.models import StoredEpisode
from bot.permissions import describe, missing_in
from bot.podcast import Podcast
from bot.posts import Post

log = logging.getLogger(__name__)

# Episodes announced one by one per poll and server; older extras share one catch-up message.
MAX_FULL_ANNOUNCEMENTS_PER_POLL = 5
# A "new" episode dated this long before the newest one already known is an old one the feed
# re-published (a rebuilt archive, a fixed guid), not news. Relative to the catalogue, not the
# clock, so a bot that was down for weeks still announces what it missed.
BACKFILL_TOLERANCE = timedelta(days=2)
MAX_DELIVERY_ATTEMPTS = 6
DELIVERY_RETRY_BASE = timedelta(seconds=30)
DELIVERY_RETRY_CAP = timedelta(hours=1)
FEED_BACKOFF_CAP = timedelta(hours=6)
THREAD_ALREADY_CREATED = 160004  # Discord's error code
REQUIRED_PERMISSIONS = ("view_channel", "send_messages", "embed_links")
THREAD_PERMISSIONS = ("create_public_threads",)


AnnouncedHook = Callable[["Announcement", StoredEpisode], Awaitable[None]]


class AnnouncementRenderer(Protocol):
    """How announcements look (bot.ui.cards renders them)."""

    def episode(self, settings: GuildSettings, episode: StoredEpisode, podcast_image: str | None) -> Post: ...

    def digest(self, episodes: Sequence[StoredEpisode]) -> Post: ...


@dataclass(frozen=True, slots=True)
class LatestAnnouncement:
    announcement: Announcement
    already_sent: bool  # it had gone out before this request: nothing was posted again


@dataclass(frozen=True, slots=True)
class PollOutcome:
    checked: bool  # False: skipped, the feed is backing off after failures
    result: IngestResult | None
    error: str | None
    queued: int


class _Retry(Exception):
    """A delivery failed in a way worth trying again later."""


class _Unusable(Exception):
    """The configured channel cannot take announcements; the moderators must change it."""


def announcement_nonce(guild_id: int, episode_id: int, kind: str) -> str:
    """The same (server, episode) always gets the same nonce, so a message resent after a crash
    is recognised by Discord (enforce_nonce) instead of posted twice. Discord takes 25 chars."""
    return hashlib.sha256(f"{guild_id}:{episode_id}:{kind}".encode()).hexdigest()[:25]


def missing_permissions(
    channel: discord.abc.GuildChannel, member: discord.Member, threads: bool
) -> list[str]:
    """What the bot lacks to announce in `channel`; a forum post is its own thread, so threads
    need nothing more there."""
    needed = list(REQUIRED_PERMISSIONS)
    if threads and not isinstance(channel, discord.ForumChannel):
        needed += THREAD_PERMISSIONS
    return missing_in(channel, member, needed)


class Announcer:
    def __init__(
        self,
        client: discord.Client,
        *,
        podcast: Podcast,
        poll_interval: timedelta,
        feeds: FeedRepository,
        episodes: EpisodeRepository,
        guilds: GuildSettingsRepository,
        outbox: AnnouncementRepository,
        ingestor: FeedIngestor,
        cards: AnnouncementRenderer,
        concurrency: int = 10,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._podcast = podcast
        self._poll_interval = poll_interval
        self._feeds = feeds
        self._episodes = episodes
        self._guilds = guilds
        self._outbox = outbox
        self._ingestor = ingestor
        self._cards = cards
        self._concurrency = asyncio.Semaphore(concurrency)
        self.clock = clock  # replaceable, so tests and the demo can move time forward
        # Called after each episode announcement is recorded as sent (a failing hook is logged and
        # does not affect delivery): features that react to an announcement subscribe here.
        self.on_announced: list[AnnouncedHook] = []
        self._poll_lock = asyncio.Lock()
        self._delivery_lock = asyncio.Lock()

    # ---- polling and planning -------------------------------------------------------------

    async def poll(self, *, force: bool = False) -> PollOutcome:
        """One scheduled poll: fetch the feed, queue what is news, deliver what is due."""
        async with self._poll_lock:
            now = self.clock()
            before = await self._feeds.get_or_create(self._podcast.feed_url)
            newest_known = await self._episodes.latest()
            # Ticks come every interval, give or take the scheduler's jitter: a tick a little
            # before the back-off ends polls rather than waiting a whole interval more.
            backing_off = (
                before.consecutive_failures
                and before.next_attempt_at
                and before.next_attempt_at - now > self._poll_interval / 4
            )
            if backing_off and not force:
                return PollOutcome(False, None, None, 0)
            try:
                result = await self._ingestor.ingest_url(self._podcast.feed_url)
            except IngestError as error:
                failed = await self._feeds.get_or_create(self._podcast.feed_url)
                delay = min(self._poll_interval * 2 ** (failed.consecutive_failures - 1), FEED_BACKOFF_CAP)
                await self._feeds.schedule_next_attempt(failed.id, now + max(delay, self._poll_interval))
                return PollOutcome(True, None, str(error), 0)
            await self._feeds.schedule_next_attempt(before.id, now + self._poll_interval)
            queued = await self._queue(
                result, newest_known=newest_known[0].published if newest_known else None
            )
        await self.deliver_due()
        return PollOutcome(True, result, None, queued)

    async def _queue(self, result: IngestResult, *, newest_known: datetime | None) -> int:
        if result.first_sync or not result.new:
            # The first sync finds the whole back catalogue: none of it is news.
            return 0
        news = [episode for episode in result.new if _is_news(episode, newest_known)]
        targets = await self._guilds.announcing()
        planned = [announcement for guild in targets for announcement in plan_announcements(guild, news)]
        queued = await self._outbox.enqueue(planned, now=self.clock())
        log.info("Queued %d announcements of %d new episodes for %d servers", queued, len(news), len(targets))
        return queued

    async def announce_latest(self, guild_id: int) -> LatestAnnouncement | None:
        """Announce the newest episode in one server now (its set-up, or a test of it): once, so
        not again if it already went out; a failed attempt is tried afresh."""
        settings = await self._guilds.get(guild_id)
        latest = await self._episodes.latest()
        if settings.announce_channel_id is None or settings.left_at is not None or not latest:
            return None
        episode_id = latest[0].id
        existing = await self._outbox.for_episode(guild_id, episode_id)
        if existing is not None and existing.status == "sent":
            return LatestAnnouncement(existing, already_sent=True)
        if existing is not None:
            await self._outbox.requeue(existing.id)
        else:
            planned = PlannedAnnouncement(guild_id, settings.announce_channel_id, episode_id, "full")
            await self._outbox.enqueue([planned], now=self.clock())
        await self.deliver_due()
        announcement = await self._outbox.for_episode(guild_id, episode_id)
        assert announcement is not None
        return LatestAnnouncement(announcement, already_sent=False)

    # ---- delivery ---------------------------------------------------------------------------

    async def deliver_due(self) -> None:
        """Send every due announcement: servers concurrently (bounded), each server in order."""
        async with self._delivery_lock:
            await self.resume_fixed_servers()
            due = await self._outbox.due(self.clock())
            if not due:
                return
            by_guild: dict[int, list[Announcement]] = defaultdict(list)
            for announcement in due:
                by_guild[announcement.guild_id].append(announcement)
            await asyncio.gather(*(self._deliver_guild(gid, items) for gid, items in by_guild.items()))

    async def _deliver_guild(self, guild_id: int, announcements: list[Announcement]) -> None:
        async with self._concurrency:
            settings = await self._guilds.get(guild_id)
            if settings.announce_channel_id is None:
                # The moderators turned announcements off: what was still queued is not sent later.
                await self._outbox.fail_pending(guild_id, "announcements were turned off in this server")
                return
            digest = [a for a in announcements if a.kind == "digest"]
            batches: list[list[Announcement]] = ([digest] if digest else []) + [
                [a] for a in announcements if a.kind == "full"
            ]
            for batch in batches:
                try:
                    await self._deliver(settings, batch)
                except _Retry as error:
                    await self._schedule_retry(batch, str(error))
                    return  # later episodes wait: a server sees its announcements in order
                except discord.Forbidden as error:
                    await self._pause(settings, settings.announce_channel_id, error)
                    return
                except _Unusable as error:
                    await self._guilds.pause(guild_id, str(error), now=self.clock())
                    return
                except discord.NotFound as error:
                    await self._channel_gone(settings, settings.announce_channel_id, error)
                    return
                except discord.HTTPException as error:
                    # A 4xx other than 403/404: retrying the same request cannot help.
                    log.error("Discord refused announcement %s: %s", [a.id for a in batch], error)
                    await self._outbox.mark_retry(
                        [a.id for a in batch], error=_short(error), next_attempt_at=None
                    )
                except Exception:
                    log.exception("Unexpected error delivering announcements %s", [a.id for a in batch])
                    await self._schedule_retry(batch, "unexpected error (see the bot's log)")
                    return

    async def _deliver(self, settings: GuildSettings, batch: list[Announcement]) -> None:
        first = batch[0]
        ids = [a.id for a in batch]
        episodes = await self._episodes.by_ids([a.episode_id for a in batch])
        if len(episodes) != len(batch):
            await self._outbox.mark_retry(ids, error="the episode no longer exists", next_attempt_at=None)
            return
        await self._outbox.record_attempt(ids)
        try:
            # The server's current channel: a moderator may have moved announcements since this
            # one was planned (for instance to fix a pause).
            channel_id = settings.announce_channel_id
            assert channel_id is not None
            channel = await self._resolve_channel(channel_id)
            if first.kind == "digest":
                message_id, thread_id = await self._send_digest(channel, first, episodes)
            else:
                message_id, thread_id = await self._send_episode(channel, settings, first, episodes[0])
        except (discord.DiscordServerError, aiohttp.ClientError, TimeoutError) as error:
            raise _Retry(_short(error)) from error
        await self._outbox.mark_sent(
            ids, message_id=message_id, thread_id=thread_id, now=self.clock(), channel_id=channel_id
        )
        log.info("Announced episodes %s in server %s", [a.episode_id for a in batch], first.guild_id)
        # by_ids keeps the batch's order: each episode goes with its own row, digest or not.
        for announcement, episode in zip(batch, episodes, strict=True):
            await self._run_announced_hooks(announcement.id, episode)

    async def _run_announced_hooks(self, announcement_id: int, episode: StoredEpisode) -> None:
        sent = await self._outbox.get(announcement_id)
        assert sent is not None
        for hook in self.on_announced:
            try:
                await hook(sent, episode)
            except Exception:
                log.exception("Announcement hook %r failed for announcement %s", hook, announcement_id)

    async def _send_episode(
        self,
        channel: discord.abc.Messageable | discord.ForumChannel,
        settings: GuildSettings,
        announcement: Announcement,
        episode: StoredEpisode,
    ) -> tuple[int, int | None]:
        """Post one episode's announcement; returns the message id and the thread id, if any."""
        post = self._cards.episode(settings, episode, await self._podcast.image())
        nonce = announcement_nonce(announcement.guild_id, announcement.episode_id, "full")
        message_id, thread_id, message = await self._post(channel, announcement, post, nonce)
        if message is None or not settings.threads_enabled:
            return message_id, thread_id
        try:
            thread = await message.create_thread(name=post.thread_name, auto_archive_duration=10080)
            thread_id = thread.id
        except discord.HTTPException as error:
            if error.code == THREAD_ALREADY_CREATED:
                # Opened before a crash: a thread started from a message shares its id.
                thread_id = message.id
            else:
                # The announcement itself is out; a missing thread must not make it resend.
                log.warning("Could not open a discussion thread on message %s: %s", message.id, error)
        return message_id, thread_id

    async def _send_digest(
        self,
        channel: discord.abc.Messageable | discord.ForumChannel,
        first: Announcement,
        episodes: Sequence[StoredEpisode],
    ) -> tuple[int, int | None]:
        """Post the catch-up message listing `episodes`; in a forum, as a post of its own."""
        nonce = announcement_nonce(first.guild_id, first.episode_id, "digest")
        message_id, thread_id, _ = await self._post(channel, first, self._cards.digest(episodes), nonce)
        return message_id, thread_id

    async def _post(
        self,
        channel: discord.abc.Messageable | discord.ForumChannel,
        announcement: Announcement,
        post: Post,
        nonce: str,
    ) -> tuple[int, int | None, discord.Message | None]:
        """Send `post` to a channel (the message comes back) or as a forum post of its own."""
        view = post.view or discord.utils.MISSING
        if isinstance(channel, discord.ForumChannel):
            existing = self._post_already_made(channel, post.thread_name) if announcement.attempts else None
            if existing is not None:
                return (*existing, None)
            created = await channel.create_thread(
                name=post.thread_name,
                content=post.content or discord.utils.MISSING,
                embed=post.embed,
                view=view,
                allowed_mentions=post.mentions,
            )
            return created.message.id, created.thread.id, None
        message = await channel.send(
            content=post.content, embed=post.embed, view=view, allowed_mentions=post.mentions, nonce=nonce
        )
        return message.id, None, message

    def _post_already_made(self, forum: discord.ForumChannel, name: str) -> tuple[int, int] | None:
        """A forum post this bot already made under `name`. Thread creation takes no nonce, so
        after a crash mid-send this is how a retry avoids posting twice."""
        me = self._client.user.id if self._client.user else None
        for thread in forum.threads:
            if thread.name == name and thread.owner_id == me:
                return thread.id, thread.id  # a post's first message shares the thread's id
        return None

    async def _resolve_channel(self, channel_id: int) -> discord.abc.Messageable | discord.ForumChannel:
        channel = self._client.get_channel(channel_id)
        if channel is None:
            channel = await self._client.fetch_channel(channel_id)
        if not isinstance(channel, discord.abc.Messageable | discord.ForumChannel):
            raise _Unusable(
                f"<#{channel_id}> cannot hold messages: choose a text, announcement or forum channel."
            )
        return channel

    async def _schedule_retry(self, batch: list[Announcement], error: str) -> None:
        attempts = max(a.attempts for a in batch) + 1
        if attempts >= MAX_DELIVERY_ATTEMPTS:
            log.error(
                "Giving up on announcements %s after %d attempts: %s", [a.id for a in batch], attempts, error
            )
            next_attempt = None
        else:
            delay = min(DELIVERY_RETRY_BASE * 2 ** (attempts - 1), DELIVERY_RETRY_CAP)
            next_attempt = self.clock() + delay
            log.warning("Announcement %s failed (%s); retrying in %s", [a.id for a in batch], error, delay)
        await self._outbox.mark_retry([a.id for a in batch], error=error, next_attempt_at=next_attempt)

    async def _pause(self, settings: GuildSettings, channel_id: int, error: discord.Forbidden) -> None:
        channel = self._client.get_channel(channel_id)
        reason = f"Discord refused the announcement in <#{channel_id}> (missing permissions)."
        if isinstance(channel, discord.abc.GuildChannel):
            missing = missing_permissions(channel, channel.guild.me, settings.threads_enabled)
            if missing:
                reason = f"The bot lacks {describe(missing)} in <#{channel_id}>."
        log.warning("Pausing announcements in server %s: %s (%s)", settings.guild_id, reason, error.text)
        await self._guilds.pause(settings.guild_id, reason, now=self.clock())

    async def _channel_gone(self, settings: GuildSettings, channel_id: int, error: discord.NotFound) -> None:
        log.warning(
            "Announcement channel %s of server %s is gone: %s", channel_id, settings.guild_id, error.text
        )
        await self._guilds.channel_deleted(settings.guild_id, channel_id, now=self.clock())
        await self._outbox.fail_pending(settings.guild_id, "the announcement channel was deleted")

    async def resume_fixed_servers(self) -> None:
        """Lift pauses whose cause is gone: the channel exists and the bot now has its permissions."""
        for settings in await self._guilds.paused():
            if settings.announce_channel_id is None:
                continue
            channel = self._client.get_channel(settings.announce_channel_id)
            if isinstance(channel, discord.abc.GuildChannel) and not missing_permissions(
                channel, channel.guild.me, settings.threads_enabled
            ):
                log.info("Permissions fixed in server %s; resuming announcements", settings.guild_id)
                await self._guilds.resume(settings.guild_id)


def plan_announcements(guild: GuildSettings, news: Sequence[StoredEpisode]) -> list[PlannedAnnouncement]:
    """The newest few episodes get their own message; any older extras share one digest."""
    assert guild.announce_channel_id is not None
    cut = max(len(news) - MAX_FULL_ANNOUNCEMENTS_PER_POLL, 0)
    return [
        PlannedAnnouncement(
            guild.guild_id, guild.announce_channel_id, episode.id, "digest" if i < cut else "full"
        )
        for i, episode in enumerate(news)
    ]


def _is_news(episode: StoredEpisode, newest_known: datetime | None) -> bool:
    if episode.published is None or newest_known is None:
        return True
    return episode.published >= newest_known - BACKFILL_TOLERANCE


def _short(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status}: {error.text or error.__class__.__name__}"[:200]
    return (str(error) or error.__class__.__name__)[:200]
