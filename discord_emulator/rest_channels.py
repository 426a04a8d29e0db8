"""Emulated channel routes: messages, history, reactions, crossposts, typing and threads."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from discord_emulator.core import Core
from discord_emulator.errors import DiscordApiError, FormErrors
from discord_emulator.gateway import GUILDS
from discord_emulator.permissions import Permission
from discord_emulator.rest import RestApi, body_of, files_of, json_response, no_content, snowflake
from discord_emulator.state import (
    CROSSPOSTED,
    HAS_THREAD,
    MESSAGEABLE_TYPES,
    Channel,
    ChannelType,
    Message,
)
from discord_emulator.validation import validate_message_body

log = logging.getLogger(__name__)

JSON = dict[str, Any]
GUILD_MESSAGE_REACTIONS = 1 << 10
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)


class ChannelRoutes:
    """Handlers for ``/channels/...``; each checks the bot's permissions the way Discord does."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def register(self, api: RestApi) -> None:
        api.route("GET", "/channels/{channel_id}", self.get_channel)
        api.route("GET", "/channels/{channel_id}/messages", self.get_messages)
        api.route("POST", "/channels/{channel_id}/messages", self.create_message)
        api.route("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message)
        api.route("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message)
        api.route("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message)
        api.route("POST", "/channels/{channel_id}/messages/{message_id}/crosspost", self.crosspost)
        api.route(
            "PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.add_reaction
        )
        api.route("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.thread_from_message)
        api.route("POST", "/channels/{channel_id}/threads", self.create_thread)
        api.route("PUT", "/channels/{channel_id}/thread-members/@me", self.join_thread)
        api.route("POST", "/channels/{channel_id}/typing", self.typing)

    # ---------------------------------------------------------------- helpers
    def _channel(self, request: web.Request) -> Channel:
        channel = self.core.state.channel(snowflake(request, "channel_id"))
        guild = self.core.state.guilds.get(channel.guild_id)
        if guild is None or self.core.state.bot.id not in guild.members:
            raise DiscordApiError.missing_access()
        return channel

    def _message(self, request: web.Request, channel: Channel) -> Message:
        return self.core.state.message(channel.id, snowflake(request, "message_id"))

    def _payload(self, message: Message) -> JSON:
        return self.core.state.message_payload(message)

    # --------------------------------------------------------------- channels
    async def get_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self.core.state.require(channel)
        return json_response(channel.payload(self.core.state.bot.id))

    async def typing(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self.core.state.require(channel, self._send_permission(channel))
        return no_content()

    # --------------------------------------------------------------- messages
    def _send_permission(self, channel: Channel) -> Permission:
        return Permission.SEND_MESSAGES_IN_THREADS if channel.is_thread else Permission.SEND_MESSAGES

    async def get_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self.core.state.require(channel)
        if not self.core.state.bot_permissions_in(channel) & Permission.READ_MESSAGE_HISTORY:
            return json_response([])
        history = self.core.state.channel_history(channel.id)
        query = request.query
        limit = min(max(int(query.get("limit", "50")), 1), 100)
        if "before" in query:
            history = [m for m in history if m.id < int(query["before"])]
        if "after" in query:
            history = [m for m in history if m.id > int(query["after"])]
            history = history[:limit]
        if "around" in query:
            around = int(query["around"])
            older = [m for m in history if m.id <= around][-(limit // 2 + 1) :]
            newer = [m for m in history if m.id > around][: limit - len(older)]
            history = older + newer
        newest_first = sorted(history, key=lambda m: m.id, reverse=True)[:limit]
        return json_response([self._payload(message) for message in newest_first])

    async def get_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self.core.state.require(channel, Permission.READ_MESSAGE_HISTORY)
        return json_response(self._payload(self._message(request, channel)))

    async def create_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        state = self.core.state
        body = body_of(request)
        files = files_of(request)
        if channel.type not in MESSAGEABLE_TYPES:
            raise DiscordApiError(400, 50008, "Cannot send messages in a non-text channel")
        needed = [self._send_permission(channel)]
        if body.get("embeds"):
            needed.append(Permission.EMBED_LINKS)
        if files:
            needed.append(Permission.ATTACH_FILES)
        state.require(channel, *needed)
        if channel.is_thread and channel.locked:
            raise DiscordApiError.missing_permissions()
        validate_message_body(body, creating=True, has_files=bool(files))
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self.core.recent_nonce(state.bot, str(nonce))
            if earlier is not None and earlier.deleted:
                # discord.py documents this for send(): NotFound when "You sent a message with the
                # same nonce as one that has been explicitly deleted shortly earlier."
                raise DiscordApiError.unknown_message()
            if earlier is not None:
                return json_response(state.message_payload(earlier, with_nonce=True))
        message = self.core.create_message(channel, state.bot, body, files, validate=False)
        self.core.remember_nonce(message)
        if channel.is_thread and channel.archived:
            channel.archived = False
            self.core.gateway.dispatch("THREAD_UPDATE", channel.payload(state.bot.id), intent=GUILDS)
        self.core.dispatch_message_create(message)
        log.info("emulator: #%s <- %s: %r", channel.name, state.bot.username, message.content[:80])
        return json_response(state.message_payload(message, with_nonce=True))

    async def edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self.core.state.require(channel)
        message = self._message(request, channel)
        if message.author.id != self.core.state.bot.id or message.webhook_id is not None:
            raise DiscordApiError.cannot_edit_others_message()
        self.core.edit_message(message, body_of(request), files_of(request))
        self.core.dispatch_message_update(message)
        return json_response(self._payload(message))

    async def delete_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(request, channel)
        if message.author.id == self.core.state.bot.id:
            self.core.state.require(channel)
        else:
            self.core.state.require(channel, Permission.MANAGE_MESSAGES)
        message.deleted = True
        self.core.dispatch_message_delete(message)
        return no_content()

    async def crosspost(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(request, channel)
        if channel.type is not ChannelType.ANNOUNCEMENT:
            raise DiscordApiError.wrong_channel_type()
        own = message.author.id == self.core.state.bot.id
        self.core.state.require(channel, Permission.SEND_MESSAGES if own else Permission.MANAGE_MESSAGES)
        if message.flags & CROSSPOSTED:
            raise DiscordApiError.already_crossposted()
        message.flags |= CROSSPOSTED
        self.core.dispatch_message_update(message)
        return json_response(self._payload(message))

    async def add_reaction(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(request, channel)
        self.core.state.require(channel, Permission.READ_MESSAGE_HISTORY, Permission.ADD_REACTIONS)
        raw = unquote(request.match_info["emoji"])
        name, _, emoji_id = raw.partition(":")
        if not name:
            raise DiscordApiError.unknown_emoji()
        emoji = {"id": emoji_id or None, "name": name}
        for reaction in message.reactions:
            if reaction["emoji"] == emoji:
                if not reaction["me"]:
                    reaction["count"] += 1
                    reaction["me"] = True
                break
        else:
            message.reactions.append(
                {
                    "count": 1,
                    "count_details": {"burst": 0, "normal": 1},
                    "me": True,
                    "me_burst": False,
                    "burst_colors": [],
                    "emoji": emoji,
                }
            )
        data = {
            "user_id": str(self.core.state.bot.id),
            "channel_id": str(channel.id),
            "message_id": str(message.id),
            "guild_id": str(channel.guild_id),
            "emoji": emoji,
            "burst": False,
            "type": 0,
        }
        self.core.gateway.dispatch("MESSAGE_REACTION_ADD", data, intent=GUILD_MESSAGE_REACTIONS)
        return no_content()

    # ---------------------------------------------------------------- threads
    def _thread_settings(self, body: JSON, prefix: tuple[str, ...] = ()) -> tuple[str, int]:
        errors = FormErrors()
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            errors.bad_length((*prefix, "name"), 1, 100)
        duration = body.get("auto_archive_duration") or 4320
        if duration not in ARCHIVE_DURATIONS:
            errors.add(
                (*prefix, "auto_archive_duration"),
                "BASE_TYPE_CHOICES",
                f"Value must be one of {set(ARCHIVE_DURATIONS)}.",
            )
        errors.raise_if_any()
        return str(name), int(duration)

    def _open_thread(
        self, parent: Channel, thread_id: int, name: str, duration: int, kind: ChannelType
    ) -> Channel:
        state = self.core.state
        thread = Channel(
            id=thread_id,
            guild_id=parent.guild_id,
            type=kind,
            name=name,
            parent_id=parent.id,
            owner_id=state.bot.id,
            auto_archive_duration=duration,
            member_ids={state.bot.id},
            created_at=state.clock.now(),
        )
        state.guild_of(parent).channels[thread.id] = thread
        state.channels[thread.id] = thread
        self.core.gateway.dispatch("THREAD_CREATE", {**thread.payload(state.bot.id), "newly_created": True})
        log.info("emulator: thread %r opened in #%s", name, parent.name)
        return thread

    async def thread_from_message(self, request: web.Request) -> web.Response:
        parent = self._channel(request)
        if parent.type not in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT):
            raise DiscordApiError.wrong_channel_type()
        message = self._message(request, parent)
        self.core.state.require(parent, Permission.CREATE_PUBLIC_THREADS, Permission.READ_MESSAGE_HISTORY)
        if message.thread_id is not None:
            raise DiscordApiError.thread_already_created()
        name, duration = self._thread_settings(body_of(request))
        kind = (
            ChannelType.ANNOUNCEMENT_THREAD
            if parent.type is ChannelType.ANNOUNCEMENT
            else ChannelType.PUBLIC_THREAD
        )
        # A thread started from a message shares the message's id.
        thread = self._open_thread(parent, message.id, name, duration, kind)
        message.thread_id = thread.id
        message.flags |= HAS_THREAD
        self.core.dispatch_message_update(message)
        return json_response(thread.payload(self.core.state.bot.id), status=201)

    async def create_thread(self, request: web.Request) -> web.Response:
        parent = self._channel(request)
        body = body_of(request)
        if parent.type is ChannelType.FORUM:
            return await self._create_forum_post(request, parent, body)
        if parent.type not in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT):
            raise DiscordApiError.wrong_channel_type()
        kind = ChannelType(body.get("type") or ChannelType.PRIVATE_THREAD)
        if parent.type is ChannelType.ANNOUNCEMENT:
            kind = ChannelType.ANNOUNCEMENT_THREAD
        elif kind not in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD):
            raise DiscordApiError.invalid_form_body(
                {
                    "type": {
                        "_errors": [
                            {"code": "BASE_TYPE_CHOICES", "message": "Value must be one of {11, 12}."}
                        ]
                    }
                }
            )
        needed = (
            Permission.CREATE_PRIVATE_THREADS
            if kind is ChannelType.PRIVATE_THREAD
            else Permission.CREATE_PUBLIC_THREADS
        )
        self.core.state.require(parent, needed)
        name, duration = self._thread_settings(body)
        thread = self._open_thread(parent, self.core.state.snowflakes.next(), name, duration, kind)
        return json_response(thread.payload(self.core.state.bot.id), status=201)

    async def _create_forum_post(self, request: web.Request, forum: Channel, body: JSON) -> web.Response:
        """A forum post: a public thread whose starter message has the thread's id."""
        state = self.core.state
        files = files_of(request)
        starter = body.get("message")
        needed = [Permission.SEND_MESSAGES]
        if isinstance(starter, dict) and starter.get("embeds"):
            needed.append(Permission.EMBED_LINKS)
        state.require(forum, *needed)
        if not isinstance(starter, dict):
            raise DiscordApiError.invalid_form_body(
                {
                    "message": {
                        "_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]
                    }
                }
            )
        validate_message_body(starter, ("message",), creating=True, has_files=bool(files))
        name, duration = self._thread_settings(body)
        known_tags = {int(tag["id"]) for tag in forum.available_tags}
        tags = [int(tag) for tag in body.get("applied_tags") or []]
        if any(tag not in known_tags for tag in tags):
            raise DiscordApiError.invalid_form_body(
                {"applied_tags": {"_errors": [{"code": "INVALID_TAG", "message": "Unknown forum tag"}]}}
            )
        thread_id = state.snowflakes.next()
        thread = Channel(
            id=thread_id,
            guild_id=forum.guild_id,
            type=ChannelType.PUBLIC_THREAD,
            name=name,
            parent_id=forum.id,
            owner_id=state.bot.id,
            auto_archive_duration=duration,
            member_ids={state.bot.id},
            applied_tags=tags,
            created_at=state.clock.now(),
        )
        state.guild_of(forum).channels[thread.id] = thread
        state.channels[thread.id] = thread
        message = self.core.create_message(
            thread, state.bot, starter, files, message_id=thread_id, validate=False
        )
        forum.last_message_id = thread.id
        self.core.gateway.dispatch("THREAD_CREATE", {**thread.payload(state.bot.id), "newly_created": True})
        self.core.dispatch_message_create(message)
        log.info("emulator: forum post %r opened in #%s", name, forum.name)
        return json_response({**thread.payload(state.bot.id), "message": self._payload(message)}, status=201)

    async def join_thread(self, request: web.Request) -> web.Response:
        thread = self._channel(request)
        if not thread.is_thread:
            raise DiscordApiError.wrong_channel_type()
        self.core.state.require(thread)
        thread.member_ids.add(self.core.state.bot.id)
        return no_content()
