"""Emulated channel routes: messages, history, reactions, crossposts and typing."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from discord_emulator.core import Core
from discord_emulator.errors import DiscordApiError
from discord_emulator.permissions import Permission
from discord_emulator.rest import RestApi, body_of, files_of, json_response, no_content, snowflake
from discord_emulator.state import CROSSPOSTED, MESSAGEABLE_TYPES, Channel, ChannelType, Message
from discord_emulator.threads import thread_is_archived
from discord_emulator.validation import validate_message_body

log = logging.getLogger(__name__)

JSON = dict[str, Any]
GUILD_MESSAGE_REACTIONS = 1 << 10


def bot_channel(core: Core, request: web.Request) -> Channel:
    """The channel of the path, in a guild the bot is in (else 404 Unknown Channel / 403 Missing Access).

    A DM or group DM of other people is Missing Access too: a user-installed app answers there only
    through its interactions. The bot's own DM is not modelled beyond interactions: a route to it is
    recorded as unsupported (and answered 404)."""
    channel = core.state.channel(snowflake(request, "channel_id"))
    if channel.is_private:
        if any(user.id == core.state.bot.id for user in channel.recipients):
            core.unsupported.append(f"{request.method} {request.path} (the bot's DM channel)")
            raise DiscordApiError.not_found()
        raise DiscordApiError.missing_access()
    guild = core.state.guilds.get(channel.guild_id or 0)
    if guild is None or core.state.bot.id not in guild.members:
        raise DiscordApiError.missing_access()
    return channel


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
        api.route("POST", "/channels/{channel_id}/typing", self.typing)

    # ---------------------------------------------------------------- helpers
    def _channel(self, request: web.Request) -> Channel:
        return bot_channel(self.core, request)

    def _message(self, request: web.Request, channel: Channel) -> Message:
        return self.core.state.message(channel.id, snowflake(request, "message_id"))

    def _payload(self, message: Message) -> JSON:
        return self.core.rest_message(message)

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
        if channel.type is ChannelType.FORUM:
            # "Messages cannot be sent directly in forum channels" (topics/threads.mdx).
            raise DiscordApiError(400, 40058, "Cannot send a message in a forum channel")
        if channel.type not in MESSAGEABLE_TYPES:
            raise DiscordApiError(400, 50008, "Cannot send messages in a non-text channel")
        needed = [self._send_permission(channel)]
        if body.get("embeds"):
            needed.append(Permission.EMBED_LINKS)
        if files:
            needed.append(Permission.ATTACH_FILES)
        state.require(channel, *needed)
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
        if channel.is_thread:
            self.core.threads.before_send(channel, state.bot_permissions_in(channel))
        message = self.core.create_message(channel, state.bot, body, files, validate=False)
        self.core.remember_nonce(message)
        self.core.dispatch_message_create(message)
        log.info("emulator: #%s <- %s: %r", channel.name, state.bot.username, message.content[:80])
        return json_response(state.message_payload(message, with_nonce=True))

    async def edit_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        self.core.state.require(channel)
        message = self._message(request, channel)
        if message.author.id != self.core.state.bot.id or message.webhook_id is not None:
            raise DiscordApiError.cannot_edit_others_message()
        if channel.is_thread:
            self.core.threads.before_edit(channel, self.core.state.bot_permissions_in(channel))
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
        if channel.is_thread:
            self.core.threads.before_delete(channel, self.core.state.bot_permissions_in(channel))
        message.deleted = True
        self.core.dispatch_message_delete(message)
        return no_content()

    async def crosspost(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(request, channel)
        if channel.type is not ChannelType.ANNOUNCEMENT:
            raise DiscordApiError.wrong_channel_type()
        # "SEND_MESSAGES ... if the current user sent the message, or additionally the MANAGE_MESSAGES
        # permission, for all other messages" (resources/message.mdx, "Crosspost Message").
        needed = [Permission.SEND_MESSAGES]
        if message.author.id != self.core.state.bot.id:
            needed.append(Permission.MANAGE_MESSAGES)
        self.core.state.require(channel, *needed)
        if message.flags & CROSSPOSTED:
            raise DiscordApiError.already_crossposted()
        message.flags |= CROSSPOSTED
        self.core.dispatch_message_update(message)
        self.core.deliver_crosspost(message)
        return json_response(self._payload(message))

    async def add_reaction(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        message = self._message(request, channel)
        self.core.state.require(channel, Permission.READ_MESSAGE_HISTORY, Permission.ADD_REACTIONS)
        if channel.is_thread and channel.archived:
            # "Users cannot edit messages, add reactions ... in archived threads" (topics/threads.mdx).
            raise thread_is_archived()
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
