"""Which Discord permissions a member lacks in a channel, named as Discord's client shows them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import discord

# discord.Permissions attribute -> the name in Discord's client (Server Settings → Roles), where the
# two differ from the attribute title-cased (developers/topics/permissions.mdx lists the client names).
CLIENT_NAMES = {
    "manage_guild": "Manage Server",
    "view_channel": "View Channels",
    "read_messages": "View Channels",
    "read_message_history": "Read Message History",
    "send_messages_in_threads": "Send Messages in Threads",
    "mention_everyone": "Mention @everyone, @here, and All Roles",
    "manage_emojis": "Manage Expressions",
    "manage_expressions": "Manage Expressions",
    "use_application_commands": "Use Application Commands",
    "use_external_apps": "Use External Apps",
    "moderate_members": "Timeout Members",
    "external_emojis": "Use External Emojis",
    "external_stickers": "Use External Stickers",
    "send_tts_messages": "Send Text-to-Speech Messages",
    "create_instant_invite": "Create Invite",
    "view_guild_insights": "View Server Insights",
}


def missing_in(
    channel: discord.abc.GuildChannel | discord.Thread, member: discord.Member, needed: Iterable[str]
) -> list[str]:
    """The permissions of `needed` (discord.Permissions attribute names) `member` lacks in `channel`."""
    granted = channel.permissions_for(member)
    return [name for name in needed if not getattr(granted, name)]


def client_name(name: str) -> str:
    """ "Manage Server" for "manage_guild": what a moderator finds in Discord's settings."""
    return CLIENT_NAMES.get(name) or name.replace("_", " ").title()


def describe(names: Sequence[str]) -> str:
    """ "Send Messages, Embed Links" for ["send_messages", "embed_links"]."""
    return ", ".join(client_name(name) for name in names)
