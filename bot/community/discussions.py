"""Finding the discussion thread of an episode in a server, or opening one."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.clock import utc_now
from bot.db.announcements import AnnouncementRepository
from bot.db.discussions import DiscussionRepository, DiscussionThread
from bot.db.guilds import GuildSettingsRepository
from bot.errors import UserFacingError
from bot.models import StoredEpisode
from bot.permissions import describe, missing_in
from bot.posts import THREAD_ARCHIVE_MINUTES, Post

if TYPE_CHECKING:
    from discord.interactions import InteractionChannel

log = logging.getLogger(__name__)


ThreadHome = discord.TextChannel | discord.ForumChannel


@dataclass(frozen=True, slots=True)
class DiscussionLink:
    thread_id: int
    created: bool  # True: opened by this request; False: it existed already


class Discussions:
    """One discussion thread per server and episode: the announcement's, else one opened on request."""

    def __init__(
        self,
        outbox: AnnouncementRepository,
        discussions: DiscussionRepository,
        guilds: GuildSettingsRepository,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._outbox = outbox
        self._discussions = discussions
        self._guilds = guilds
        self._clock = clock
        # Held while looking for and opening a thread, so two people asking at once get one thread.
        self._locks: weakref.WeakValueDictionary[tuple[int, int], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def find_or_open(
        self,
        client: discord.Client,
        *,
        here: InteractionChannel | None,
        member: discord.Member,
        episode: StoredEpisode,
        card: Post,
    ) -> DiscussionLink:
        """The thread of `episode` in `member`'s server; opened from `card`, posted in `here` (or the
        announcement channel when `here` cannot hold threads), if there is none yet."""
        guild = member.guild
        key = (guild.id, episode.id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            existing = await self._existing(client, guild, episode)
            if existing is not None:
                return DiscussionLink(existing, created=False)
            home = await self._home(guild, here, member)
            _check_bot_permissions(home)
            thread = await _open_thread(home, card)
            await self._discussions.record(
                DiscussionThread(guild.id, episode.id, home.id, thread.id, member.id, self._clock())
            )
            log.info(
                "Opened discussion thread %s for episode %s in server %s", thread.id, episode.id, guild.id
            )
            return DiscussionLink(thread.id, created=True)

    async def _existing(
        self, client: discord.Client, guild: discord.Guild, episode: StoredEpisode
    ) -> int | None:
        announcement = await self._outbox.for_episode(guild.id, episode.id)
        recorded = await self._discussions.get(guild.id, episode.id)
        for thread_id in (
            announcement.thread_id if announcement else None,
            recorded.thread_id if recorded else None,
        ):
            if thread_id is not None and await _thread_exists(client, guild, thread_id):
                return thread_id
        return None

    async def _home(
        self, guild: discord.Guild, here: InteractionChannel | None, member: discord.Member
    ) -> ThreadHome:
        """`here` if it can hold threads, else the announcement channel: the first that `member` may post
        in, because the card that opens the thread is posted in their name."""
        homes: list[ThreadHome] = []
        if isinstance(here, discord.TextChannel):  # text and announcement channels
            homes.append(here)
        settings = await self._guilds.get(guild.id)
        announce = guild.get_channel(settings.announce_channel_id or 0)
        if isinstance(announce, ThreadHome) and announce not in homes:
            homes.append(announce)
        if not homes:
            raise UserFacingError(
                "A discussion thread can't be opened from here: run /discuss in a text channel."
            )
        for home in homes:
            if _may_post(home, member):
                return home
        where = " or ".join(home.mention for home in homes)
        raise UserFacingError(f"You can't post in {where}, so I won't open a discussion thread for you.")


async def _thread_exists(client: discord.Client, guild: discord.Guild, thread_id: int) -> bool:
    if guild.get_channel_or_thread(thread_id) is not None:
        return True
    try:
        await client.fetch_channel(thread_id)  # archived threads are not cached
    except discord.NotFound:
        return False
    except discord.Forbidden:
        return True  # it exists; the bot only lost sight of it, and a second thread would split the talk
    return True


def _may_post(home: ThreadHome, member: discord.Member) -> bool:
    """Whether `member` could open the thread themselves: post in `home` (in a forum, Send Messages is
    Create Posts) and chat in its threads."""
    theirs = home.permissions_for(member)
    return theirs.view_channel and theirs.send_messages and theirs.send_messages_in_threads


def _check_bot_permissions(home: ThreadHome) -> None:
    me = home.guild.me
    if me is None:
        raise UserFacingError("I am still connecting to this server; try again in a few seconds.")
    needed = ["view_channel", "send_messages", "embed_links"]
    if isinstance(home, discord.TextChannel):
        needed += ["read_message_history", "create_public_threads"]
    missing = missing_in(home, me, needed)
    if missing:
        raise UserFacingError(
            f"I can't open a discussion thread in {home.mention}: I lack the {describe(missing)} "
            "permission there. A moderator can grant it to my role in the channel settings."
        )


async def _open_thread(home: ThreadHome, card: Post) -> discord.Thread:
    try:
        if isinstance(home, discord.ForumChannel):
            return (await card.open_in(home)).thread
        message = await card.send_to(home)
    except discord.Forbidden as error:
        raise UserFacingError(f"Discord did not let me post in {home.mention}: {error.text}") from error
    try:
        return await message.create_thread(
            name=card.thread_name, auto_archive_duration=THREAD_ARCHIVE_MINUTES
        )
    except discord.HTTPException as error:
        # A card without its thread would only confuse: take it back.
        try:
            await message.delete()
        except discord.HTTPException:
            log.warning("Could not delete card %s after its thread failed", message.id)
        raise UserFacingError(f"Discord did not let me open the thread: {error.text}") from error
