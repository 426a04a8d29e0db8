"""Test infrastructure: a Discord emulator the real bot talks to over 127.0.0.1 (see ``emulator``)."""

from bot.testing.core import Fault, RecordedRequest, UploadedFile
from bot.testing.emulator import DiscordEmulator
from bot.testing.errors import (
    ApiErrorRecord,
    CommandUsageError,
    EmulatorError,
    InteractionFailed,
    InteractionTimeout,
)
from bot.testing.gateway import GUILD_MEMBERS, GUILD_MESSAGES, GUILD_PRESENCES, GUILDS, MESSAGE_CONTENT
from bot.testing.interactions import InteractionResult
from bot.testing.permissions import (
    ALL_PERMISSIONS,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    Permission,
)
from bot.testing.state import Channel, ChannelType, Guild, Member, Role, User

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
    "Channel",
    "ChannelType",
    "CommandUsageError",
    "DiscordEmulator",
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
