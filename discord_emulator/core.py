"""Shared machinery of the emulator: configuration, stored commands, message creation and events."""

from __future__ import annotations

import copy
import mimetypes
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from discord_emulator.commands import CommandStore
from discord_emulator.errors import ApiErrorRecord, FormErrors
from discord_emulator.gateway import DIRECT_MESSAGES, GUILD_MESSAGES, MESSAGE_CONTENT, Gateway
from discord_emulator.moderation import Moderation
from discord_emulator.permissions import Permission
from discord_emulator.ratelimits import RouteLimit
from discord_emulator.state import (
    IS_COMPONENTS_V2,
    IS_CROSSPOST,
    REPLY,
    ChangeSignal,
    Channel,
    DiscordState,
    Member,
    Message,
    StoredFile,
    User,
)
from discord_emulator.threads import ThreadLifecycle
from discord_emulator.validation import (
    PARSE_TYPES,
    compute_mentions,
    normalise_components,
    normalise_embeds,
    validate_message_body,
)

JSON = dict[str, Any]

# Flags a bot may set itself on a channel message: SUPPRESS_EMBEDS, IS_VOICE_MESSAGE,
# SUPPRESS_NOTIFICATIONS, IS_COMPONENTS_V2.
SETTABLE_FLAGS = (1 << 2) | (1 << 13) | (1 << 12) | IS_COMPONENTS_V2


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Timing and limits the REST side applies (see ``DiscordEmulator.__init__`` for their meaning)."""

    interaction_response_window: float
    interaction_token_lifetime: float
    nonce_window: float
    rate_limit: int
    rate_limit_window: float
    route_rate_limits: Mapping[str, RouteLimit]
    global_rate_limit: int
    invalid_request_limit: int
    invalid_request_window: float
    ban_duration: float
    user_install: bool = True


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """One ``files[n]`` part of a multipart request."""

    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class RecordedRequest:
    """One HTTP request the bot made, with the emulator's answer."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    at: float
    status: int = 0
    response: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Core:
    """What the REST handlers, the gateway and the test API share."""

    def __init__(
        self, state: DiscordState, gateway: Gateway, changes: ChangeSignal, config: EmulatorConfig
    ) -> None:
        self.state = state
        self.gateway = gateway
        self.changes = changes
        self.config = config
        self.commands = CommandStore(state, user_install=config.user_install)
        self.moderation = Moderation(state)
        self.threads = ThreadLifecycle(state, gateway, changes)
        self.requests: list[RecordedRequest] = []
        self.errors: list[ApiErrorRecord] = []
        self.unsupported: list[str] = []
        self.internal_errors: list[BaseException] = []
        # (author id, nonce) -> (message id, when it was created, on the clock).
        self.nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        # Guilds in an outage, and the HTTP status their REST routes answer meanwhile.
        self.outages: dict[int, int] = {}
        self.origin = ""

    def run_due(self) -> None:
        """Do what the passing of time triggers on Discord (today: thread auto-archiving)."""
        self.threads.archive_due()

    # ------------------------------------------------------------------ nonces
    def recent_nonce(self, author: User, nonce: str) -> Message | None:
        """The message ``author`` created with ``nonce`` within the dedup window, deleted or not.

        "it will be checked for uniqueness in the past few minutes. If another message was created by
        the same author with the same nonce, that message will be returned" (resources/message.mdx,
        Create Message, ``enforce_nonce``). The docs give no number; ``nonce_window`` is 5 minutes.
        """
        found = self.nonces.get((author.id, nonce))
        if found is None:
            return None
        message_id, created = found
        if self.now() - created > self.config.nonce_window:
            del self.nonces[(author.id, nonce)]
            return None
        return self.state.messages[message_id]

    def remember_nonce(self, message: Message) -> None:
        if message.nonce is not None:
            self.nonces[(message.author.id, message.nonce)] = (message.id, self.now())

    # ---------------------------------------------------------------- messages
    def attachments_for(
        self, channel_id: int, body: JSON, files: list[UploadedFile], existing: list[JSON]
    ) -> list[JSON]:
        """Build the attachment objects: new uploads by their ``files[n]`` index, kept ones by id."""
        uploads = {file.field_name: file for file in files}
        described = body.get("attachments")
        if described is None:
            described = [{"id": index} for index in range(len(files))]
        kept = {attachment["id"]: attachment for attachment in existing}
        result: list[JSON] = []
        for entry in described:
            upload = uploads.get(f"files[{entry.get('id')}]")
            if upload is None:
                if str(entry.get("id")) in kept:
                    result.append(kept[str(entry["id"])])
                continue
            attachment_id = self.state.snowflakes.next()
            content_type = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
            self.state.files[attachment_id] = StoredFile(upload.filename, content_type, upload.data)
            url = f"{self.origin}/attachments/{channel_id}/{attachment_id}/{upload.filename}"
            attachment: JSON = {
                "id": str(attachment_id),
                "filename": upload.filename,
                "size": len(upload.data),
                "url": url,
                "proxy_url": url,
                "content_type": content_type,
            }
            if entry.get("description"):
                attachment["description"] = entry["description"]
            result.append(attachment)
        return result

    def acting_member(self, channel: Channel, author: User) -> Member | None:
        """The member whose permissions apply to ``author``'s message: webhook-style authors
        (interaction responses) act with the application's bot member. None in a DM, and for the
        responses of an app that is only installed to a user, in a server it is not in."""
        if channel.is_private:
            return None
        guild = self.state.guild_of(channel)
        member = guild.members.get(author.id)
        return member if member is not None else guild.members.get(self.state.bot.id)

    def can_mention_everyone(self, channel: Channel, author: User) -> bool:
        if channel.is_private:
            return False
        member = self.acting_member(channel, author)
        if member is None:
            return bool(self.state.app_permissions_in(channel) & Permission.MENTION_EVERYONE)
        return bool(self.state.permissions_in(channel, member) & Permission.MENTION_EVERYONE)

    def _apply_mentions(
        self, message: Message, channel: Channel, body: JSON, replied_user: int | None
    ) -> None:
        guild = None if channel.is_private else self.state.guild_of(channel)
        everyone_ok = self.can_mention_everyone(channel, message.author)

        def role_pingable(role_id: int) -> bool:
            role = None if guild is None else guild.roles.get(role_id)
            return role is not None and not role.is_everyone and (role.mentionable or everyone_ok)

        # "In regular messages, all mention types are parsed ... In interactions and webhooks, only
        # user mentions are parsed" (resources/message.mdx, "Default Settings for Allowed Mentions").
        defaults = frozenset({"users"}) if message.webhook_id is not None else PARSE_TYPES
        mentions = compute_mentions(
            message.content,
            body.get("allowed_mentions"),
            default_parse=defaults,
            user_exists=lambda user_id: user_id in self.state.users,
            role_pingable=role_pingable,
            can_mention_everyone=everyone_ok,
            replied_user_id=replied_user,
        )
        message.mentions = [self.state.users[user_id] for user_id in mentions.user_ids]
        message.mention_roles = mentions.role_ids
        message.mention_everyone = mentions.everyone

    def create_message(
        self,
        channel: Channel,
        author: User,
        body: JSON,
        files: list[UploadedFile],
        *,
        error_prefix: tuple[str, ...] = (),
        message_id: int | None = None,
        message_type: int = 0,
        extra_flags: int = 0,
        webhook_id: int | None = None,
        interaction_metadata: JSON | None = None,
        validate: bool = True,
    ) -> Message:
        """Validate ``body`` like Discord and store the new message (the caller dispatches events).

        Messages in a guild pass the harmful-links filter and the guild's AutoMod rules first.
        """
        if validate:
            validate_message_body(body, error_prefix, creating=True, has_files=bool(files))
        self.moderation.check_message(channel, self.acting_member(channel, author), body)
        replied_user: int | None = None
        reference = body.get("message_reference")
        if reference and reference.get("message_id") is not None:
            referenced = self.state.messages.get(int(reference["message_id"]))
            if referenced is None or referenced.deleted:
                if reference.get("fail_if_not_exists", True):
                    errors = FormErrors()
                    errors.add(
                        (*error_prefix, "message_reference"),
                        "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                        "Unknown message",
                    )
                    errors.raise_if_any()
                reference = None
            else:
                message_type = REPLY
                replied_user = referenced.author.id
                reference = {
                    "type": 0,
                    "message_id": str(referenced.id),
                    "channel_id": str(referenced.channel_id),
                }
                if channel.guild_id is not None:
                    reference["guild_id"] = str(channel.guild_id)
        flags = (int(body.get("flags") or 0) & SETTABLE_FLAGS) | extra_flags
        message = Message(
            id=message_id if message_id is not None else self.state.snowflakes.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            content=body.get("content") or "",
            timestamp=self.state.clock.now(),
            embeds=normalise_embeds(body.get("embeds") or []),
            components=normalise_components(body.get("components") or []),
            flags=flags,
            type=message_type,
            tts=bool(body.get("tts", False)),
            nonce=None if body.get("nonce") is None else str(body["nonce"]),
            webhook_id=webhook_id,
            application_id=self.state.application_id if webhook_id is not None else None,
            interaction_metadata=interaction_metadata,
            message_reference=reference or None,
        )
        message.attachments = self.attachments_for(channel.id, body, files, [])
        self._apply_mentions(message, channel, body, replied_user)
        if channel.is_thread and not message.ephemeral:
            self.threads.touch(channel)
            message.position = channel.message_count
            if message.id != channel.id:
                channel.message_count += 1
        self.state.messages[message.id] = message
        self.state.channel_messages.setdefault(channel.id, []).append(message.id)
        if not message.ephemeral:
            channel.last_message_id = message.id
        self.changes.notify()
        return message

    def edit_message(
        self, message: Message, body: JSON, files: list[UploadedFile], *, error_prefix: tuple[str, ...] = ()
    ) -> None:
        """Apply a partial edit: only the fields present in ``body`` change, as on Discord."""
        validate_message_body(body, error_prefix, creating=False, has_files=bool(files))
        channel = self.state.channels[message.channel_id]
        if channel.is_thread:
            self.threads.before_edit(channel, None)
        self.moderation.check_message(channel, self.acting_member(channel, message.author), body)
        if "content" in body:
            message.content = body["content"] or ""
        if "embeds" in body:
            message.embeds = normalise_embeds(body["embeds"] or [])
        if "components" in body:
            message.components = normalise_components(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            kept = message.flags & ~SETTABLE_FLAGS
            message.flags = kept | (int(body["flags"]) & SETTABLE_FLAGS)
        if "attachments" in body or files:
            message.attachments = self.attachments_for(channel.id, body, files, message.attachments)
        if "content" in body or "allowed_mentions" in body:
            self._apply_mentions(message, channel, body, None)
        message.edited_timestamp = self.state.clock.now()
        self.changes.notify()

    # ------------------------------------------------------------------ events
    def gateway_message(self, message: Message, *, created: bool = False) -> JSON:
        """MESSAGE_CREATE/UPDATE data: the message plus members, blanked without MESSAGE_CONTENT.
        Only MESSAGE_CREATE carries the ``nonce`` ("Value will appear in the Message Create event")."""
        data = self.state.message_payload(message, with_nonce=created)
        guild = self.state.guilds.get(message.guild_id or 0)
        if guild is not None:
            member = guild.members.get(message.author.id)
            if member is not None and message.webhook_id is None:
                data["member"] = member.payload(with_user=False)
            for mention in data["mentions"]:
                mentioned = guild.members.get(int(mention["id"]))
                if mentioned is not None:
                    mention["member"] = mentioned.payload(with_user=False)
        if not self.gateway.intents & MESSAGE_CONTENT:
            self.hide_content(message, data)
        return data

    def rest_message(self, message: Message) -> JSON:
        """A message as the REST API returns it to the bot: blanked like a message event when the
        MESSAGE_CONTENT intent is not switched on in the developer portal ("access to MESSAGE_CONTENT
        permits your app to receive message content data across the APIs", events/gateway.mdx)."""
        data = self.state.message_payload(message)
        if not self.gateway.content_intent_enabled:
            self.hide_content(message, data)
        return data

    def hide_content(self, message: Message, data: JSON) -> None:
        """Empty the fields that need MESSAGE_CONTENT, except where events/gateway.mdx ("Message Content
        Intent") exempts them: messages the app sent, DMs with the app, and messages mentioning it.
        The message a reply quotes (``referenced_message``) is judged on its own."""
        referenced = data.get("referenced_message")
        original = None if not referenced else self.state.messages.get(int(referenced["id"]))
        if referenced and original is not None:
            self.hide_content(original, referenced)
        bot_id = self.state.bot.id
        if message.author.id == bot_id or any(user.id == bot_id for user in message.mentions):
            return
        channel = self.state.channels.get(message.channel_id)
        if channel is not None and any(user.id == bot_id for user in channel.recipients):
            return
        data.update(content="", embeds=[], attachments=[], components=[])

    def _message_intent(self, message: Message) -> int | None:
        """The intent a message event needs, or None when the bot gets no event for it: ephemeral
        messages, messages in a channel or thread the bot cannot see (VIEW_CHANNEL "includes reading
        messages in text channels", topics/permissions.mdx; "Clients will not be informed of a thread
        through the gateway if they do not have permission to view that thread", topics/threads.mdx),
        and DMs the bot is not in (a user-installed app answering in a DM between users)."""
        if message.ephemeral:
            return None
        channel = self.state.channels.get(message.channel_id)
        if message.guild_id is not None:
            if channel is None or not self.state.bot_permissions_in(channel) & Permission.VIEW_CHANNEL:
                return None
            return GUILD_MESSAGES
        if channel is None or not any(user.id == self.state.bot.id for user in channel.recipients):
            return None
        return DIRECT_MESSAGES

    def deliver_crosspost(self, message: Message) -> list[Message]:
        """Copy a published message into every channel following its channel, as Discord's Channel
        Follower webhooks do (resources/message.mdx, "Crosspost messages"): flag IS_CROSSPOST and a
        message_reference to the original. Components are dropped (followers cannot use the source's
        buttons) and nothing is mentioned (the source server's roles mean nothing there)."""
        copies = []
        for follower in self.state.followers.get(message.channel_id, []):
            target = self.state.channels.get(follower.channel_id)
            if target is None:
                continue
            crosspost = Message(
                id=self.state.snowflakes.next(),
                channel_id=target.id,
                guild_id=target.guild_id,
                author=follower.webhook,
                content=message.content,
                timestamp=self.state.clock.now(),
                embeds=copy.deepcopy(message.embeds),
                attachments=copy.deepcopy(message.attachments),
                flags=IS_CROSSPOST,
                webhook_id=follower.webhook.id,
                message_reference={
                    "type": 0,
                    "channel_id": str(message.channel_id),
                    "guild_id": str(message.guild_id),
                    "message_id": str(message.id),
                },
            )
            self.state.messages[crosspost.id] = crosspost
            self.state.channel_messages.setdefault(target.id, []).append(crosspost.id)
            target.last_message_id = crosspost.id
            if self.state.bot.id in self.state.guild_of(target).members:
                self.dispatch_message_create(crosspost)
            copies.append(crosspost)
        self.changes.notify()
        return copies

    def dispatch_message_create(self, message: Message) -> None:
        intent = self._message_intent(message)
        if intent is not None:
            data = self.gateway_message(message, created=True)
            self.gateway.dispatch("MESSAGE_CREATE", data, intent=intent)

    def dispatch_message_update(self, message: Message) -> None:
        intent = self._message_intent(message)
        if intent is not None:
            self.gateway.dispatch("MESSAGE_UPDATE", self.gateway_message(message), intent=intent)

    def dispatch_message_delete(self, message: Message) -> None:
        intent = self._message_intent(message)
        if intent is None:
            return
        data = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        self.gateway.dispatch("MESSAGE_DELETE", data, intent=intent)

    def now(self) -> float:
        """Monotonic seconds on the emulator's clock."""
        return self.state.clock.monotonic()


@dataclass(slots=True)
class Fault:
    """A planned failure: the next ``count`` requests matching ``method`` and ``pattern`` get it."""

    method: str
    pattern: str
    status: int | None
    retry_after: float = 0.0
    count: int = 1
    scope: Literal["user", "global", "shared"] = "user"
    delay: float = 0.0
    code: int = 0
    message: str | None = None
    # A 429 from Cloudflare rather than from Discord's API: HTML, no Via, no rate-limit headers.
    cloudflare: bool = False
    hits: list[str] = field(default_factory=list)
    # Handle the request, then drop the connection instead of answering (Discord acted; the bot
    # never learns), after awaiting `after_handling` (a test kills the bot there, say).
    lose_response: bool = False
    after_handling: Callable[[], Awaitable[None]] | None = None

    @property
    def exhausted(self) -> bool:
        return len(self.hits) >= self.count


@dataclass(eq=False)
class InteractionRecord:
    """One interaction sent to the bot, and everything the bot did with its token."""

    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user: User
    created_at: float
    # Where it came from (0 a server, 1 the bot's DM, 2 another DM or group DM) and the installations
    # it was authorized by: {"0": guild id or "0"} for the server install, {"1": user id} for the user's.
    context: int = 0
    owners: dict[str, str] = field(default_factory=dict)
    # Discord shows every response of this interaction only to the user (Use External Apps off).
    forced_ephemeral: bool = False
    command_name: str | None = None
    command_type: int | None = None
    source_message_id: int | None = None
    response_type: int | None = None
    responded_at: float | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    choices: list[JSON] | None = None
    modal: JSON | None = None
    errors: list[ApiErrorRecord] = field(default_factory=list)
    last_activity: float = 0.0

    def touch(self, now: float) -> None:
        """Note that the bot used this interaction at ``now`` (the clock's monotonic seconds)."""
        self.last_activity = now

    @property
    def user_install_only(self) -> bool:
        """Authorized by the user's installation alone: the app is not installed where it was used."""
        return "0" not in self.owners

    def metadata(self) -> JSON:
        """``interaction_metadata`` of the messages this interaction produced."""
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "user": self.user.payload(),
            "authorizing_integration_owners": dict(self.owners),
        }
        if self.command_name is not None:
            data["name"] = self.command_name
            data["command_type"] = self.command_type or 1
        if self.original_message_id is not None and self.response_type in (4, 5):
            data["original_response_message_id"] = str(self.original_message_id)
        if self.source_message_id is not None:
            data["interacted_message_id"] = str(self.source_message_id)
        return data
