"""A message the bot posts on Discord: rendered by bot.ui, sent by the services that post."""

from __future__ import annotations

from dataclasses import dataclass

import discord


@dataclass(frozen=True, slots=True)
class Post:
    """What `send()`, or a forum post, takes; `thread_name` names a thread opened on it (or the post)."""

    content: str | None
    embed: discord.Embed
    view: discord.ui.View | None
    mentions: discord.AllowedMentions
    thread_name: str
