"""Which Discord permissions a member lacks in a channel, named as Discord's client shows them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import discord


def missing_in(
    channel: discord.abc.GuildChannel | discord.Thread, member: discord.Member, needed: Iterable[str]
) -> list[str]:
    """The permissions of `needed` (discord.Permissions attribute names) `member` lacks in `channel`."""
    granted = channel.permissions_for(member)
    return [name for name in needed if not getattr(granted, name)]


def describe(names: Sequence[str]) -> str:
    """ "Send Messages, Embed Links" for ["send_messages", "embed_links"]."""
    return ", ".join(name.replace("_", " ").title() for name in names)
