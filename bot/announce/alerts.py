"""Moderator alerts: the bot tells a server's alerts channel (/config alerts channel) about an incident
once when it starts and once when it ends: the feed failing for hours, announcements paused and why,
an announcement given up. General RSS bots email their owners or tell nobody."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import discord

from bot.clock import utc_now
from bot.db.guilds import GuildSettingsRepository
from bot.db.incidents import IncidentKind, IncidentRepository

log = logging.getLogger(__name__)

ALERT_LIMIT = 2000  # Discord's message content limit


class ModeratorAlerts:
    def __init__(
        self,
        client: discord.Client,
        guilds: GuildSettingsRepository,
        incidents: IncidentRepository,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._guilds = guilds
        self._incidents = incidents
        self.clock = clock

    async def started(self, guild_id: int, kind: IncidentKind, detail: str, *, subject: str = "") -> None:
        """An incident began: told once, however often it is reported while it lasts."""
        if await self._incidents.open(guild_id, kind, detail, now=self.clock(), subject=subject):
            await self._post(guild_id, f"⚠️ {detail}")

    async def ended(self, guild_id: int, kind: IncidentKind, detail: str, *, subject: str = "") -> None:
        """The incident is over: told once, and only if its start was."""
        if await self._incidents.resolve(guild_id, kind, now=self.clock(), subject=subject) is not None:
            await self._post(guild_id, f"✅ {detail}")

    async def started_everywhere(self, kind: IncidentKind, detail: str) -> None:
        """An incident of the bot itself (the feed): every server with an alerts channel hears of it."""
        for settings in await self._guilds.with_alerts_channel():
            await self.started(settings.guild_id, kind, detail)

    async def ended_everywhere(self, kind: IncidentKind, detail: str) -> None:
        for settings in await self._guilds.with_alerts_channel():
            await self.ended(settings.guild_id, kind, detail)

    async def _post(self, guild_id: int, text: str) -> None:
        settings = await self._guilds.get(guild_id)
        if settings.alerts_channel_id is None or settings.left_at is not None:
            return
        channel = self._client.get_partial_messageable(settings.alerts_channel_id, guild_id=guild_id)
        try:
            await channel.send(text[:ALERT_LIMIT], allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as error:
            # The alert is recorded all the same: /config status shows it, and nobody is told twice.
            log.warning("Could not post an alert in channel %s of server %s: %s", channel.id, guild_id, error)
