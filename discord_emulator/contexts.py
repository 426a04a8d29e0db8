"""Where an interaction comes from, as Discord works it out: its context, the installations that
authorize it, what the app may do there, and whether Discord keeps the app's answers private.

The rules are those of the docs' "Installation Context" (resources/application.mdx), "Contexts"
(interactions/application-commands.mdx) and the interaction object's ``context``,
``authorizing_integration_owners`` and ``app_permissions`` (interactions/receiving-and-responding.mdx).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from discord_emulator.errors import CommandUsageError
from discord_emulator.permissions import Permission
from discord_emulator.state import Channel, DiscordState, Guild, Member, User

JSON = dict[str, Any]

# Interaction context types, and application integration (installation) types.
GUILD, BOT_DM, PRIVATE_CHANNEL = 0, 1, 2
GUILD_INSTALL, USER_INSTALL = 0, 1
ALL_CONTEXTS = (GUILD, BOT_DM, PRIVATE_CHANNEL)
CONTEXT_NAMES = {
    GUILD: "a server (GUILD)",
    BOT_DM: "the DM with the app's bot (BOT_DM)",
    PRIVATE_CHANNEL: "a DM or group DM between users (PRIVATE_CHANNEL)",
}
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Surface:
    """Who acts where: the person, their membership (in a server), the channel and its context."""

    user: User
    member: Member | None
    channel: Channel
    guild: Guild | None
    context: int
    permissions: int  # the person's permissions in the channel (none in a DM)


def surface_of(state: DiscordState, who: Member | User, channel: Channel) -> Surface:
    """Where ``who`` acts in ``channel``; ``CommandUsageError`` if their client could not act there."""
    user = who.user if isinstance(who, Member) else who
    if channel.is_private:
        if all(recipient.id != user.id for recipient in channel.recipients):
            raise CommandUsageError(f"{user.username} is not in that DM")
        in_bot_dm = any(recipient.id == state.bot.id for recipient in channel.recipients)
        return Surface(user, None, channel, None, BOT_DM if in_bot_dm else PRIVATE_CHANNEL, 0)
    guild = state.guild_of(channel)
    member = guild.members.get(user.id)
    if member is None or (isinstance(who, Member) and who.guild_id != guild.id):
        raise CommandUsageError(f"{user.username} is not a member of the channel's guild")
    bits = state.permissions_in(channel, member)
    if not bits & Permission.VIEW_CHANNEL:
        raise CommandUsageError(f"{member.name} cannot see #{channel.name}")
    return Surface(user, member, channel, guild, GUILD, bits)


def owners_for(state: DiscordState, surface: Surface, integration_types: Sequence[int]) -> dict[str, str]:
    """``authorizing_integration_owners``: a key for each installation that is there, supports the
    context and (for a command) is in its ``integration_types``. "0": the guild id in a server the app
    is installed to, "0" in the DM with its bot; "1": the id of the user who installed it."""
    owners: dict[str, str] = {}
    if GUILD_INSTALL in integration_types:
        if surface.guild is not None and state.installed_in(surface.guild):
            owners["0"] = str(surface.guild.id)
        elif surface.context == BOT_DM:
            owners["0"] = "0"
    if USER_INSTALL in integration_types and surface.user.id in state.user_installs:
        owners["1"] = str(surface.user.id)
    return owners


def command_contexts(definition: Mapping[str, Any]) -> list[int]:
    """Where a command can be used: its ``contexts`` ("defaults to all contexts"), or for a command that
    only has the deprecated ``dm_permission`` false, everywhere but the bot's DM."""
    contexts = definition.get("contexts")
    if contexts is not None:
        return [int(context) for context in contexts]
    if definition.get("dm_permission") is False:
        return [GUILD, PRIVATE_CHANNEL]
    return list(ALL_CONTEXTS)


def command_owners(state: DiscordState, surface: Surface, definition: Mapping[str, Any]) -> dict[str, str]:
    """The installations that let ``surface.user`` run the command there; ``CommandUsageError`` where
    Discord's client would not offer it (the wrong context, or no installation of the app that the
    command supports: a server-install command in a server without the bot, or in a DM)."""
    name = definition["name"]
    if definition.get("guild_id") is not None:
        # A server's own commands exist only there, through the server's installation.
        if surface.guild is None or str(surface.guild.id) != definition["guild_id"]:
            raise CommandUsageError(f"/{name} is registered to another server only")
        if not state.installed_in(surface.guild):
            raise CommandUsageError(f"/{name} belongs to the app's installation in a server it left")
        return {"0": str(surface.guild.id)}
    if surface.context not in command_contexts(definition):
        allowed = ", ".join(CONTEXT_NAMES[context] for context in command_contexts(definition))
        raise CommandUsageError(
            f"/{name} cannot be used in {CONTEXT_NAMES[surface.context]}: its contexts are {allowed}"
        )
    integration_types = [int(kind) for kind in definition.get("integration_types") or [GUILD_INSTALL]]
    owners = owners_for(state, surface, integration_types)
    if not owners:
        where = surface.guild.name if surface.guild is not None else CONTEXT_NAMES[surface.context]
        raise CommandUsageError(
            f"/{name} is not available to {surface.user.username} in {where}: the command's "
            f"integration_types are {integration_types}, and the app is not installed there that way "
            "(add the bot to the server, or add_user_install() for USER_INSTALL)"
        )
    return owners


def forced_ephemeral(state: DiscordState, surface: Surface) -> bool:
    """Whether Discord keeps every response private to the user, whatever the app asks.

    In a server the app is not installed to, a user-installed app's responses "will be ephemeral"
    without USE_EXTERNAL_APPS (topics/permissions.mdx; change-log.mdx, June 27 2024: "ephemeral for the
    end user"), and it "won't be able to respond ... with a non-ephemeral message" where the user may
    not send messages (resources/application.mdx, "User Context"). The docs do not say whether the API
    refuses such a response or flags it EPHEMERAL: the emulator follows the changelog, which says it is
    enforced for the end user and that the app "will not receive errors via the API" (change-log.mdx,
    March 2024 preview). The answer is accepted and stored with the EPHEMERAL flag, so only the user
    sees it and the bot gets no error.
    """
    if surface.guild is None or state.installed_in(surface.guild):
        return False
    send = Permission.SEND_MESSAGES_IN_THREADS if surface.channel.is_thread else Permission.SEND_MESSAGES
    bits = surface.permissions
    return not (bits & Permission.USE_EXTERNAL_APPS and bits & send)


def location_payload(state: DiscordState, surface: Surface) -> JSON:
    """The fields of an interaction that say where it comes from and who sent it."""
    channel = surface.channel
    data: JSON = {
        "channel_id": str(channel.id),
        "context": surface.context,
        "app_permissions": str(state.app_permissions_in(channel)),
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if surface.guild is None:
        # "user is sent when invoked in a DM"; the channel's recipients are the others in it.
        data["channel"] = channel.payload(surface.user.id)
        data["user"] = surface.user.payload()
        return data
    assert surface.member is not None
    guild = surface.guild
    data.update(
        guild_id=str(guild.id),
        # A partial guild: all discord.py needs to build a Guild for a server the bot is not in. Which
        # fields Discord puts here is undocumented; these are those seen in practice.
        guild={"id": str(guild.id), "locale": "en-US", "features": []},
        guild_locale="en-US",
        channel={**channel.payload(), "permissions": str(surface.permissions)},
        member=surface.member.payload(permissions=surface.permissions),
    )
    return data
