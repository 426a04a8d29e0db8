"""Keeps announcement settings true to the server: a deleted channel, a removed bot, fixed permissions."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.announce.announcer import Announcer
from bot.app import PodcastBot
from bot.clock import utc_now
from bot.db.guilds import GuildSettingsRepository
from bot.ui.notify import NotifyRoleButton

log = logging.getLogger(__name__)


class AnnouncementsCog(commands.Cog):
    def __init__(self, client: discord.Client, announcer: Announcer, guilds: GuildSettingsRepository) -> None:
        self._client = client
        self._announcer = announcer
        self._guilds = guilds

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self._announcer.channel_deleted(channel.guild.id, channel.id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """A server that removed the bot while it was offline sends no event: READY just leaves it out.
        (A server that is only unavailable is listed, and keeps its settings.)"""
        present = {guild.id for guild in self._client.guilds}
        try:
            for settings in await self._guilds.announcing():
                if settings.guild_id not in present:
                    log.info("No longer in server %s; its announcements stop", settings.guild_id)
                    await self._guilds.left(settings.guild_id, now=utc_now())
        except Exception:
            if self._client.is_closed():
                return  # stopped while this ran: the database is already closed; the next start checks
            raise

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        log.info("Removed from server %s; its announcements stop", guild.id)
        await self._guilds.left(guild.id, now=utc_now())

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._guilds.rejoined(guild.id)

    # Permission changes can lift a pause: check at once rather than at the next poll.
    @commands.Cog.listener()
    async def on_guild_channel_update(
        self, _before: discord.abc.GuildChannel, _after: discord.abc.GuildChannel
    ) -> None:
        await self._announcer.deliver_due()

    @commands.Cog.listener()
    async def on_guild_role_update(self, _before: discord.Role, _after: discord.Role) -> None:
        await self._announcer.deliver_due()

    @commands.Cog.listener()
    async def on_member_update(self, _before: discord.Member, after: discord.Member) -> None:
        if after.guild.me is not None and after.id == after.guild.me.id:
            await self._announcer.deliver_due()


async def setup(bot: PodcastBot) -> None:
    bot.add_dynamic_items(NotifyRoleButton)
    services = bot.services
    await bot.add_cog(AnnouncementsCog(bot, services.announcer, services.guilds))
