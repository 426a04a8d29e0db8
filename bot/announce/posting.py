"""Puts one announcement (an episode's, or a catch-up digest) in a server's channel, exactly once.

Discord dedups a resent message by its nonce for a few minutes only (developers/resources/message.mdx,
enforce_nonce), and a forum post takes no nonce at all. So when an earlier attempt may have posted
without the bot hearing of it (a crash, a lost response, a restart hours later), the bot looks for its
own message first: its author, and the reference every announcement carries in its footer, in what the
channel received since that first attempt (for a forum, its posts, archived ones included).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import discord

from bot.announce.failures import THREAD_ALREADY_CREATED, UnusableChannel
from bot.announce.pacing import RequestPacer
from bot.db.announcements import Announcement
from bot.db.guilds import GuildSettings
from bot.models import StoredEpisode
from bot.podcast import Podcast
from bot.posts import THREAD_ARCHIVE_MINUTES, Post

log = logging.getLogger(__name__)

# Look a little before the first attempt: clocks drift, and a snowflake's time is Discord's.
LOOKUP_MARGIN = timedelta(minutes=2)
LOOKUP_MESSAGES = 500  # at most this many messages (five requests) since the first attempt
LOOKUP_ARCHIVED_POSTS = 100

AnnouncementChannel = discord.TextChannel | discord.Thread | discord.ForumChannel


class AnnouncementRenderer(Protocol):
    """How announcements look (bot.ui.cards renders them). `ref` goes in the footer of each: the
    bot recognises its own announcements by it."""

    def episode(
        self,
        settings: GuildSettings,
        episode: StoredEpisode,
        podcast_image: str | None,
        ref: str,
        *,
        published: bool = False,
    ) -> Post: ...

    def digest(self, episodes: Sequence[StoredEpisode], ref: str) -> Post: ...


@dataclass(frozen=True, slots=True)
class Delivered:
    channel_id: int
    message_id: int
    thread_id: int | None
    found: bool  # it was already there from an earlier attempt: nothing was posted now
    to_publish: bool = False  # in an announcement channel that publishes to its followers


def announcement_ref(announcement: Announcement) -> str:
    """What names an announcement in its footer: "e123" for episode 123's, "d123" for the digest
    that starts with it."""
    return f"{'d' if announcement.kind == 'digest' else 'e'}{announcement.episode_id}"


def footer_ref(text: str | None) -> str | None:
    """The ref at the end of a footer "Podcast · ref e123", if any."""
    if not text or " · ref " not in text:
        return None
    return text.rsplit(" · ref ", 1)[1]


class AnnouncementPoster:
    def __init__(
        self, client: discord.Client, cards: AnnouncementRenderer, podcast: Podcast, pacer: RequestPacer
    ) -> None:
        self._client = client
        self._cards = cards
        self._podcast = podcast
        self._pacer = pacer

    async def deliver(
        self,
        settings: GuildSettings,
        batch: Sequence[Announcement],
        episodes: Sequence[StoredEpisode],
        *,
        nonce: str,
    ) -> Delivered:
        """Post the batch (one episode, or a digest of several) in the server's current channel;
        raises what Discord raised (bot.announce.failures judges it)."""
        first = batch[0]
        ref = announcement_ref(first)
        # The server's current channel: a moderator may have moved announcements since this one was
        # planned (for instance to fix a pause).
        assert settings.announce_channel_id is not None
        channel = await self._channel(settings.announce_channel_id)
        published = (
            isinstance(channel, discord.TextChannel) and channel.is_news() and settings.publish_enabled
        )
        if first.kind == "digest":
            post = self._cards.digest(episodes, ref)
        else:
            image = await self._podcast.image()
            post = self._cards.episode(
                settings, episodes[0], image, ref, published=published and first.publish
            )
        if isinstance(channel, discord.ForumChannel):
            return await self._forum_post(channel, settings, first, post, ref)
        message = None
        if first.outcome_unknown and first.first_attempt_at is not None:
            message = await self._own_message(channel, ref, first.first_attempt_at)
        found = message is not None
        if message is None:
            async with self._pacer.slot():
                message = await post.send_to(channel, nonce=nonce)
            if post.ping_role_id is not None:
                await self._ping(message, post.ping_role_id, nonce)
        thread_id = None
        if first.kind == "full" and settings.threads_enabled and not isinstance(channel, discord.Thread):
            thread_id = await self._discussion_thread(message, post.thread_name)
        return Delivered(channel.id, message.id, thread_id, found, to_publish=published)

    async def _ping(self, card: discord.Message, role_id: int, nonce: str) -> None:
        """The ping of a published announcement, as a reply of its own that is not published."""
        try:
            async with self._pacer.slot():
                await card.reply(
                    f"<@&{role_id}>",
                    allowed_mentions=discord.AllowedMentions(
                        everyone=False, users=False, roles=[discord.Object(role_id)]
                    ),
                    mention_author=False,
                    nonce=f"{nonce[:20]}ping",
                )
        except discord.HTTPException as error:
            # The announcement itself is out; a lost ping must not make it resend.
            log.warning("Could not ping role %s for announcement %s: %s", role_id, card.id, error)

    async def correct(
        self, settings: GuildSettings, announcement: Announcement, episode: StoredEpisode
    ) -> None:
        """Show the episode as the feed has it now on its posted announcement (a forum post's first
        message lives in the post's thread)."""
        if announcement.message_id is None:
            return
        channel = self._client.get_channel(announcement.channel_id)
        if channel is None:
            return  # deleted since, or the bot lost sight of it
        holder = announcement.thread_id if isinstance(channel, discord.ForumChannel) else channel.id
        if holder is None:
            return
        post = self._cards.episode(
            settings, episode, await self._podcast.image(), announcement_ref(announcement)
        )
        message = self._client.get_partial_messageable(
            holder, guild_id=settings.guild_id
        ).get_partial_message(announcement.message_id)
        async with self._pacer.slot():
            # An edit notifies nobody; none of its mentions may either.
            await message.edit(
                content=post.content,
                embed=post.embed,
                view=post.view,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        log.info("Announcement %s updated after the feed corrected episode %s", announcement.id, episode.id)

    async def _channel(self, channel_id: int) -> discord.TextChannel | discord.Thread | discord.ForumChannel:
        channel = self._client.get_channel(channel_id)
        if channel is None:
            async with self._pacer.slot():
                channel = await self._client.fetch_channel(channel_id)
        if not isinstance(channel, AnnouncementChannel):
            raise UnusableChannel(f"<#{channel_id}> cannot hold messages")
        return channel

    async def _forum_post(
        self,
        forum: discord.ForumChannel,
        settings: GuildSettings,
        first: Announcement,
        post: Post,
        ref: str,
    ) -> Delivered:
        if first.outcome_unknown and first.first_attempt_at is not None:
            existing = await self._own_post(forum, post.thread_name, ref, first.first_attempt_at)
            if existing is not None:
                return Delivered(forum.id, existing.id, existing.id, found=True)
        tag = forum.get_tag(settings.forum_tag_id) if settings.forum_tag_id else None
        async with self._pacer.slot():
            created = await post.open_in(forum, tags=[tag] if tag is not None else ())
        # A forum post's first message has the post's id.
        return Delivered(forum.id, created.message.id, created.thread.id, found=False)

    async def _discussion_thread(self, message: discord.Message, name: str) -> int | None:
        existing = message.thread or (message.guild.get_thread(message.id) if message.guild else None)
        if existing is not None:
            return existing.id
        try:
            async with self._pacer.slot():
                thread = await message.create_thread(name=name, auto_archive_duration=THREAD_ARCHIVE_MINUTES)
        except discord.HTTPException as error:
            if error.code == THREAD_ALREADY_CREATED:
                return message.id  # opened before a crash: a thread started from a message has its id
            # The announcement itself is out; a missing thread must not make it resend.
            log.warning("Could not open a discussion thread on message %s: %s", message.id, error)
            return None
        return thread.id

    def _is_mine(self, message: discord.Message, ref: str) -> bool:
        me = self._client.user
        return (
            me is not None
            and message.author.id == me.id
            and message.webhook_id is None  # not an answer to a command (a shared card, say)
            and any(footer_ref(embed.footer.text) == ref for embed in message.embeds)
        )

    async def _own_message(
        self, channel: discord.TextChannel | discord.Thread, ref: str, since: datetime
    ) -> discord.Message | None:
        after = discord.Object(discord.utils.time_snowflake(since - LOOKUP_MARGIN))
        async with self._pacer.slot():
            async for message in channel.history(limit=LOOKUP_MESSAGES, after=after, oldest_first=True):
                if self._is_mine(message, ref):
                    log.info(
                        "Announcement %s was already in channel %s: message %s", ref, channel.id, message.id
                    )
                    return message
        return None

    async def _own_post(
        self, forum: discord.ForumChannel, name: str, ref: str, since: datetime
    ) -> discord.Thread | None:
        me = self._client.user
        earliest = since - LOOKUP_MARGIN
        candidates = [thread for thread in forum.threads if thread.name == name]
        async with self._pacer.slot():
            async for thread in forum.archived_threads(limit=LOOKUP_ARCHIVED_POSTS):
                if thread.archive_timestamp < earliest:
                    break  # listed newest archived first: the rest were archived before the attempt
                if thread.name == name:
                    candidates.append(thread)
        for thread in candidates:
            if me is None or thread.owner_id != me.id or discord.utils.snowflake_time(thread.id) < earliest:
                continue
            async with self._pacer.slot():
                starter = await thread.fetch_message(thread.id)
            if self._is_mine(starter, ref):
                log.info("Announcement %s was already posted in forum %s: post %s", ref, forum.id, thread.id)
                return thread
        return None
