"""Discord permission bits and the channel permission computation, as the emulator's oracle."""

from __future__ import annotations

from enum import IntFlag
from typing import Protocol


class Permission(IntFlag):
    """Discord permission bits (https://discord.com/developers/docs/topics/permissions)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    PRIORITY_SPEAKER = 1 << 8
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    VIEW_GUILD_INSIGHTS = 1 << 19
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    MUTE_MEMBERS = 1 << 22
    DEAFEN_MEMBERS = 1 << 23
    MOVE_MEMBERS = 1 << 24
    USE_VAD = 1 << 25
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    MANAGE_GUILD_EXPRESSIONS = 1 << 30
    USE_APPLICATION_COMMANDS = 1 << 31
    REQUEST_TO_SPEAK = 1 << 32
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    USE_EXTERNAL_STICKERS = 1 << 37
    SEND_MESSAGES_IN_THREADS = 1 << 38
    USE_EMBEDDED_ACTIVITIES = 1 << 39
    MODERATE_MEMBERS = 1 << 40
    VIEW_CREATOR_MONETIZATION_ANALYTICS = 1 << 41
    USE_SOUNDBOARD = 1 << 42
    CREATE_GUILD_EXPRESSIONS = 1 << 43
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_SOUNDS = 1 << 45
    SEND_VOICE_MESSAGES = 1 << 46
    SEND_POLLS = 1 << 49
    USE_EXTERNAL_APPS = 1 << 50


ALL_PERMISSIONS = 0
for _bit in Permission:
    ALL_PERMISSIONS |= _bit.value

# What @everyone gets in a newly created server (USE_EXTERNAL_APPS "is enabled for servers by default",
# change-log.mdx, June 27 2024).
DEFAULT_EVERYONE_PERMISSIONS = (
    Permission.CREATE_INSTANT_INVITE
    | Permission.ADD_REACTIONS
    | Permission.STREAM
    | Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.USE_EXTERNAL_EMOJIS
    | Permission.CONNECT
    | Permission.SPEAK
    | Permission.USE_VAD
    | Permission.CHANGE_NICKNAME
    | Permission.USE_APPLICATION_COMMANDS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.CREATE_PRIVATE_THREADS
    | Permission.USE_EXTERNAL_STICKERS
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.USE_EMBEDDED_ACTIVITIES
    | Permission.SEND_VOICE_MESSAGES
    | Permission.SEND_POLLS
    | Permission.USE_EXTERNAL_APPS
).value

# What a typical invite link grants a community bot's managed role (no MENTION_EVERYONE, no admin).
DEFAULT_BOT_PERMISSIONS = (
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.ADD_REACTIONS
    | Permission.USE_EXTERNAL_EMOJIS
).value

# Losing SEND_MESSAGES in a channel implicitly removes these (Discord's "implicit permissions",
# topics/permissions.mdx); in a thread it is losing SEND_MESSAGES_IN_THREADS that removes them.
_NEEDS_SEND_MESSAGES = (
    Permission.MENTION_EVERYONE
    | Permission.SEND_TTS_MESSAGES
    | Permission.ATTACH_FILES
    | Permission.EMBED_LINKS
).value


class HasPermissionValue(Protocol):
    """Anything carrying a permission integer, such as ``discord.Permissions``."""

    @property
    def value(self) -> int: ...


PermissionsLike = int | HasPermissionValue


def as_bits(permissions: PermissionsLike) -> int:
    """Accept an int, a ``Permission`` flag or a ``discord.Permissions`` and return the raw bits."""
    if isinstance(permissions, int):
        return int(permissions)
    return int(permissions.value)


def base_permissions(*, everyone: int, role_permissions: list[int], is_owner: bool) -> int:
    """Guild-level permissions of a member: @everyone plus every role, all if owner or administrator."""
    if is_owner:
        return ALL_PERMISSIONS
    bits = everyone
    for role_bits in role_permissions:
        bits |= role_bits
    if bits & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    return bits


def apply_overwrites(
    base: int,
    *,
    everyone_overwrite: tuple[int, int] | None,
    role_overwrites: list[tuple[int, int]],
    member_overwrite: tuple[int, int] | None,
    in_thread: bool = False,
) -> int:
    """Apply channel overwrites in Discord's order: @everyone, then all roles together, then the member.

    Each overwrite is an ``(allow, deny)`` pair. Administrators are not affected by overwrites.
    ``in_thread``: the channel is a thread, where SEND_MESSAGES has no effect and
    SEND_MESSAGES_IN_THREADS is what sending needs (topics/threads.mdx, "Permissions").
    """
    if base & Permission.ADMINISTRATOR:
        return ALL_PERMISSIONS
    bits = base
    if everyone_overwrite is not None:
        allow, deny = everyone_overwrite
        bits = (bits & ~deny) | allow
    role_allow = 0
    role_deny = 0
    for allow, deny in role_overwrites:
        role_allow |= allow
        role_deny |= deny
    bits = (bits & ~role_deny) | role_allow
    if member_overwrite is not None:
        allow, deny = member_overwrite
        bits = (bits & ~deny) | allow
    if not bits & Permission.VIEW_CHANNEL:
        return 0
    send = Permission.SEND_MESSAGES_IN_THREADS if in_thread else Permission.SEND_MESSAGES
    if not bits & send:
        bits &= ~_NEEDS_SEND_MESSAGES
    return bits
