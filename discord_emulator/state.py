"""The emulated Discord world (users, guilds, roles, channels, messages) and its JSON payloads."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from discord_emulator.clock import EmulatorClock
from discord_emulator.errors import DiscordApiError
from discord_emulator.permissions import Permission, apply_overwrites, base_permissions

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
EPHEMERAL = 1 << 6
LOADING = 1 << 7
HAS_THREAD = 1 << 5
CROSSPOSTED = 1 << 0
IS_CROSSPOST = 1 << 1
IS_COMPONENTS_V2 = 1 << 15
REPLY = 19
CHAT_INPUT_COMMAND = 20
# Channel flags (resources/channel.mdx, "Channel Flags").
PINNED_THREAD = 1 << 1
REQUIRE_TAG = 1 << 4


class ChannelType(IntEnum):
    """Discord channel types the emulator models."""

    TEXT = 0
    DM = 1
    VOICE = 2
    GROUP_DM = 3
    CATEGORY = 4
    ANNOUNCEMENT = 5
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    FORUM = 15


THREAD_TYPES = frozenset(
    {ChannelType.ANNOUNCEMENT_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD}
)
PRIVATE_TYPES = frozenset({ChannelType.DM, ChannelType.GROUP_DM})
MESSAGEABLE_TYPES = frozenset({ChannelType.TEXT, ChannelType.VOICE, ChannelType.ANNOUNCEMENT} | THREAD_TYPES)


def iso(moment: datetime) -> str:
    return moment.isoformat()


class SnowflakeFactory:
    """Real-looking, strictly increasing snowflakes whose timestamp is the emulator clock's now
    (discord.py reads it: ``created_at``, and ``before``/``after`` in history)."""

    def __init__(self, clock: EmulatorClock) -> None:
        self._clock = clock
        self._last = 0

    def next(self) -> int:
        now_ms = int(self._clock.time() * 1000)
        candidate = ((now_ms - DISCORD_EPOCH_MS) << 22) | (1 << 17)
        self._last = max(candidate, self._last + 1)
        return self._last


@dataclass(eq=False)
class User:
    """A Discord user account."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    discriminator: str = "0"

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": self.discriminator,
            "global_name": self.global_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
            "collectibles": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(eq=False)
