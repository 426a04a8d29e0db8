"""Checks the cogs share: a command that needs a server, and the moderator check."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

# Marks a subcommand only moderators may use inside a group everyone sees (Discord hides whole
# top-level commands only): /help lists it for moderators, and require_manage_guild guards it.
FOR_MODERATORS = {"for_moderators": True}


def guild_of(interaction: discord.Interaction[Any]) -> discord.Guild:
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild


def require_manage_guild(interaction: discord.Interaction[Any]) -> None:
    """Only Manage Server (or Administrator) may change settings. default_permissions only hides a
    whole top-level command, and a server can change who sees it in its integration settings, so
    this runtime check is what protects the data."""
    permissions = interaction.permissions
    if not (permissions.manage_guild or permissions.administrator):
        raise app_commands.MissingPermissions(["manage_guild"])
