"""Publishing: announcements in an announcement channel are crossposted to the servers that follow it
(developers/resources/message.mdx, "Crosspost Message"), once each.

Discord does not document how often a channel may publish; users report about 10 an hour. Publishing
therefore runs apart from delivery, one task per channel: a channel waiting out a long rate limit holds
up neither the announcements nor the other channels. "Already crossposted" counts as done, so a crash
or a retry never publishes twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp
import discord

from bot.announce.failures import UNKNOWN_CHANNEL, UNKNOWN_MESSAGE
from bot.announce.pacing import RequestPacer
from bot.clock import utc_now
from bot.db.announcements import Announcement, AnnouncementRepository
from bot.db.guilds import GuildSettingsRepository

log = logging.getLogger(__name__)

ALREADY_CROSSPOSTED = 40033
NOT_AN_ANNOUNCEMENT_CHANNEL = 50024
PUBLISH_RETRY_BASE = timedelta(minutes=1)
PUBLISH_RETRY_CAP = timedelta(hours=1)
PUBLISH_RETRY_HORIZON = timedelta(days=2)


class Publisher:
    def __init__(
        self,
        client: discord.Client,
        outbox: AnnouncementRepository,
        guilds: GuildSettingsRepository,
        pacer: RequestPacer,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._outbox = outbox
        self._guilds = guilds
        self._pacer = pacer
        self.clock = clock
        self._channels: dict[int, asyncio.Task[None]] = {}  # the channels publishing now

    async def start_due(self) -> list[asyncio.Task[None]]:
        """Start publishing what is due, a task per channel; a channel whose task is running already
        is left to it (it takes up what became due meanwhile). Returns at once, with the tasks."""
        channels = {announcement.channel_id for announcement in await self._outbox.to_publish(self.clock())}
        tasks = []
        for channel_id in sorted(channels):
            task = self._channels.get(channel_id)
            if task is None or task.done():
                task = asyncio.create_task(self._publish(channel_id), name=f"publish in {channel_id}")
                self._channels[channel_id] = task
            tasks.append(task)
        return tasks

    async def publish_due(self) -> None:
        """Publish what is due and wait until it is done (tests and the command line)."""
        tasks = await self.start_due()
        if tasks:
            await asyncio.gather(*tasks)

    async def close(self) -> None:
        """Stop publishing (the bot is shutting down): what is left is published after the restart."""
        for task in self._channels.values():
            task.cancel()
        await asyncio.gather(*self._channels.values(), return_exceptions=True)
        self._channels.clear()

    async def _publish(self, channel_id: int) -> None:
        """Publish the channel's due announcements, oldest first, until none is left or Discord says
        to wait."""
        try:
            while due := await self._outbox.to_publish(self.clock(), channel_id=channel_id):
                for announcement in due:
                    if not await self._publish_one(announcement):
                        return  # the channel is refusing for now: the rest waits for its retry
        except asyncio.CancelledError:
            log.info("Publishing stopped: the bot is shutting down")

    async def _publish_one(self, announcement: Announcement) -> bool:
        """Publish one announcement's message; False when the channel should not be tried again now."""
        assert announcement.message_id is not None
        settings = await self._guilds.get(announcement.guild_id)
        if not settings.publish_enabled or settings.left_at is not None:
            await self._outbox.record_publish(announcement.message_id, None)
            return True
        channel = self._client.get_partial_messageable(
            announcement.channel_id, guild_id=announcement.guild_id
        )
        try:
            async with self._pacer.slot():
                await channel.get_partial_message(announcement.message_id).publish()
        except discord.HTTPException as error:
            return await self._failed(announcement, error)
        except (aiohttp.ClientError, TimeoutError) as error:
            return await self._failed(announcement, error)
        await self._outbox.record_publish(announcement.message_id, "published")
        log.info("Published announcement %s in channel %s", announcement.id, announcement.channel_id)
        return True

    async def _failed(self, announcement: Announcement, error: Exception) -> bool:
        assert announcement.message_id is not None
        code = error.code if isinstance(error, discord.HTTPException) else 0
        if code == ALREADY_CROSSPOSTED:
            # Published by an earlier attempt whose answer was lost: done, never twice.
            await self._outbox.record_publish(announcement.message_id, "published")
            return True
        final = {
            UNKNOWN_MESSAGE: "the announcement was deleted before it could be published",
            UNKNOWN_CHANNEL: "the announcement channel was deleted before it could be published",
            NOT_AN_ANNOUNCEMENT_CHANNEL: "the channel is no longer an announcement channel",
        }.get(code)
        now = self.clock()
        started = announcement.sent_at or now
        if final is None and now - started >= PUBLISH_RETRY_HORIZON:
            final = f"Discord kept refusing for {PUBLISH_RETRY_HORIZON.days} days: {_reason(error)}"
        if final is not None:
            log.warning("Giving up publishing announcement %s: %s", announcement.id, final)
            await self._outbox.record_publish(announcement.message_id, "failed", error=final)
            return True
        # A rate limit outlasting discord.py's patience, a server error, missing permissions that a
        # moderator may fix: try again later.
        delay = min(PUBLISH_RETRY_BASE * 2**announcement.publish_attempts, PUBLISH_RETRY_CAP)
        log.info(
            "Publishing announcement %s failed (%s); retrying in %s", announcement.id, _reason(error), delay
        )
        await self._outbox.record_publish(
            announcement.message_id, "pending", error=_reason(error), next_attempt_at=now + delay
        )
        return False


def _reason(error: Exception) -> str:
    if isinstance(error, discord.HTTPException):
        return f"HTTP {error.status}: {error.text or type(error).__name__}"[:200]
    return (str(error) or type(error).__name__)[:200]