class Role:
    """A guild role; the @everyone role's id is the guild id, a bot's managed role has ``bot_id``."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int
    mentionable: bool = False
    hoist: bool = False
    color: int = 0
    bot_id: int | None = None

    @property
    def is_everyone(self) -> bool:
        return self.id == self.guild_id

    @property
    def mention(self) -> str:
        return "@everyone" if self.is_everyone else f"<@&{self.id}>"

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.bot_id is not None,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(frozen=True, slots=True)
class Overwrite:
    """A channel permission overwrite; ``type`` is 0 for a role, 1 for a member."""

    id: int
    type: int
    allow: int
    deny: int

    def payload(self) -> JSON:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass(eq=False)
class Channel:
    """A guild channel, category, forum or thread; or a DM or group DM (``guild_id`` None, with
    ``recipients``)."""

    id: int
    guild_id: int | None
    type: ChannelType
    name: str
    position: int = 0
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    rate_limit_per_user: int = 0
    last_message_id: int | None = None
    flags: int = 0
    # Thread-only state. ``archive_timestamp`` changes when the thread is created, archived or
    # unarchived; ``last_activity`` (creation, a message, unarchiving) starts the auto-archive timer.
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    archive_timestamp: datetime | None = None
    last_activity: datetime | None = None
    message_count: int = 0
    member_ids: set[int] = field(default_factory=set)
    applied_tags: list[int] = field(default_factory=list)
    # Forum-only state.
    available_tags: list[JSON] = field(default_factory=list)
    # DM and group DM state: the people in it (a DM has two).
    recipients: list[User] = field(default_factory=list)
    created_at: datetime = field(kw_only=True)

    def __post_init__(self) -> None:
        if self.archive_timestamp is None:
            self.archive_timestamp = self.created_at
        if self.last_activity is None:
            self.last_activity = self.created_at

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def is_private(self) -> bool:
        """A DM or group DM: no server, no permissions, only its recipients."""
        return self.type in PRIVATE_TYPES

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self, self_id: int | None = None) -> JSON:
        """The channel object; ``self_id`` is who looks at it (a thread's own member, a DM's
        recipients other than them)."""
        if self.is_thread:
            return self._thread_payload(self_id)
        if self.is_private:
            return self._private_payload(self_id)
        data: JSON = {
            "id": str(self.id),
            "type": int(self.type),
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [ow.payload() for ow in self.overwrites.values()],
            "parent_id": None if self.parent_id is None else str(self.parent_id),
            "nsfw": self.nsfw,
            "flags": self.flags,
        }
        if self.type in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT, ChannelType.FORUM):
            data["topic"] = self.topic
            data["rate_limit_per_user"] = self.rate_limit_per_user
            data["last_message_id"] = None if self.last_message_id is None else str(self.last_message_id)
            data["default_auto_archive_duration"] = 1440
            data["default_thread_rate_limit_per_user"] = 0
        if self.type is ChannelType.VOICE:
            data.update(
                bitrate=64000, user_limit=0, rtc_region=None, rate_limit_per_user=0, last_message_id=None
            )
        if self.type is ChannelType.FORUM:
            data.update(
                available_tags=self.available_tags,
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
            )
        return data

    def _private_payload(self, self_id: int | None) -> JSON:
        # A DM lists the other recipient(s), not the one looking (resources/channel.mdx, example DM).
        data: JSON = {
            "id": str(self.id),
            "type": int(self.type),
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "flags": self.flags,
            "recipients": [user.payload() for user in self.recipients if user.id != self_id],
        }
        if self.type is ChannelType.GROUP_DM:
            data.update(name=self.name or None, icon=None, owner_id=str(self.owner_id))
        return data

    def _thread_payload(self, self_id: int | None) -> JSON:
        metadata: JSON = {
            "archived": self.archived,
            "auto_archive_duration": self.auto_archive_duration,
            "archive_timestamp": iso(self.archive_timestamp or self.created_at),
            "locked": self.locked,
            "create_timestamp": iso(self.created_at),
        }
        if self.type is ChannelType.PRIVATE_THREAD:
            metadata["invitable"] = True
        data: JSON = {
            "id": str(self.id),
            "type": int(self.type),
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "name": self.name,
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "rate_limit_per_user": self.rate_limit_per_user,
            "message_count": self.message_count,
            "member_count": len(self.member_ids),
            "total_message_sent": self.message_count,
            "flags": self.flags,
            "applied_tags": [str(tag) for tag in self.applied_tags],
            "thread_metadata": metadata,
        }
        if self_id is not None and self_id in self.member_ids:
            data["member"] = self.member_payload(self_id)
        return data

    def member_payload(self, user_id: int) -> JSON:
        """The thread member object of ``user_id`` (who must have joined)."""
        return {
            "id": str(self.id),
            "user_id": str(user_id),
            "join_timestamp": iso(self.created_at),
            "flags": 1,
        }


@dataclass(eq=False)
class Member:
    """A user's membership of a guild; ``role_ids`` never contains @everyone."""

    user: User
    guild_id: int
    role_ids: list[int]
    nick: str | None = None
    joined_at: datetime = field(kw_only=True)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def name(self) -> str:
        return self.user.username

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> JSON:
        data: JSON = {
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(role_id) for role_id in self.role_ids],
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
            "avatar_decoration_data": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass(eq=False)
