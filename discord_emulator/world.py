"""Tests shaping the emulated Discord: servers, channels, roles, members, permissions, user messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from discord_emulator.core import Core
from discord_emulator.errors import CommandUsageError, DiscordApiError
from discord_emulator.gateway import GUILD_MEMBERS, GUILDS, Gateway, guild_create_payload
from discord_emulator.moderation import AutoModRule
from discord_emulator.permissions import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    Permission,
    PermissionsLike,
    as_bits,
)
from discord_emulator.state import (
    REQUIRE_TAG,
    ChangeSignal,
    Channel,
    ChannelType,
    DiscordState,
    Follower,
    Guild,
    Member,
    Overwrite,
    Role,
    User,
)
from discord_emulator.users import message_id_of

JSON = dict[str, Any]
ChannelKind = ChannelType | Literal["text", "voice", "category", "announcement", "forum"]
_CHANNEL_KINDS = {
    "text": ChannelType.TEXT,
    "voice": ChannelType.VOICE,
    "category": ChannelType.CATEGORY,
    "announcement": ChannelType.ANNOUNCEMENT,
    "forum": ChannelType.FORUM,
}


class WorldEditing:
    """Mixed into ``DiscordEmulator``: each change is applied and, when the bot is connected, sent to it
    as the gateway event Discord would send (GUILD_CREATE, CHANNEL_UPDATE, GUILD_ROLE_UPDATE...)."""

    state: DiscordState
    _core: Core
    _gateway: Gateway
    _changes: ChangeSignal

    def add_guild(
        self,
        name: str,
        *,
        channels: Sequence[str] = ("general",),
        bot_permissions: PermissionsLike = DEFAULT_BOT_PERMISSIONS,
        everyone_permissions: PermissionsLike = DEFAULT_EVERYONE_PERMISSIONS,
        owner_name: str = "owner",
        bot_installed: bool = True,
    ) -> Guild:
        """A server with @everyone, an owner member, the bot (with a managed role holding
        ``bot_permissions``) and one text channel per name in ``channels``. GUILD_CREATE if connected.

        ``bot_installed=False``: a server that never added the app (no bot member, no bot role, no
        event): its members reach the app only by installing it to their account (``add_user_install``),
        and the bot hears of the server only through their interactions."""
        state = self.state
        owner = state.add_user(owner_name)
        guild = Guild(id=state.snowflakes.next(), name=name, owner_id=owner.id)
        state.guilds[guild.id] = guild
        guild.roles[guild.id] = Role(guild.id, guild.id, "@everyone", as_bits(everyone_permissions), 0)
        guild.members[owner.id] = Member(owner, guild.id, [], joined_at=state.clock.now())
        if bot_installed:
            self._join_bot(guild, as_bits(bot_permissions))
        for position, channel_name in enumerate(channels):
            self._new_channel(guild, channel_name, ChannelType.TEXT, position=position)
        if bot_installed:
            payload = guild_create_payload(state, guild, self._gateway.intents, joined=True)
            self._gateway.dispatch("GUILD_CREATE", payload, intent=GUILDS)
        self._changes.notify()
        return guild

    def _join_bot(self, guild: Guild, permissions: int) -> None:
        role = Role(
            self.state.snowflakes.next(),
            guild.id,
            self.state.bot.username,
            permissions,
            1,
            bot_id=self.state.bot.id,
        )
        guild.roles[role.id] = role
        guild.members[self.state.bot.id] = Member(
            self.state.bot, guild.id, [role.id], joined_at=self.state.clock.now()
        )

    def _new_channel(
        self,
        guild: Guild,
        name: str,
        kind: ChannelType,
        *,
        position: int,
        topic: str | None = None,
        parent: Channel | None = None,
    ) -> Channel:
        channel = Channel(
            id=self.state.snowflakes.next(),
            guild_id=guild.id,
            type=kind,
            name=name,
            position=position,
            topic=topic,
            parent_id=None if parent is None else parent.id,
            created_at=self.state.clock.now(),
        )
        guild.channels[channel.id] = channel
        self.state.channels[channel.id] = channel
        return channel

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: ChannelKind = "text",
        topic: str | None = None,
        parent: Channel | None = None,
        overwrites: Mapping[Role | Member, tuple[PermissionsLike, PermissionsLike]] | None = None,
        tags: Sequence[str] = (),
        moderated_tags: Sequence[str] = (),
        require_tag: bool = False,
    ) -> Channel:
        """A channel (``"text"``, ``"announcement"``, ``"forum"``, ``"voice"``, ``"category"``).

        ``overwrites`` maps a role or member to ``(allow, deny)``. For a forum: ``tags`` are its
        available tags, ``moderated_tags`` tags only members with MANAGE_THREADS may apply, and
        ``require_tag`` sets the REQUIRE_TAG channel flag (every post needs a tag; resources/channel.mdx,
        "Channel Flags"). Dispatches CHANNEL_CREATE when connected.
        """
        kind = _CHANNEL_KINDS[type] if isinstance(type, str) else type
        position = sum(1 for channel in guild.channels.values() if not channel.is_thread)
        channel = self._new_channel(guild, name, kind, position=position, topic=topic, parent=parent)
        for target, (allow, deny) in (overwrites or {}).items():
            channel.overwrites[target.id] = self._overwrite(target, allow, deny)
        channel.available_tags = [
            {
                "id": str(self.state.snowflakes.next()),
                "name": tag,
                "moderated": moderated,
                "emoji_id": None,
                "emoji_name": None,
            }
            for tags_of_kind, moderated in ((tags, False), (moderated_tags, True))
            for tag in tags_of_kind
        ]
        if require_tag:
            channel.flags |= REQUIRE_TAG
        self._gateway.dispatch("CHANNEL_CREATE", channel.payload(), intent=GUILDS)
        self._changes.notify()
        return channel

    def add_thread(self, channel: Channel, name: str, *, owner: Member | None = None) -> Channel:
        """A public thread a user opened in ``channel`` (THREAD_CREATE when the bot can see it)."""
        guild = self.state.guild_of(channel)
        creator = owner or guild.owner
        kind = (
            ChannelType.ANNOUNCEMENT_THREAD
            if channel.type is ChannelType.ANNOUNCEMENT
            else ChannelType.PUBLIC_THREAD
        )
        thread = Channel(
            id=self.state.snowflakes.next(),
            guild_id=guild.id,
            type=kind,
            name=name,
            parent_id=channel.id,
            owner_id=creator.id,
            member_ids={creator.id},
            created_at=self.state.clock.now(),
        )
        guild.channels[thread.id] = thread
        self.state.channels[thread.id] = thread
        if self.state.bot_permissions_in(thread):
            self._gateway.dispatch(
                "THREAD_CREATE", {**thread.payload(), "newly_created": True}, intent=GUILDS
            )
        self._changes.notify()
        return thread

    def add_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: PermissionsLike = 0,
        mentionable: bool = False,
        hoist: bool = False,
    ) -> Role:
        """A role (GUILD_ROLE_CREATE when connected)."""
        position = max(role.position for role in guild.roles.values()) + 1
        role = Role(
            self.state.snowflakes.next(), guild.id, name, as_bits(permissions), position, mentionable, hoist
        )
        guild.roles[role.id] = role
        self._gateway.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()})
        self._changes.notify()
        return role

    def add_member(
        self,
        guild: Guild,
        name: str,
        *,
        roles: Sequence[Role] = (),
        permissions: PermissionsLike | None = None,
        nick: str | None = None,
        bot: bool = False,
    ) -> Member:
        """A member with ``roles``; ``permissions`` creates and assigns a role "<name> permissions" holding
        them (permissions on Discord always come from roles). GUILD_MEMBER_ADD with the members intent."""
        user = self.state.add_user(name, bot=bot)
        role_ids = [role.id for role in roles]
        if permissions is not None:
            role_ids.append(self.add_role(guild, f"{name} permissions", permissions=permissions).id)
        member = Member(user, guild.id, role_ids, nick=nick, joined_at=self.state.clock.now())
        guild.members[user.id] = member
        self._gateway.dispatch(
            "GUILD_MEMBER_ADD", {**member.payload(), "guild_id": str(guild.id)}, intent=GUILD_MEMBERS
        )
        self._changes.notify()
        return member

    # ------------------------------------------------------------- people and their own installs
    def add_user(self, name: str) -> User:
        """A Discord account that is in no server (yet): a friend to DM, say."""
        user = self.state.add_user(name)
        self._changes.notify()
        return user

    def add_user_install(self, who: Member | User) -> None:
        """``who`` installs the app to their account (resources/application.mdx, "User Context"): its
        commands that allow USER_INSTALL then work for them in every server, DM and group DM, including
        those the bot is not in. Refused if the app's installation settings do not allow user installs."""
        if not self._core.config.user_install:
            raise CommandUsageError(
                "the app does not support user installs (DiscordEmulator(user_install=False)), "
                "as if User Install were off in the developer portal's Installation settings"
            )
        self.state.user_installs.add(_user(who).id)
        self._changes.notify()

    def remove_user_install(self, who: Member | User) -> None:
        """``who`` removes the app from their account."""
        self.state.user_installs.discard(_user(who).id)
        self._changes.notify()

    def dm(self, who: Member | User, other: Member | User) -> Channel:
        """The DM between two people (the same channel each time). Between two users it is a
        PRIVATE_CHANNEL context for the app; with the bot it is the BOT_DM context (``bot_dm``)."""
        first, second = _user(who), _user(other)
        if first.id == second.id:
            raise CommandUsageError("a DM needs two different people")
        channel = self.state.private_channel([first, second])
        self._changes.notify()
        return channel

    def bot_dm(self, who: Member | User) -> Channel:
        """The DM between ``who`` and the app's bot user (the BOT_DM interaction context)."""
        return self.dm(who, self.state.bot)

    def add_group_dm(self, owner: Member | User, *others: Member | User, name: str = "") -> Channel:
        """A group DM of ``owner`` and ``others`` (a PRIVATE_CHANNEL context for the app)."""
        people = [_user(owner), *(_user(other) for other in others)]
        if len({user.id for user in people}) < 2:
            raise CommandUsageError("a group DM needs at least two different people")
        if len(people) == 2:
            raise CommandUsageError("two people share a DM (dm()), not a group DM")
        channel = self.state.private_channel(people, name=name, owner=people[0])
        self._changes.notify()
        return channel

    def remove_member(self, guild: Guild, member: Member) -> None:
        """The member leaves (GUILD_MEMBER_REMOVE with the members intent)."""
        del guild.members[member.id]
        data = {"guild_id": str(guild.id), "user": member.user.payload()}
        self._gateway.dispatch("GUILD_MEMBER_REMOVE", data, intent=GUILD_MEMBERS)
        self._changes.notify()

    def edit_role(
        self,
        role: Role,
        *,
        permissions: PermissionsLike | None = None,
        name: str | None = None,
        mentionable: bool | None = None,
        position: int | None = None,
    ) -> None:
        """Change a role (GUILD_ROLE_UPDATE)."""
        if position is not None:
            role.position = position
        if permissions is not None:
            role.permissions = as_bits(permissions)
        if name is not None:
            role.name = name
        if mentionable is not None:
            role.mentionable = mentionable
        self._gateway.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(role.guild_id), "role": role.payload()})
        self._changes.notify()

    def set_bot_permissions(self, guild: Guild, permissions: PermissionsLike) -> None:
        """Set the permissions of the bot's managed role in ``guild`` (GUILD_ROLE_UPDATE)."""
        role = guild.bot_role
        if role is None:
            raise CommandUsageError(f"the bot is not in {guild.name!r}")
        self.edit_role(role, permissions=permissions)

    def set_channel_permissions(
        self,
        channel: Channel,
        target: Role | Member,
        *,
        allow: PermissionsLike = 0,
        deny: PermissionsLike = 0,
    ) -> None:
        """Set ``target``'s overwrite on ``channel`` (CHANNEL_UPDATE). Use ``guild.everyone`` for @everyone
        and ``discord.bot_member(guild)`` for the bot."""
        channel.overwrites[target.id] = self._overwrite(target, allow, deny)
        self._gateway.dispatch("CHANNEL_UPDATE", channel.payload(), intent=GUILDS)
        self._changes.notify()

    def set_bot_channel_permissions(
        self, channel: Channel, *, allow: PermissionsLike = 0, deny: PermissionsLike = 0
    ) -> None:
        """Set the bot member's own overwrite on ``channel`` (CHANNEL_UPDATE)."""
        self.set_channel_permissions(
            channel, self.state.bot_member(self.state.guild_of(channel)), allow=allow, deny=deny
        )

    def clear_channel_permissions(self, channel: Channel, target: Role | Member) -> None:
        """Remove ``target``'s overwrite on ``channel`` (CHANNEL_UPDATE)."""
        channel.overwrites.pop(target.id, None)
        self._gateway.dispatch("CHANNEL_UPDATE", channel.payload(), intent=GUILDS)
        self._changes.notify()

    @staticmethod
    def _overwrite(target: Role | Member, allow: PermissionsLike, deny: PermissionsLike) -> Overwrite:
        return Overwrite(target.id, 1 if isinstance(target, Member) else 0, as_bits(allow), as_bits(deny))

    def bot_member(self, guild: Guild) -> Member:
        return self.state.bot_member(guild)

    def delete_channel(self, channel: Channel) -> None:
        """Delete a channel or thread (CHANNEL_DELETE / THREAD_DELETE)."""
        guild = self.state.guild_of(channel)
        del guild.channels[channel.id]
        del self.state.channels[channel.id]
        if channel.is_thread:
            data = {
                "id": str(channel.id),
                "guild_id": str(guild.id),
                "parent_id": str(channel.parent_id),
                "type": int(channel.type),
            }
            self._gateway.dispatch("THREAD_DELETE", data, intent=GUILDS)
        else:
            self._gateway.dispatch("CHANNEL_DELETE", channel.payload(), intent=GUILDS)
        self._changes.notify()

    def follow_channel(self, source: Channel, target: Channel) -> User:
        """``target``'s server follows the announcement channel ``source`` (resources/channel.mdx,
        "Follow Announcement Channel"): from now on its crossposts appear in ``target``, posted by a
        Channel Follower webhook named after the source server and channel, which is returned."""
        if source.type is not ChannelType.ANNOUNCEMENT:
            raise CommandUsageError(f"#{source.name} is not an announcement channel: it cannot be followed")
        if target.type not in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT):
            raise CommandUsageError(f"#{target.name} cannot receive followed messages")
        webhook = User(
            self.state.snowflakes.next(),
            f"{self.state.guild_of(source).name} #{source.name}",
            bot=True,
            discriminator="0000",
        )
        self.state.followers.setdefault(source.id, []).append(Follower(webhook, target.id))
        return webhook

    def remove_guild(self, guild: Guild) -> None:
        """The bot is removed from ``guild`` (GUILD_DELETE without ``unavailable``)."""
        guild.members.pop(self.state.bot.id, None)
        bot_role = guild.bot_role
        if bot_role is not None:
            del guild.roles[bot_role.id]
        self._gateway.dispatch("GUILD_DELETE", {"id": str(guild.id)}, intent=GUILDS)
        self._changes.notify()

    def permissions_for(self, member: Member, channel: Channel) -> Permission:
        """``member``'s computed permissions in ``channel``, as Discord computes them."""
        return Permission(self.state.permissions_in(channel, member))

    def post_message(
        self, member: Member, channel: Channel, content: str, *, reply_to: JSON | int | None = None
    ) -> JSON:
        """``member`` writes a message (MESSAGE_CREATE; empty content for a bot without MESSAGE_CONTENT)."""
        bits = self.state.permissions_in(channel, member)
        send = Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permission.SEND_MESSAGES
        if not bits & Permission.VIEW_CHANNEL or not bits & send:
            raise CommandUsageError(f"{member.name} cannot post in #{channel.name}")
        body: JSON = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {"message_id": str(message_id_of(reply_to))}
        try:
            if channel.is_thread:
                self._core.threads.before_send(channel, bits)
            message = self._core.create_message(channel, member.user, body, [])
        except DiscordApiError as error:
            # What the member's client shows instead of posting (a locked thread, AutoMod...).
            raise CommandUsageError(
                f"{member.name} cannot post that in #{channel.name}: {error.message}"
            ) from None
        self._core.dispatch_message_create(message)
        return self.state.message_payload(message)

    # ------------------------------------------------------------- threads
    def archive_thread(self, thread: Channel, *, locked: bool | None = None) -> None:
        """A moderator archives ``thread`` (and locks it with ``locked=True``): THREAD_UPDATE, and
        discord.py drops it from its cache. Threads also archive by themselves after
        ``auto_archive_duration`` minutes without activity: see ``advance``."""
        if not thread.is_thread:
            raise CommandUsageError(f"#{thread.name} is not a thread")
        self._core.threads.archive(thread, locked=locked)

    def lock_thread(self, thread: Channel, locked: bool = True) -> None:
        """A moderator locks (or unlocks) ``thread``: only members with MANAGE_THREADS may then send,
        edit or unarchive it (topics/threads.mdx, "Locked Threads"). THREAD_UPDATE."""
        if not thread.is_thread:
            raise CommandUsageError(f"#{thread.name} is not a thread")
        self._core.threads.set_locked(thread, locked)

    # ------------------------------------------------------------ moderation
    def add_automod_rule(
        self,
        guild: Guild,
        keywords: Sequence[str],
        *,
        name: str = "Keyword Filter",
        allow_list: Sequence[str] = (),
        exempt_roles: Sequence[Role] = (),
        exempt_channels: Sequence[Channel] = (),
    ) -> AutoModRule:
        """An AutoMod keyword rule that blocks messages (resources/auto-moderation.mdx): ``keywords``
        match case-insensitively as whole words, or as prefixes/suffixes/anywhere with ``*``
        (``"spoiler*"``, ``"*coin"``, ``"*bad*"``), in message content and embed text; matching thread
        and forum post names are blocked too. Members with Manage Server or Administrator are exempt,
        as on Discord, and so are ``exempt_roles`` and ``exempt_channels``. The bot's blocked message
        gets 400 code 200000 (200001 for a title) and nothing is stored."""
        rule = AutoModRule(
            id=self.state.snowflakes.next(),
            guild_id=guild.id,
            name=name,
            keywords=list(keywords),
            allow_list=list(allow_list),
            exempt_roles={role.id for role in exempt_roles},
            exempt_channels={channel.id for channel in exempt_channels},
        )
        self._core.moderation.rules.append(rule)
        return rule

    def block_links(self, *domains: str) -> None:
        """Add ``domains`` (and their subdomains) to Discord's harmful-links filter: a message linking
        to one, in its content, an embed URL or a link button, gets 400 code 240000 "Message blocked
        by harmful links filter" and is not stored."""
        self._core.moderation.blocked_domains.update(domain.lower().strip(".") for domain in domains)


def _user(who: Member | User) -> User:
    return who.user if isinstance(who, Member) else who
