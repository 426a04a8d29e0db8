"""A message the bot posts on Discord: rendered by bot.ui, sent by the services that post."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import discord

# Threads opened on the bot's posts stay in the channel list a week after the last message: an
# episode's discussion lasts longer than Discord's default day.
THREAD_ARCHIVE_MINUTES: Final[Literal[10080]] = 10080


@dataclass(frozen=True, slots=True)
class Post:
    """What `send()`, or a forum post, takes; `thread_name` names a thread opened on it (or the post)."""

    content: str | None
    embed: discord.Embed
    view: discord.ui.View | None
    mentions: discord.AllowedMentions
    thread_name: str
    # A role to ping in a message of its own after this one: a published message reaches servers
    # where the role means nothing, so its own text cannot depend on it.
    ping_role_id: int | None = None

    async def send_to(
        self, channel: discord.TextChannel | discord.Thread, *, nonce: str | None = None
    ) -> discord.Message:
        """Post it as a message in `channel`; without a `nonce`, a random one (as discord.py draws)."""
        return await channel.send(
            content=self.content,
            embed=self.embed,
            view=self.view or discord.utils.MISSING,
            allowed_mentions=self.mentions,
            nonce=nonce if nonce is not None else secrets.randbits(64),
        )

    async def open_in(
        self, forum: discord.ForumChannel, *, tags: Sequence[discord.ForumTag] = ()
    ) -> discord.channel.ThreadWithMessage:
        """Post it as a forum post of its own, named `thread_name` (its first message has its id)."""
        return await forum.create_thread(
            name=self.thread_name,
            content=self.content or discord.utils.MISSING,
            embed=self.embed,
            view=self.view or discord.utils.MISSING,
            allowed_mentions=self.mentions,
            applied_tags=tags or discord.utils.MISSING,
        )
