"""/help, /about and /ping: what the bot does for you, what it is, and whether it is alive; /about
and /ping wherever /episode works."""

from __future__ import annotations

import math

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PodcastBot, available_anywhere
from bot.db import EpisodeRepository, FeedRepository
from bot.podcast import Podcast
from bot.ui.cards import EMBED_COLOUR, EMBED_FIELD_VALUE_LIMIT, truncate_words


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

    @app_commands.command(name="help", description="What this bot can do for you here")
    async def help(self, interaction: discord.Interaction[PodcastBot]) -> None:
        allowed = interaction.permissions
        everyone, moderators = command_lines(interaction.client.tree)
        text = "**For everyone**\n" + "\n".join(everyone)
        if allowed.manage_guild or allowed.administrator:
            text += "\n\n**For moderators (Manage Server)**\n" + "\n".join(moderators)
        embed = discord.Embed(
            title=f"What the {self._podcast.name} bot does", description=text[:4096], colour=EMBED_COLOUR
        )
        embed.set_footer(text="Answers are private unless a command says otherwise.")
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @available_anywhere
    @app_commands.command(name="about", description="What this bot is, the podcast's links and feed status")
    async def about(self, interaction: discord.Interaction[PodcastBot]) -> None:
        count = await self._episodes.count()
        feed = await self._podcast.feed()
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
        # The error may quote a long address (a signed CDN URL): cut to what a field holds.
        embed.add_field(name="Last feed check", value=truncate_words(last_check, EMBED_FIELD_VALUE_LIMIT))
        embed.add_field(
            name="Links",
            value=f"[Website]({podcast.website}) · [RSS feed]({await podcast.feed_url()})",
            inline=False,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


def command_lines(tree: app_commands.CommandTree[PodcastBot]) -> tuple[list[str], list[str]]:
    """Every slash command as "`/name` what it does", for everyone and for moderators: read from the
    command tree, so /help is always true."""
    everyone: list[str] = []
    moderators: list[str] = []
    for command in sorted(tree.get_commands(type=discord.AppCommandType.chat_input), key=lambda c: c.name):
        if not isinstance(command, app_commands.Command | app_commands.Group):
            continue
        hidden = command.default_permissions is not None and command.default_permissions.value != 0
        leaves = command.walk_commands() if isinstance(command, app_commands.Group) else [command]
        for leaf in leaves:
            if isinstance(leaf, app_commands.Command):
                line = f"`/{leaf.qualified_name}` {leaf.description}"
                (moderators if hidden or leaf.extras.get("for_moderators") else everyone).append(line)
    return everyone, moderators


async def setup(bot: PodcastBot) -> None:
    services = bot.services
    await bot.add_cog(MetaCog(services.episodes, services.feeds, services.podcast))
