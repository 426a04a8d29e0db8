"""/about and /ping: what the bot is, and whether it is alive; wherever /episode works."""

from __future__ import annotations

import math

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PodcastBot, available_anywhere
from bot.db import EpisodeRepository, FeedRepository
from bot.podcast import Podcast
from bot.ui.cards import EMBED_COLOUR


class MetaCog(commands.Cog):
    def __init__(self, episodes: EpisodeRepository, feeds: FeedRepository, podcast: Podcast) -> None:
        self._episodes = episodes
        self._feeds = feeds
        self._podcast = podcast

    @available_anywhere
    @app_commands.command(name="ping", description="Check that the bot is alive and how fast it answers")
    async def ping(self, interaction: discord.Interaction[PodcastBot]) -> None:
        latency = interaction.client.latency
        shown = f"{latency * 1000:.0f} ms" if math.isfinite(latency) else "unknown"
        await interaction.response.send_message(f"Pong! Gateway latency: {shown}.", ephemeral=True)

    @available_anywhere
    @app_commands.command(name="about", description="What this bot is, the podcast's links and feed status")
    async def about(self, interaction: discord.Interaction[PodcastBot]) -> None:
        count = await self._episodes.count()
        feed = await self._feeds.get(self._podcast.feed_url)
        if feed is None or feed.last_checked_at is None:
            last_check = "not yet"
        else:
            outcome = "ok" if feed.consecutive_failures == 0 else f"failed: {feed.last_error}"
            last_check = f"{discord.utils.format_dt(feed.last_checked_at, 'R')} ({outcome})"
        podcast = self._podcast
        embed = discord.Embed(
            title=podcast.name,
            url=podcast.website,
            colour=EMBED_COLOUR,
            description=(
                f"The community bot of the {podcast.name} podcast: it announces new episodes "
                "and helps you find old ones. Try `/episode search`."
            ),
        )
        embed.add_field(name="Episodes", value=str(count))
        embed.add_field(name="Last feed check", value=last_check)
        embed.add_field(
            name="Links", value=f"[Website]({podcast.website}) · [RSS feed]({podcast.feed_url})", inline=False
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: PodcastBot) -> None:
    services = bot.services
    await bot.add_cog(MetaCog(services.episodes, services.feeds, services.podcast))
