"""A message the bot posts on Discord: rendered by bot.ui, sent by the services that post."""

from __future__ import annotations

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
