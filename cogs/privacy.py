"""/privacy: a member sees what the bot keeps about them in this server, and deletes it."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PodcastBot
from bot.community.suggestions import SuggestionService
from bot.db.suggestions import Suggestion
from bot.ui.privacy import ForgetMeView, privacy_embed
from bot.ui.suggestions import NO_MENTIONS, SuggestionBoard
from cogs.checks import guild_of

Interaction = discord.Interaction[PodcastBot]


class PrivacyCog(commands.Cog):
    privacy = app_commands.Group(
        name="privacy", description="What the bot keeps about you here, and deleting it", guild_only=True
    )

    def __init__(self, client: discord.Client, suggestions: SuggestionService) -> None:
        self._suggestions = suggestions
        self._board = SuggestionBoard(client, suggestions)

    async def _kept(self, interaction: Interaction) -> tuple[int, list[Suggestion], list[Suggestion]]:
        """The server, the member's suggestions there and the others' they voted for."""
        guild = guild_of(interaction)
        mine = await self._suggestions.mine(guild.id, interaction.user.id)
        return guild.id, mine, await self._suggestions.voted_by(guild.id, interaction.user.id)

    @privacy.command(name="show", description="What the bot keeps about you in this server")
    async def show(self, interaction: Interaction) -> None:
        _, mine, voted = await self._kept(interaction)
        await interaction.response.send_message(
            embed=privacy_embed(mine, voted), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @privacy.command(name="delete", description="Delete your suggestions and votes in this server")
    async def delete(self, interaction: Interaction) -> None:
        guild_id, mine, voted = await self._kept(interaction)
        await interaction.response.send_message(
            f"Delete your {len(mine)} suggestions here (their cards and votes too) and your votes for "
            f"{len(voted)} others? This cannot be undone.",
            embed=privacy_embed(mine, voted),
            view=ForgetMeView(self._suggestions, self._board, guild_id, interaction.user.id),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: PodcastBot) -> None:
    await bot.add_cog(PrivacyCog(bot, bot.services.suggestions))
