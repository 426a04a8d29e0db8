"""/insights: what the server's listeners search for, suggest and discuss, for its moderators; and the
counting of messages in episode threads (never their content) that feeds it."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PodcastBot
from bot.community.insights import Insights
from bot.ui.insights import insights_embed
from bot.ui.suggestions import NO_MENTIONS
from cogs.checks import guild_of, require_manage_guild

log = logging.getLogger(__name__)

PERIOD_DAYS = {"week": 7, "month": 30, "all": None}


class InsightsCog(commands.Cog):
    def __init__(self, client: discord.Client, insights: Insights) -> None:
        self._client = client
        self._insights = insights

    @app_commands.command(
        name="insights", description="What listeners search for and don't find, suggest and discuss"
    )
    @app_commands.describe(period="The last week, the last month, or all that is kept")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def insights(
        self,
        interaction: discord.Interaction[PodcastBot],
        period: Literal["week", "month", "all"] = "month",
    ) -> None:
        require_manage_guild(interaction)
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self._insights.report(guild.id, PERIOD_DAYS[period])
        embed = insights_embed(
            report,
            today=discord.utils.utcnow().date(),
            retention_days=self._insights.retention.days,
        )
        await interaction.followup.send(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Count a member's message in an episode's discussion thread: the thread and the day, nothing
        of the message or its author."""
        if message.guild is None or message.author.bot or not isinstance(message.channel, discord.Thread):
            return
        await self._insights.count_thread_message(message.guild.id, message.channel.id)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        log.info("Removed from server %s; its insights are deleted", guild.id)
        await self._insights.forget_guild(guild.id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """A server that removed the bot while it was offline sends no event: READY leaves it out.
        (A server only unavailable during an outage is listed, and keeps its records.)"""
        present = {guild.id for guild in self._client.guilds}
        try:
            for guild_id in await self._insights.repository.guilds_with_records():
                if guild_id not in present:
                    log.info("No longer in server %s; its insights are deleted", guild_id)
                    await self._insights.forget_guild(guild_id)
        except Exception:
            if self._client.is_closed():
                return  # stopped while this ran: the database is already closed; the next start checks
            raise


async def setup(bot: PodcastBot) -> None:
    await bot.add_cog(InsightsCog(bot, bot.services.insights))
