"""The "Notify me" button on announcements: a member gives themselves the ping role, or removes it."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.services import services_of
from bot.ui.replies import reported

log = logging.getLogger(__name__)


class NotifyRoleButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"dsh:notify:(?P<role_id>\d+)"
):
    """Persistent across restarts: the role travels in the custom_id, and every click is checked
    against the server's current settings, so an old announcement cannot hand out a role the
    moderators have since changed or switched off."""

    def __init__(self, role_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                label="Notify me",
                emoji="🔔",
                custom_id=f"dsh:notify:{role_id}",
            )
        )
        self.role_id = role_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> NotifyRoleButton:
        return cls(int(match["role_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async with reported(interaction, source="the Notify me button"):
            await self._toggle_role(interaction)

    async def _toggle_role(self, interaction: discord.Interaction[Any]) -> None:
        guild = interaction.guild
        member = interaction.user
        if guild is None or not isinstance(member, discord.Member):
            await interaction.response.send_message("This button only works in a server.", ephemeral=True)
            return
        settings = await services_of(interaction).guilds.get(guild.id)
        role = guild.get_role(self.role_id)
        if not settings.notify_button_enabled or settings.ping_role_id != self.role_id or role is None:
            await interaction.response.send_message(
                "This button is switched off: the moderators no longer hand out this role here.",
                ephemeral=True,
            )
            return
        try:
            if role in member.roles:
                await member.remove_roles(role, reason="Notify me button: opted out")
                reply = f"Done: you will no longer be pinged by {role.mention} for new episodes."
            else:
                await member.add_roles(role, reason="Notify me button: opted in")
                reply = f"Done: {role.mention} will ping you when a new episode is out. Click again to stop."
        except discord.Forbidden:
            log.warning("Cannot manage role %s in server %s", role.id, guild.id)
            reply = "I am not allowed to give out that role. Please tell a moderator: I need Manage Roles."
        await interaction.response.send_message(reply, ephemeral=True)