class Guild:
    """A Discord server. Read its attributes freely; change it only through the emulator."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    @property
    def bot_role(self) -> Role | None:
        return next((role for role in self.roles.values() if role.bot_id is not None), None)

    @property
    def owner(self) -> Member:
        return self.members[self.owner_id]

    @property
    def general(self) -> Channel:
        """The default #general text channel created by ``add_guild``."""
        return self.channel("general")

    @property
    def threads(self) -> list[Channel]:
        return [channel for channel in self.channels.values() if channel.is_thread]

    def channel(self, name: str) -> Channel:
        for channel in self.channels.values():
            if channel.name == name and not channel.is_thread:
                return channel
        raise KeyError(f"guild {self.name!r} has no channel named {name!r}")

    def thread(self, name: str) -> Channel:
        for channel in self.threads:
            if channel.name == name:
                return channel
        raise KeyError(f"guild {self.name!r} has no thread named {name!r}")

    def role(self, name: str) -> Role:
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(f"guild {self.name!r} has no role named {name!r}")

    def member(self, name: str) -> Member:
        for member in self.members.values():
            if member.name == name:
                return member
        raise KeyError(f"guild {self.name!r} has no member named {name!r}")

    def payload(self) -> JSON:
        """The guild object without the GUILD_CREATE-only lists."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [role.payload() for role in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
        }


@dataclass(eq=False)
class Message:
    """A message as stored by the emulator; ``payload()`` renders Discord's message object."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str
    timestamp: datetime
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    tts: bool = False
    mentions: list[User] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    edited_timestamp: datetime | None = None
    nonce: str | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: JSON | None = None
    message_reference: JSON | None = None
    thread_id: int | None = None
    reactions: list[JSON] = field(default_factory=list)
    position: int | None = None
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)


