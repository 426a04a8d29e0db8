"""/discuss: this server's discussion thread of an episode, found or opened. A top-level command of its
own because it is for servers that added the bot, while /episode also works where they have not."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PodcastBot
from bot.community.discussions import Discussions
from bot.db import EpisodeRepository
from bot.podcast import Podcast
from bot.ui.cards import discussion_post, truncate_words
from cogs.episodes import numbered_episodes

Interaction = discord.Interaction[PodcastBot]


class DiscussionCog(commands.Cog):
    def __init__(self, episodes: EpisodeRepository, discussions: Discussions, podcast: Podcast) -> None:
        self._episodes = episodes
        self._discussions = discussions
        self._podcast = podcast

    @app_commands.command(
        name="discuss", description="Open (or find) this server's discussion thread of an episode"
    )
    @app_commands.describe(n="The episode number, as in “Ep. 59”")
    @app_commands.guild_only()
    async def discuss(self, interaction: Interaction, n: app_commands.Range[int, 1, 99999]) -> None:
        member = interaction.user
        # Discord offers /discuss only in servers that added the bot; a thread needs the bot there.
        if not interaction.is_guild_integration() or not isinstance(member, discord.Member):
            raise app_commands.NoPrivateMessage()
        await interaction.response.defer(ephemeral=True, thinking=True)
        episode = (await numbered_episodes(self._episodes, n))[0]
        card = discussion_post(member, episode, await self._podcast.image())
        link = await self._discussions.find_or_open(
            interaction.client, here=interaction.channel, member=member, episode=episode, card=card
        )
        title = f"**{discord.utils.escape_markdown(truncate_words(episode.title, 150))}**"
        if link.created:
            message = f"I opened a discussion thread for {title}: <#{link.thread_id}>"
        else:
            message = f"The discussion of {title} is here: <#{link.thread_id}>"
        await interaction.followup.send(message, ephemeral=True)


async def setup(bot: PodcastBot) -> None:
    services = bot.services
    await bot.add_cog(DiscussionCog(services.episodes, services.discussions, services.podcast))
