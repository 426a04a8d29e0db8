"""Announcer: polls the feed, plans announcements into the outbox and delivers them exactly once,
in order, whatever Discord does: rate limits, outages and lost answers are retried for days; only a
refusal that retrying cannot fix ends an announcement, and a moderator hears why."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
import discord

from bot.announce.alerts import ModeratorAlerts
from bot.announce.failures import Failure, judge
from bot.announce.pacing import RequestPacer
from bot.announce.posting import AnnouncementPoster, AnnouncementRenderer
from bot.announce.publishing import Publisher
from bot.clock import utc_now
from bot.db import EpisodeRepository, FeedRepository
from bot.db.announcements import Announcement, AnnouncementRepository, PlannedAnnouncement
from bot.db.guilds import GuildSettings, GuildSettingsRepository, PauseKind
from bot.feed.ingest import FeedIngestor, IngestError, IngestResult
from bot.models import StoredEpisode
from bot.permissions import describe, missing_in
from bot.podcast import Podcast

log = logging.getLogger(__name__)

# Episodes announced one by one per poll and server; older extras share one catch-up message.
MAX_FULL_ANNOUNCEMENTS_PER_POLL = 5
# A "new" episode dated this long before the newest one already known is an old one the feed
# re-published (a rebuilt archive, a fixed guid), not news. Relative to the catalogue, not the
# clock, so a bot that was down for weeks still announces what it missed.
BACKFILL_TOLERANCE = timedelta(days=2)
DELIVERY_RETRY_BASE = timedelta(seconds=30)
DELIVERY_RETRY_CAP = timedelta(minutes=30)
# Discord's incidents last hours; an announcement is given up only after failing this long.
DELIVERY_RETRY_HORIZON = timedelta(days=7)
# A server that is unavailable (a Discord outage) is tried again this often, losing nothing.
OUTAGE_RECHECK = timedelta(minutes=5)
FEED_BACKOFF_CAP = timedelta(hours=6)
# The moderators hear of a failing feed once it has failed this long: a blip is not an incident.
FEED_ALERT_AFTER = timedelta(hours=2)
# Read Message History: after a crash the bot reads the channel to find out whether it had posted.
REQUIRED_PERMISSIONS = ("view_channel", "send_messages", "embed_links", "read_message_history")
THREAD_PERMISSIONS = ("create_public_threads",)


AnnouncedHook = Callable[["Announcement", StoredEpisode], Awaitable[None]]


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


def announcement_nonce(guild_id: int, episode_id: int, kind: str) -> str:
    """The same (server, episode) always gets the same nonce, so a message resent soon after a
    crash is recognised by Discord (enforce_nonce) instead of posted twice. Discord takes 25 chars."""
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
        alerts: ModeratorAlerts,
        publisher: Publisher,
        pacer: RequestPacer,
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
        self._alerts = alerts
        self._publisher = publisher
        self._poster = AnnouncementPoster(client, cards, podcast, pacer)
        self._concurrency = asyncio.Semaphore(concurrency)
        self._clock = clock
        # Called after each episode announcement is recorded as sent (a failing hook is logged and
        # does not affect delivery): features that react to an announcement subscribe here.
        self.on_announced: list[AnnouncedHook] = []
        self._poll_lock = asyncio.Lock()
        self._delivery_lock = asyncio.Lock()
        # Cloudflare is refusing the bot's requests until then: nothing is sent, so the ban ends.
        self._blocked_until: datetime | None = None

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        """Tests and the soak move time forward; the alerts and the publisher keep the same time."""
        self._clock = clock
        self._alerts.clock = clock
        self._publisher.clock = clock

    # ---- polling and planning -------------------------------------------------------------

    async def poll(self, *, force: bool = False) -> PollOutcome:
        """One scheduled poll: fetch the feed, queue what is news, deliver what is due."""
        async with self._poll_lock:
            now = self.clock()
            feed_url = await self._podcast.feed_url()
            before = await self._feeds.get_or_create(feed_url)
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
            queued = 0

            async def queue_news(result: IngestResult) -> None:
                # Before the ingest completes: a crash after storing re-reports these episodes.
                nonlocal queued
                queued = await self._queue(
                    result, newest_known=newest_known[0].published if newest_known else None
                )

            try:
                result = await self._ingestor.ingest_url(feed_url, before_completing=queue_news)
            except IngestError as error:
                failed = await self._feeds.get_or_create(feed_url)
                delay = min(self._poll_interval * 2 ** (failed.consecutive_failures - 1), FEED_BACKOFF_CAP)
                await self._feeds.schedule_next_attempt(failed.id, now + max(delay, self._poll_interval))
                if failed.failing_since is not None and now - failed.failing_since >= FEED_ALERT_AFTER:
                    since = discord.utils.format_dt(failed.failing_since, "R")
                    await self._alerts.started_everywhere(
                        "feed", f"The podcast feed has been failing since {since}: {error}. I keep trying."
                    )
                return PollOutcome(True, None, str(error), 0)
            await self._feeds.schedule_next_attempt(before.id, now + self._poll_interval)
            if before.consecutive_failures:
                await self._alerts.ended_everywhere("feed", "The podcast feed works again.")
        await self.deliver_due()
        if result.updated:
            await self._correct_cards(result.updated)
        return PollOutcome(True, result, None, queued)

    async def _correct_cards(self, episodes: Sequence[StoredEpisode]) -> None:
        """The feed corrected episodes already announced (a title, a link, the notes): their posted
        cards follow. Best effort, within Discord's limits on editing: what Discord refuses (an
        archived forum post, an announcement rate limit) keeps its old card, and is logged."""
        corrected = {episode.id: episode for episode in episodes}
        for announcement in await self._outbox.sent_for(list(corrected)):
            settings = await self._guilds.get(announcement.guild_id)
            if settings.left_at is not None:
                continue
            try:
                await self._poster.correct(settings, announcement, corrected[announcement.episode_id])
            except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as error:
                log.info(
                    "Could not update announcement %s after a feed correction: %s", announcement.id, error
                )

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
            # A moderator's test: their server sees it, the servers following the channel do not.
            planned = PlannedAnnouncement(
                guild_id, settings.announce_channel_id, episode_id, "full", publish=False
            )
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
            now = self.clock()
            if self._blocked_until is not None and now < self._blocked_until:
                return
            due = await self._outbox.due(now)
            by_guild: dict[int, list[Announcement]] = defaultdict(list)
            for announcement in due:
                by_guild[announcement.guild_id].append(announcement)
            await asyncio.gather(*(self._deliver_guild(gid, items) for gid, items in by_guild.items()))
        await self._publisher.start_due()  # in the background: a slow publish holds up nothing

    async def _deliver_guild(self, guild_id: int, announcements: list[Announcement]) -> None:
        async with self._concurrency:
            settings = await self._guilds.get(guild_id)
            if settings.announce_channel_id is None:
                # The moderators turned announcements off: what was still queued is not sent later.
                await self._outbox.fail_pending(guild_id, "announcements were turned off in this server")
                return
            guild = self._client.get_guild(guild_id)
            if guild is None or guild.unavailable:
                # A Discord outage (or the bot is still connecting): everything waits, nothing is lost.
                first = announcements[0]
                await self._outbox.mark_retry(
                    [first.id],
                    error="the server is unavailable (a Discord outage)",
                    next_attempt_at=self.clock() + OUTAGE_RECHECK,
                    outcome_unknown=first.outcome_unknown,
                )
                return
            digest = [a for a in announcements if a.kind == "digest"]
            batches: list[list[Announcement]] = ([digest] if digest else []) + [
                [a] for a in announcements if a.kind == "full"
            ]
            for batch in batches:
                if self._blocked_until is not None and self.clock() < self._blocked_until:
                    return
                failure = await self._deliver(settings, batch)
                if failure is not None and failure.verdict != "give_up":
                    return  # later episodes wait: a server sees its announcements in order

    async def _deliver(self, settings: GuildSettings, batch: list[Announcement]) -> Failure | None:
        """Deliver one batch and record the outcome; the failure, if it failed."""
        first = batch[0]
        ids = [a.id for a in batch]
        episodes = await self._episodes.by_ids([a.episode_id for a in batch])
        if len(episodes) != len(batch):
            await self._outbox.mark_retry(ids, error="the episode no longer exists", next_attempt_at=None)
            return Failure("give_up", "the episode no longer exists")
        await self._outbox.record_attempt(ids, now=self.clock())
        assert settings.announce_channel_id is not None
        try:
            delivered = await self._poster.deliver(
                settings,
                batch,
                episodes,
                nonce=announcement_nonce(first.guild_id, first.episode_id, first.kind),
            )
        except Exception as error:
            guild = self._client.get_guild(settings.guild_id)
            failure = judge(
                error,
                channel_id=settings.announce_channel_id,
                guild_unavailable=guild is None or guild.unavailable,
            )
            if failure.verdict == "retry" and not isinstance(error, discord.HTTPException):
                log.warning("Delivering announcements %s failed", ids, exc_info=error)
            await self._record_failure(settings, batch, episodes, failure)
            return failure
        await self._outbox.mark_sent(
            ids,
            message_id=delivered.message_id,
            thread_id=delivered.thread_id,
            now=self.clock(),
            channel_id=delivered.channel_id,
            to_publish=delivered.to_publish,
        )
        how = "found already posted" if delivered.found else "announced"
        log.info("Episodes %s %s in server %s", [a.episode_id for a in batch], how, first.guild_id)
        # by_ids keeps the batch's order: each episode goes with its own row, digest or not.
        for announcement, episode in zip(batch, episodes, strict=True):
            await self._run_announced_hooks(announcement.id, episode)
        return None

    async def _record_failure(
        self,
        settings: GuildSettings,
        batch: list[Announcement],
        episodes: Sequence[StoredEpisode],
        failure: Failure,
    ) -> None:
        ids = [a.id for a in batch]
        now = self.clock()
        if failure.verdict == "banned":
            self._blocked_until = now + failure.wait
            log.error(
                "Discord's Cloudflare refuses the bot's requests; nothing is sent until %s",
                self._blocked_until,
            )
        if failure.verdict in ("retry", "banned"):
            first_attempt = min((a.first_attempt_at or now) for a in batch)
            if now - first_attempt < DELIVERY_RETRY_HORIZON:
                attempts = max(a.attempts for a in batch) + 1
                delay = max(min(DELIVERY_RETRY_BASE * 2 ** (attempts - 1), DELIVERY_RETRY_CAP), failure.wait)
                log.warning("Announcements %s failed (%s); retrying in %s", ids, failure.reason, delay)
                await self._outbox.mark_retry(
                    ids,
                    error=failure.reason,
                    next_attempt_at=now + delay,
                    outcome_unknown=failure.may_have_posted,
                )
                return
            failure = Failure(
                "give_up", f"Discord kept failing for {DELIVERY_RETRY_HORIZON.days} days: {failure.reason}"
            )
        if failure.verdict == "give_up":
            log.error("Giving up on announcements %s: %s", ids, failure.reason)
            await self._outbox.mark_retry(ids, error=failure.reason, next_attempt_at=None)
            titles = ", ".join(f"**{discord.utils.escape_markdown(e.title[:100])}**" for e in episodes)
            await self._alerts.started(
                settings.guild_id,
                "given_up",
                f"I gave up announcing {titles}: {failure.reason}",
                subject=str(ids[0]),
            )
            return
        # Paused, or the channel is gone: nothing was posted, and the announcements stay queued.
        await self._outbox.mark_retry(ids, error=failure.reason, next_attempt_at=now)
        assert settings.announce_channel_id is not None
        if failure.verdict == "channel_gone":
            await self._channel_gone(settings, settings.announce_channel_id)
            return
        assert failure.pause_kind is not None
        await self._pause(settings, failure.reason, failure.pause_kind)

    async def _run_announced_hooks(self, announcement_id: int, episode: StoredEpisode) -> None:
        sent = await self._outbox.get(announcement_id)
        assert sent is not None
        for hook in self.on_announced:
            try:
                await hook(sent, episode)
            except Exception:
                log.exception("Announcement hook %r failed for announcement %s", hook, announcement_id)

    async def _pause(self, settings: GuildSettings, reason: str, kind: PauseKind) -> None:
        channel_id = settings.announce_channel_id
        channel = self._client.get_channel(channel_id or 0)
        if kind == "permissions" and isinstance(channel, discord.abc.GuildChannel):
            missing = missing_permissions(channel, channel.guild.me, settings.threads_enabled)
            if missing:
                reason = f"The bot lacks {describe(missing)} in <#{channel_id}>."
        log.warning("Pausing announcements in server %s: %s", settings.guild_id, reason)
        await self._guilds.pause(settings.guild_id, reason, kind=kind, now=self.clock())
        await self._alerts.started(settings.guild_id, "paused", f"Announcements are paused. {reason}")

    async def _channel_gone(self, settings: GuildSettings, channel_id: int) -> None:
        log.warning("Announcement channel %s of server %s is gone", channel_id, settings.guild_id)
        await self.channel_deleted(settings.guild_id, channel_id)

    async def channel_deleted(self, guild_id: int, channel_id: int) -> None:
        """Forget a deleted announcement channel (an event, or Discord saying so)."""
        if await self._guilds.channel_deleted(guild_id, channel_id, now=self.clock()):
            await self._outbox.fail_pending(guild_id, "the announcement channel was deleted")
            await self._alerts.started(
                guild_id,
                "paused",
                f"Announcements are paused: the announcement channel <#{channel_id}> was deleted. "
                "Choose a new one with /config channel set.",
            )

    async def resume(self, guild_id: int) -> None:
        """A moderator fixed what paused the server (or asked to try again): deliver now."""
        await self._guilds.resume(guild_id)
        await self._alerts.ended(guild_id, "paused", "Announcements are flowing again.")
        await self.deliver_due()

    async def resume_fixed_servers(self) -> None:
        """Lift the pauses that permissions caused once the bot has them again (no request needed:
        discord.py keeps the permissions up to date from gateway events)."""
        for settings in await self._guilds.paused():
            if settings.announce_channel_id is None or settings.paused_kind != "permissions":
                continue
            channel = self._client.get_channel(settings.announce_channel_id)
            if isinstance(channel, discord.abc.GuildChannel) and not missing_permissions(
                channel, channel.guild.me, settings.threads_enabled
            ):
                log.info("Permissions fixed in server %s; resuming announcements", settings.guild_id)
                await self._guilds.resume(settings.guild_id)
                await self._alerts.ended(settings.guild_id, "paused", "Announcements are flowing again.")


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
