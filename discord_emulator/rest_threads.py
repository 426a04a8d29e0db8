"""Emulated thread routes: starting threads and forum posts, joining, and listing active and archived
threads (resources/channel.mdx, topics/threads.mdx)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from discord_emulator.core import Core
from discord_emulator.errors import DiscordApiError, FormErrors
from discord_emulator.permissions import Permission
from discord_emulator.rest import RestApi, body_of, files_of, json_response, no_content, snowflake
from discord_emulator.rest_channels import bot_channel
from discord_emulator.state import HAS_THREAD, REQUIRE_TAG, Channel, ChannelType
from discord_emulator.threads import thread_is_archived
from discord_emulator.validation import validate_message_body

log = logging.getLogger(__name__)

JSON = dict[str, Any]
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
APPLIED_TAGS_LIMIT = 5
# discord.py never asks for fewer than 2 archived threads: "Currently the API doesn't let you request
# less than 2 threads" (channel.py, archived_threads). Discord documents no range; 50 is discord.py's
# default when none is given.
ARCHIVED_LIMITS = (2, 100)


def _form_error(path: str, code: str, message: str) -> DiscordApiError:
    return DiscordApiError.invalid_form_body({path: {"_errors": [{"code": code, "message": message}]}})


class ThreadRoutes:
    """Handlers for thread creation and listing; each checks the bot's permissions the way Discord does."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def register(self, api: RestApi) -> None:
        api.route("POST", "/channels/{channel_id}/messages/{message_id}/threads", self.thread_from_message)
        api.route("POST", "/channels/{channel_id}/threads", self.create_thread)
        api.route("PUT", "/channels/{channel_id}/thread-members/@me", self.join_thread)
        api.route("GET", "/channels/{channel_id}/threads/archived/public", self.archived_public_threads)
        api.route("GET", "/guilds/{guild_id}/threads/active", self.active_threads)

    # ---------------------------------------------------------------- creation
    def _thread_settings(self, parent: Channel, body: JSON) -> tuple[str, int]:
        errors = FormErrors()
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            errors.bad_length(("name",), 1, 100)
        duration = body.get("auto_archive_duration") or 4320
        if duration not in ARCHIVE_DURATIONS:
            errors.add(
                ("auto_archive_duration",),
                "BASE_TYPE_CHOICES",
                f"Value must be one of {set(ARCHIVE_DURATIONS)}.",
            )
        errors.raise_if_any()
        # A thread's name is checked by AutoMod like a message ("Title was blocked", 200001).
        state = self.core.state
        self.core.moderation.check_title(parent, state.bot_member(state.guild_of(parent)), str(name))
        return str(name), int(duration)

    def _new_thread(
        self, parent: Channel, thread_id: int, name: str, duration: int, kind: ChannelType, tags: list[int]
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
            applied_tags=tags,
            created_at=state.clock.now(),
        )
        state.guild_of(parent).channels[thread.id] = thread
        state.channels[thread.id] = thread
        return thread

    def _dispatch_created(self, thread: Channel) -> None:
        payload = {**thread.payload(self.core.state.bot.id), "newly_created": True}
        self.core.gateway.dispatch("THREAD_CREATE", payload)

    async def thread_from_message(self, request: web.Request) -> web.Response:
        parent = bot_channel(self.core, request)
        if parent.type not in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT):
            raise DiscordApiError.wrong_channel_type()
        message = self.core.state.message(parent.id, snowflake(request, "message_id"))
        self.core.state.require(parent, Permission.CREATE_PUBLIC_THREADS, Permission.READ_MESSAGE_HISTORY)
        if message.thread_id is not None:
            raise DiscordApiError.thread_already_created()
        name, duration = self._thread_settings(parent, body_of(request))
        kind = (
            ChannelType.ANNOUNCEMENT_THREAD
            if parent.type is ChannelType.ANNOUNCEMENT
            else ChannelType.PUBLIC_THREAD
        )
        # A thread started from a message shares the message's id.
        thread = self._new_thread(parent, message.id, name, duration, kind, [])
        self._dispatch_created(thread)
        log.info("emulator: thread %r opened in #%s", name, parent.name)
        message.thread_id = thread.id
        message.flags |= HAS_THREAD
        self.core.dispatch_message_update(message)
        return json_response(thread.payload(self.core.state.bot.id), status=201)

    async def create_thread(self, request: web.Request) -> web.Response:
        parent = bot_channel(self.core, request)
        body = body_of(request)
        if parent.type is ChannelType.FORUM:
            return await self._create_forum_post(request, parent, body)
        if parent.type not in (ChannelType.TEXT, ChannelType.ANNOUNCEMENT):
            raise DiscordApiError.wrong_channel_type()
        kind = ChannelType(body.get("type") or ChannelType.PRIVATE_THREAD)
        if parent.type is ChannelType.ANNOUNCEMENT:
            kind = ChannelType.ANNOUNCEMENT_THREAD
        elif kind not in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD):
            raise _form_error("type", "BASE_TYPE_CHOICES", "Value must be one of {11, 12}.")
        needed = (
            Permission.CREATE_PRIVATE_THREADS
            if kind is ChannelType.PRIVATE_THREAD
            else Permission.CREATE_PUBLIC_THREADS
        )
        self.core.state.require(parent, needed)
        name, duration = self._thread_settings(parent, body)
        thread = self._new_thread(parent, self.core.state.snowflakes.next(), name, duration, kind, [])
        self._dispatch_created(thread)
        log.info("emulator: thread %r opened in #%s", name, parent.name)
        return json_response(thread.payload(self.core.state.bot.id), status=201)

    def _applied_tags(self, forum: Channel, body: JSON) -> list[int]:
        """The forum tag rules: known tags, at most 5 ("limited to 5", Modify Channel), a tag when the
        forum has REQUIRE_TAG (40067), and moderated tags only with MANAGE_THREADS."""
        tags_by_id = {int(tag["id"]): tag for tag in forum.available_tags}
        tags = [int(tag) for tag in body.get("applied_tags") or []]
        if any(tag not in tags_by_id for tag in tags):
            raise _form_error("applied_tags", "INVALID_TAG", "Unknown forum tag")
        if len(tags) > APPLIED_TAGS_LIMIT:
            raise _form_error(
                "applied_tags", "BASE_TYPE_MAX_LENGTH", f"Must be {APPLIED_TAGS_LIMIT} or fewer in length."
            )
        if not tags and forum.flags & REQUIRE_TAG:
            raise DiscordApiError(400, 40067, "A tag is required to create a forum post in this channel")
        moderated = any(tags_by_id[tag].get("moderated") for tag in tags)
        if moderated and not self.core.state.bot_permissions_in(forum) & Permission.MANAGE_THREADS:
            # "whether this tag can only be added to or removed from threads by a member with the
            # MANAGE_THREADS permission" (resources/channel.mdx, Forum Tag object).
            raise DiscordApiError.missing_permissions()
        return tags

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
            raise _form_error("message", "BASE_TYPE_REQUIRED", "This field is required")
        validate_message_body(starter, ("message",), creating=True, has_files=bool(files))
        tags = self._applied_tags(forum, body)
        name, duration = self._thread_settings(forum, body)
        thread_id = state.snowflakes.next()
        # Check the starter message before the thread exists: a blocked post creates nothing.
        self.core.moderation.check_message(forum, state.bot_member(state.guild_of(forum)), starter)
        thread = self._new_thread(forum, thread_id, name, duration, ChannelType.PUBLIC_THREAD, tags)
        message = self.core.create_message(
            thread, state.bot, starter, files, message_id=thread_id, validate=False
        )
        forum.last_message_id = thread.id
        self._dispatch_created(thread)
        self.core.dispatch_message_create(message)
        log.info("emulator: forum post %r opened in #%s", name, forum.name)
        payload = {**thread.payload(state.bot.id), "message": state.message_payload(message)}
        return json_response(payload, status=201)

    async def join_thread(self, request: web.Request) -> web.Response:
        thread = bot_channel(self.core, request)
        if not thread.is_thread:
            raise DiscordApiError.wrong_channel_type()
        self.core.state.require(thread)
        if thread.archived:
            # Join Thread: "Also requires the thread is not archived" (resources/channel.mdx).
            raise thread_is_archived()
        thread.member_ids.add(self.core.state.bot.id)
        return no_content()

    # ----------------------------------------------------------------- listing
    def _listing(self, threads: list[Channel]) -> JSON:
        bot_id = self.core.state.bot.id
        return {
            "threads": [thread.payload() for thread in threads],
            # "a thread member object for each returned thread the current user has joined"
            "members": [thread.member_payload(bot_id) for thread in threads if bot_id in thread.member_ids],
        }

    async def archived_public_threads(self, request: web.Request) -> web.Response:
        """List Public Archived Threads: newest ``archive_timestamp`` first, ``before`` an ISO8601
        timestamp; text channels list public threads, announcement channels announcement threads,
        forums their posts. Requires READ_MESSAGE_HISTORY."""
        parent = bot_channel(self.core, request)
        kinds = {
            ChannelType.TEXT: ChannelType.PUBLIC_THREAD,
            ChannelType.ANNOUNCEMENT: ChannelType.ANNOUNCEMENT_THREAD,
            ChannelType.FORUM: ChannelType.PUBLIC_THREAD,
        }
        kind = kinds.get(parent.type)
        if kind is None:
            raise DiscordApiError.wrong_channel_type()
        self.core.state.require(parent, Permission.READ_MESSAGE_HISTORY)
        before = _before(request.query.get("before"))
        limit = _limit(request.query.get("limit"))
        found = [
            thread
            for thread in self.core.state.channels.values()
            if thread.parent_id == parent.id
            and thread.type is kind
            and thread.archived
            and (before is None or _archived_at(thread) < before)
        ]
        found.sort(key=lambda thread: (_archived_at(thread), thread.id), reverse=True)
        return json_response({**self._listing(found[:limit]), "has_more": len(found) > limit})

    async def active_threads(self, request: web.Request) -> web.Response:
        """List Active Guild Threads: every unarchived thread the bot can see, with its memberships."""
        state = self.core.state
        guild = state.guilds.get(snowflake(request, "guild_id"))
        if guild is None or state.bot.id not in guild.members:
            raise DiscordApiError.unknown_guild()
        active = [
            thread
            for thread in guild.channels.values()
            if thread.is_thread
            and not thread.archived
            and state.bot_permissions_in(thread) & Permission.VIEW_CHANNEL
        ]
        return json_response(self._listing(active))


def _archived_at(thread: Channel) -> datetime:
    return thread.archive_timestamp or thread.created_at


def _before(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    # A "+" in a query string decodes to a space; discord.py sends isoformat() with "+00:00".
    text = raw.replace(" ", "+")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _form_error(
            "before", "DATE_TIME_TYPE_PARSE", f"Could not parse {raw}. Should be ISO8601."
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _limit(raw: str | None) -> int:
    if raw is None:
        return 50
    low, high = ARCHIVED_LIMITS
    if not raw.lstrip("-").isdigit():
        raise _form_error("limit", "NUMBER_TYPE_COERCE", f'Value "{raw}" is not int.')
    limit = int(raw)
    if limit < low:
        raise _form_error("limit", "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {low}.")
    if limit > high:
        raise _form_error("limit", "NUMBER_TYPE_MAX", f"int value should be less than or equal to {high}.")
    return limit
