"""/privacy: what the bot keeps about a member in a server, and the confirmed deletion of it."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.community.suggestions import SuggestionService
from bot.db.suggestions import Suggestion
from bot.ui.cards import EMBED_COLOUR, truncate_words
from bot.ui.replies import View
from bot.ui.suggestions import NO_MENTIONS, SuggestionBoard, shown, votes_text

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 600.0  # as long as the other buttons on private answers
NOT_KEPT = (
    "Nothing else names you: searches are recorded for /insights without who made them, and messages "
    "in discussion threads are only counted, never read."
)


def _line(suggestion: Suggestion) -> str:
    return f"#{suggestion.number} {shown(truncate_words(suggestion.topic, 80))} · {suggestion.status}"


def privacy_embed(mine: list[Suggestion], voted: list[Suggestion]) -> discord.Embed:
    embed = discord.Embed(title="What this bot keeps about you in this server", colour=EMBED_COLOUR)
    embed.add_field(
        name=f"Your suggestions ({len(mine)})",
        value="\n".join(f"{_line(s)} · {votes_text(s.votes)}" for s in mine)[:1024] or "None.",
        inline=False,
    )
    embed.add_field(
        name=f"Your votes for others' suggestions ({len(voted)})",
        value="\n".join(_line(s) for s in voted)[:1024] or "None.",
        inline=False,
    )
    embed.set_footer(text=NOT_KEPT + " /privacy delete removes your suggestions and votes.")
    return embed


class ForgetMeView(View):
    """Asks before deleting a member's suggestions (and their cards) and votes in a server."""

    def __init__(
        self, service: SuggestionService, board: SuggestionBoard, guild_id: int, user_id: int
    ) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self._service = service
        self._board = board
        self._guild_id = guild_id
        self._user_id = user_id

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return interaction.user.id == self._user_id

    @discord.ui.button(label="Delete them", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.defer()
        deleted, unvoted = await self._service.forget_member(self._guild_id, self._user_id)
        for suggestion in deleted:
            await self._board.remove_card(suggestion)
        for suggestion in unvoted:
            await self._board.refresh_card(suggestion)
        await interaction.edit_original_response(
            content=f"Deleted: {len(deleted)} suggestions (their cards too) and your votes for "
            f"{len(unvoted)} others. The bot keeps nothing else that names you here.",
            embed=None,
            view=None,
            allowed_mentions=NO_MENTIONS,
        )

    @discord.ui.button(label="Keep them", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction[Any], _button: discord.ui.Button[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was deleted.", embed=None, view=None)