@dataclass(frozen=True, slots=True)
class Follower:
    """A Channel Follower webhook (resources/webhook.mdx, type 2): it posts the source channel's
    crossposts in ``channel_id``, under the source server's and channel's name."""

    webhook: User
    channel_id: int


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An uploaded file's bytes, served back at the attachment's URL."""

    filename: str
    content_type: str
    data: bytes


class DiscordState:
    """Every object of the emulated Discord, indexed by id, with Discord's permission arithmetic."""

    def __init__(self, *, bot_name: str, application_name: str, clock: EmulatorClock) -> None:
        self.clock = clock
        self.snowflakes = SnowflakeFactory(clock)
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_messages: dict[int, list[int]] = {}
        self.files: dict[int, StoredFile] = {}
        # Channel Following: an announcement channel's id -> the follower webhooks posting its
        # crossposts into other channels (resources/channel.mdx, "Follow Announcement Channel").
        self.followers: dict[int, list[Follower]] = {}
        self.application_id = self.snowflakes.next()
        self.application_name = application_name
        # Users who installed the app to their account (resources/application.mdx, "User Context").
        self.user_installs: set[int] = set()
        self.bot = self.add_user(bot_name, bot=True, discriminator="4821")
        self.owner_user = self.add_user("app-owner")
        self.token = self._new_token()

    def _new_token(self) -> str:
        # The real token format: base64(bot id).timestamp.hmac; discord.py only passes it along.
        encoded_id = base64.b64encode(str(self.bot.id).encode()).decode().rstrip("=")
        return f"{encoded_id}.{secrets.token_urlsafe(4)}.{secrets.token_urlsafe(27)}"

    def reset_token(self) -> None:
        """Discord resets the bot token (developers/events/gateway.mdx, session start limit): the old
        one stops working everywhere."""
        self.token = self._new_token()

    # ----------------------------------------------------------------- lookups
    def add_user(self, username: str, *, bot: bool = False, discriminator: str = "0") -> User:
        user = User(self.snowflakes.next(), username, None if bot else username.title(), bot, discriminator)
        self.users[user.id] = user
        return user

    def guild(self, guild_id: int) -> Guild:
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise DiscordApiError.unknown_guild() from None

    def channel(self, channel_id: int) -> Channel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise DiscordApiError.unknown_channel() from None

    def message(self, channel_id: int, message_id: int) -> Message:
        message = self.messages.get(message_id)
        if message is None or message.channel_id != channel_id or message.deleted:
            raise DiscordApiError.unknown_message()
        return message

    def guild_of(self, channel: Channel) -> Guild:
        """The server of a guild channel; a DM has none, and no route of a server applies to it."""
        if channel.guild_id is None:
            raise DiscordApiError.missing_access()
        return self.guilds[channel.guild_id]

    def installed_in(self, guild: Guild) -> bool:
        """Whether the app is installed to ``guild`` (its bot is a member)."""
        return self.bot.id in guild.members

    def private_channel(
        self, recipients: list[User], *, name: str = "", owner: User | None = None
    ) -> Channel:
        """The DM between two users (the same one every time), or a new group DM of more."""
        if len(recipients) == 2:
            wanted = {user.id for user in recipients}
            for channel in self.channels.values():
                if channel.type is ChannelType.DM and {user.id for user in channel.recipients} == wanted:
                    return channel
        channel = Channel(
            id=self.snowflakes.next(),
            guild_id=None,
            type=ChannelType.DM if len(recipients) == 2 else ChannelType.GROUP_DM,
            name=name,
            owner_id=None if len(recipients) == 2 else (owner or recipients[0]).id,
            recipients=list(recipients),
            created_at=self.clock.now(),
        )
        self.channels[channel.id] = channel
        return channel

    def parent_of(self, channel: Channel) -> Channel:
        """The channel whose overwrites govern ``channel`` (itself unless it is a thread)."""
        if channel.is_thread and channel.parent_id is not None:
            return self.channels[channel.parent_id]
        return channel

    # ------------------------------------------------------------- permissions
    def guild_permissions(self, guild: Guild, member: Member) -> int:
        return base_permissions(
            everyone=guild.everyone.permissions,
            role_permissions=[guild.roles[role_id].permissions for role_id in member.role_ids],
            is_owner=member.id == guild.owner_id,
        )

    def permissions_in(self, channel: Channel, member: Member) -> int:
        """Discord's algorithm: base permissions, then @everyone, role and member overwrites."""
        guild = self.guild_of(channel)
        governing = self.parent_of(channel)
        overwrites = governing.overwrites
        everyone = overwrites.get(guild.id)
        member_ow = overwrites.get(member.id)
        role_overwrites = [
            (ow.allow, ow.deny) for role_id in member.role_ids if (ow := overwrites.get(role_id)) is not None
        ]
        return apply_overwrites(
            self.guild_permissions(guild, member),
            everyone_overwrite=None if everyone is None else (everyone.allow, everyone.deny),
            role_overwrites=role_overwrites,
            member_overwrite=None
            if member_ow is None or member_ow.type != 1
            else (member_ow.allow, member_ow.deny),
            in_thread=channel.is_thread,
        )

    def bot_member(self, guild: Guild) -> Member:
        return guild.members[self.bot.id]

    def bot_permissions_in(self, channel: Channel) -> int:
        """The bot member's permissions in a guild channel; none where the bot is not a member."""
        guild = self.guild_of(channel)
        if not self.installed_in(guild):
            return 0
        return self.permissions_in(channel, self.bot_member(guild))

    def app_permissions_in(self, channel: Channel) -> int:
        """``app_permissions`` of an interaction from ``channel`` (interactions/receiving-and-responding.mdx).

        - A server the bot is in: the bot's permissions there.
        - A server it is not in (the app is only installed to the user): "the same as the permissions
          for @everyone" (change-log.mdx, "Calculated Permissions in Interaction Payloads", 2022),
          with ATTACH_FILES and EMBED_LINKS always added (discord-api-docs issue #5316, fixed by Discord).
        - DMs and group DMs with other users: ``ATTACH_FILES | EMBED_LINKS | MENTION_EVERYONE`` (the
          interaction object's footnote); the bot is not in them.
        - The DM with the bot: those and ``USE_EXTERNAL_EMOJIS`` (the same footnote), plus what the bot
          does in its own DM (see, send, read the history, react).
        """
        responses = Permission.ATTACH_FILES | Permission.EMBED_LINKS | Permission.MENTION_EVERYONE
        if channel.is_private:
            if any(user.id == self.bot.id for user in channel.recipients):
                return int(
                    responses
                    | Permission.USE_EXTERNAL_EMOJIS
                    | Permission.VIEW_CHANNEL
                    | Permission.SEND_MESSAGES
                    | Permission.READ_MESSAGE_HISTORY
                    | Permission.ADD_REACTIONS
                )
            return int(responses)
        guild = self.guild_of(channel)
        if self.installed_in(guild):
            return self.bot_permissions_in(channel)
        governing = self.parent_of(channel)
        everyone = governing.overwrites.get(guild.id)
        bits = apply_overwrites(
            guild.everyone.permissions,
            everyone_overwrite=None if everyone is None else (everyone.allow, everyone.deny),
            role_overwrites=[],
            member_overwrite=None,
            in_thread=channel.is_thread,
        )
        return bits | Permission.ATTACH_FILES | Permission.EMBED_LINKS

    def require(self, channel: Channel, *needed: Permission) -> None:
        """Raise Discord's 403 if the bot lacks a permission: no VIEW_CHANNEL is 50001, the rest 50013."""
        bits = self.bot_permissions_in(channel)
        if not bits & Permission.VIEW_CHANNEL:
            raise DiscordApiError.missing_access()
        for permission in needed:
            if not bits & permission:
                raise DiscordApiError.missing_permissions()

    # -------------------------------------------------------------- rendering
    def message_payload(
        self, message: Message, *, with_reference: bool = True, with_nonce: bool = False
    ) -> JSON:
        """Discord's message object. ``nonce`` is not stored long term (discord.py's
        ``Message.nonce`` docs): only the create response and MESSAGE_CREATE carry it."""
        data: JSON = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": message.author.payload(),
            "content": message.content,
            "timestamp": iso(message.timestamp),
            "edited_timestamp": None if message.edited_timestamp is None else iso(message.edited_timestamp),
            "tts": message.tts,
            "mention_everyone": message.mention_everyone,
            "mentions": [user.payload() for user in message.mentions],
            "mention_roles": [str(role_id) for role_id in message.mention_roles],
            "attachments": message.attachments,
            "embeds": message.embeds,
            "reactions": message.reactions,
            "pinned": False,
            "type": message.type,
            "flags": message.flags,
            "components": message.components,
        }
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        if with_nonce and message.nonce is not None:
            data["nonce"] = message.nonce
        if message.webhook_id is not None:
            data["webhook_id"] = str(message.webhook_id)
        if message.application_id is not None:
            data["application_id"] = str(message.application_id)
        if message.interaction_metadata is not None:
            data["interaction_metadata"] = message.interaction_metadata
        if message.message_reference is not None:
            data["message_reference"] = message.message_reference
            referenced = self.messages.get(int(message.message_reference["message_id"]))
            if with_reference and message.type == REPLY:
                alive = referenced is not None and not referenced.deleted
                data["referenced_message"] = (
                    self.message_payload(referenced, with_reference=False) if alive and referenced else None
                )
        if message.position is not None:
            data["position"] = message.position
        if message.thread_id is not None and message.thread_id in self.channels:
            data["thread"] = self.channels[message.thread_id].payload(self.bot.id)
        return data

    def channel_history(self, channel_id: int, *, include_ephemeral: bool = False) -> list[Message]:
        found = (self.messages[message_id] for message_id in self.channel_messages.get(channel_id, []))
        return [m for m in found if not m.deleted and (include_ephemeral or not m.ephemeral)]


class ChangeSignal:
    """Wakes every waiter whenever the emulated world changes, so tests wait on conditions, not sleeps."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
        *,
        recheck: float | None = None,
    ) -> bool:
        """Wait until ``predicate()`` holds; re-evaluate on every change (and every ``recheck`` seconds)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            if recheck is not None:
                remaining = min(remaining, recheck)
            event = self._event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        return True
