"""/about and /ping: what the bot is, and whether it is alive."""

from __future__ import annotations

import math

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PodcastBot
from bot.db import EpisodeRepository, FeedRepository

PODCAST_NAME = "Data Science at Home"
PODCAST_WEBSITE = "https://datascienceathome.com"
EMBED_COLOUR = discord.Colour(0x2B6CB0)


class MetaCog(commands.Cog):
    def __init__(self, episodes: EpisodeRepository, feeds: FeedRepository, feed_url: str) -> None:
        self._episodes = episodes
        self._feeds = feeds
        self._feed_url = feed_url

    @app_commands.command(name="ping", description="Check that the bot is alive and how fast it answers")
    async def ping(self, interaction: discord.Interaction[PodcastBot]) -> None:
        latency = interaction.client.latency
        shown = f"{latency * 1000:.0f} ms" if math.isfinite(latency) else "unknown"
        await interaction.response.send_message(f"Pong! Gateway latency: {shown}.", ephemeral=True)

    @app_commands.command(name="about", description="What this bot is, the podcast's links and feed status")
    async def about(self, interaction: discord.Interaction[PodcastBot]) -> None:
        count = await self._episodes.count()
        feed = await self._feeds.get(self._feed_url)
        if feed is None or feed.last_checked_at is None:
            last_check = "not yet"
        else:
            outcome = "ok" if feed.consecutive_failures == 0 else f"failed: {feed.last_error}"
            last_check = f"{discord.utils.format_dt(feed.last_checked_at, 'R')} ({outcome})"
        embed = discord.Embed(
            title=PODCAST_NAME,
            url=PODCAST_WEBSITE,
            colour=EMBED_COLOUR,
            description=(
                "The community bot of the Data Science at Home podcast: it announces new episodes "
                "and helps you find old ones. Try `/episode search`."
            ),
        )
        embed.add_field(name="Episodes", value=str(count))
        embed.add_field(name="Last feed check", value=last_check)
        embed.add_field(
            name="Links", value=f"[Website]({PODCAST_WEBSITE}) · [RSS feed]({self._feed_url})", inline=False
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: PodcastBot) -> None:
    services = bot.services
    await bot.add_cog(MetaCog(services.episodes, services.feeds, bot.settings.feed_url))
