"""Test infrastructure: a Discord emulator the real bot talks to over 127.0.0.1 (see ``emulator``)."""

from discord_emulator.clock import EmulatorClock
from discord_emulator.core import Fault, RecordedRequest, UploadedFile
from discord_emulator.emulator import DiscordEmulator
from discord_emulator.errors import (
    ApiErrorRecord,
    CommandUsageError,
    EmulatorError,
    InteractionFailed,
    InteractionTimeout,
)
from discord_emulator.gateway import GUILD_MEMBERS, GUILD_MESSAGES, GUILD_PRESENCES, GUILDS, MESSAGE_CONTENT
from discord_emulator.interactions import InteractionResult
from discord_emulator.moderation import AutoModRule
from discord_emulator.permissions import (
    ALL_PERMISSIONS,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    Permission,
)
from discord_emulator.state import Channel, ChannelType, Guild, Member, Role, User

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "GUILDS",
    "GUILD_MEMBERS",
    "GUILD_MESSAGES",
    "GUILD_PRESENCES",
    "MESSAGE_CONTENT",
    "ApiErrorRecord",
    "AutoModRule",
    "Channel",
    "ChannelType",
    "CommandUsageError",
    "DiscordEmulator",
    "EmulatorClock",
    "EmulatorError",
    "Fault",
    "Guild",
    "InteractionFailed",
    "InteractionResult",
    "InteractionTimeout",
    "Member",
    "Permission",
    "RecordedRequest",
    "Role",
    "UploadedFile",
    "User",
]
