"""The announcement template in a box of several lines: what /config template set opens without text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.ui.cards import TEMPLATE_MAX_LENGTH
from bot.ui.replies import Modal

Save = Callable[[discord.Interaction[Any], str], Awaitable[None]]


class TemplateEditor(Modal, title="Announcement text"):
    """A slash-command option is one line; a template may want several. Submitting saves it through
    `save`, which checks it like the command does."""

    def __init__(self, current: str, save: Save) -> None:
        super().__init__()
        self.text: discord.ui.TextInput[TemplateEditor] = discord.ui.TextInput(
            label="Text above each announcement",
            style=discord.TextStyle.paragraph,
            default=current,
            min_length=1,
            max_length=TEMPLATE_MAX_LENGTH,
            custom_id="config:template",
        )
        self.add_item(self.text)
        self._save = save

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await self._save(interaction, self.text.value)
