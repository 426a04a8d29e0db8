"""ChapterPoster: an episode's chapters, as timestamps, in each of its discussion threads, once.

Threads and chapters arrive in either order (a thread opens on an announcement before the chapters
file is fetched, or long after): every trigger runs the same catch-up, which posts where missing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

import aiohttp
import discord

from bot.announce.failures import THREAD_LOCKED
from bot.clock import utc_now
from bot.db.announcements import Announcement
from bot.db.documents import DocumentRepository, ThreadWithoutChapters
from bot.documents.formats import Chapter
from bot.models import StoredEpisode

log = logging.getLogger(__name__)

# The messages that show chapters (bot.ui.chapters renders them; injected, as the services do not
# import the Discord views).
ChapterRenderer = Callable[[Sequence[Chapter]], list[str]]


class ChapterPoster:
    def __init__(
        self,
        client: discord.Client,
        documents: DocumentRepository,
        render: ChapterRenderer,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._documents = documents
        self._render = render
        self._clock = clock
        self._lock = asyncio.Lock()
        # Threads whose last try failed mid-way: part of the chapters may be there already (a message
        # posted whose answer was lost, or the first of several), so the next try looks first.
        self._retrying: set[int] = set()

    async def on_announced(self, announcement: Announcement, _episode: StoredEpisode) -> None:
        """An announcement went out: if it opened a discussion thread, the chapters go in."""
        if announcement.thread_id is not None:
            await self.post_missing()

    async def post_missing(self) -> int:
        """Post the chapters in every discussion thread still without them; returns how many threads
        got them."""
        posted = 0
        async with self._lock:
            for thread in await self._documents.threads_without_chapters():
                if await self._documents.claim_chapter_post(thread, self._clock()):
                    posted += await self._post(thread)
        return posted

    async def _post(self, target: ThreadWithoutChapters) -> int:
        chapters = await self._documents.chapters(target.episode_id)
        try:
            thread = self._client.get_channel(target.thread_id) or await self._client.fetch_channel(
                target.thread_id
            )
            if not isinstance(thread, discord.Thread):
                return 0
            if thread.locked and not thread.permissions_for(thread.guild.me).manage_threads:
                # Moderators closed the discussion: only they may post in it now (topics/threads.mdx).
                log.info("Chapters not posted in thread %s: it is locked", target.thread_id)
                return 0
            posted = await self._posted(thread) if target.thread_id in self._retrying else set()
            for content in self._render(chapters):
                if content not in posted:
                    await thread.send(content, allowed_mentions=discord.AllowedMentions.none())
        except (discord.NotFound, discord.Forbidden) as error:
            # A deleted thread, or one the bot may not post in: it stays marked, never retried.
            log.info("Chapters not posted in thread %s: %s", target.thread_id, error)
            return 0
        except discord.HTTPException as error:
            if error.code != THREAD_LOCKED:  # locked since the check above: as final as a deleted one
                return await self._retry_later(target, error)
            log.info("Chapters not posted in thread %s: it is locked", target.thread_id)
            return 0
        except (aiohttp.ClientError, TimeoutError) as error:
            return await self._retry_later(target, error)
        self._retrying.discard(target.thread_id)
        log.info("Posted %d chapters in thread %s", len(chapters), target.thread_id)
        return 1

    async def _retry_later(self, target: ThreadWithoutChapters, error: Exception) -> int:
        log.warning("Chapters not posted in thread %s, will retry: %s", target.thread_id, error)
        self._retrying.add(target.thread_id)
        await self._documents.release_chapter_post(target.thread_id)
        return 0

    async def _posted(self, thread: discord.Thread) -> set[str]:
        """What the bot posted lately in the thread (to post only the chapter messages not there)."""
        me = self._client.user
        try:
            return {
                message.content
                async for message in thread.history(limit=100)
                if me is not None and message.author.id == me.id
            }
        except discord.Forbidden:  # no Read Message History: post them all, as on a first try
            return set()
