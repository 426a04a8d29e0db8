"""Replies to people, and the one error policy for everything a person can trigger: slash commands,
buttons, select menus and modals. An expected error (UserFacingError, a failed check) becomes its own
short private message; anything else is logged with its traceback and the person gets a short private
apology, never Discord's "This interaction failed"."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.permissions import describe

log = logging.getLogger(__name__)

GENERIC_ERROR_MESSAGE = "Something went wrong on our side. It has been logged; please try again later."
SERVER_ONLY_MESSAGE = (
    "This command only works in a server that has added the bot. /episode works anywhere, "
    "once you add the bot to your account."
)


async def send_private(interaction: discord.Interaction[Any], message: str) -> None:
    """Reply ephemerally whether or not the interaction was already answered or deferred."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("Could not deliver an error reply to interaction %s", interaction.id, exc_info=True)


def message_for(error: BaseException) -> str | None:
    """The short message a person sees for an expected error; None for a bug."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, UserFacingError):
        return str(original)
    if isinstance(error, app_commands.MissingPermissions):
        return f"You need the {describe(error.missing_permissions)} permission to use this command."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.NoPrivateMessage):
        return SERVER_ONLY_MESSAGE
    if isinstance(error, app_commands.TransformerError):
        return f"{error.value!r} is not a valid value here."
    if isinstance(error, app_commands.CheckFailure):
        return "You are not allowed to use this command here."
    return None


async def report_error(interaction: discord.Interaction[Any], error: BaseException, *, source: str) -> None:
    """Apply the policy to an error raised while handling `interaction` (`source` names the control)."""
    message = message_for(error)
    if message is None:
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        log.error("Unexpected error in %s", source, exc_info=original)
        message = GENERIC_ERROR_MESSAGE
    await send_private(interaction, message)


@asynccontextmanager
async def reported(interaction: discord.Interaction[Any], *, source: str) -> AsyncIterator[None]:
    """Errors in the block follow the policy. For persistent (dynamic) items, whose errors discord.py
    only logs: they have no view of their own to catch them."""
    try:
        yield
    except Exception as error:
        await report_error(interaction, error, source=source)


class View(discord.ui.View):
    """A view whose buttons and select menus follow the error policy."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        await report_error(interaction, error, source=f"{type(self).__name__} control {item!r}")


class Modal(discord.ui.Modal):
    """A modal whose submission follows the error policy."""

    # discord.py's Modal narrows BaseView.on_error the same way; mypy sees the base's signature.
    async def on_error(self, interaction: discord.Interaction[Any], error: Exception, /) -> None:  # type: ignore[override]
        await report_error(interaction, error, source=f"modal {type(self).__name__}")
