"""The emulated REST API: routing, auth, recording, rate-limit headers, faults, and the simple routes."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from discord_emulator.core import Core, Fault, RecordedRequest, UploadedFile
from discord_emulator.errors import ApiErrorRecord, DiscordApiError
from discord_emulator.gateway import GUILD_MEMBERS
from discord_emulator.permissions import Permission
from discord_emulator.ratelimits import (
    COMPLETE_HEADERS,
    TOP_LEVEL_RESOURCES,
    BucketHit,
    GlobalLimit,
    InvalidRequests,
    RouteBuckets,
    RouteLimit,
    cloudflare_ban_response,
    rate_limited_response,
    server_error_response,
)

log = logging.getLogger(__name__)

JSON = dict[str, Any]
API_PREFIX = "/api/v10"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BODY_KEY = web.RequestKey("discord_body", object)
FILES_KEY = web.RequestKey("discord_files", list)

# Routes Discord serves without the bot token: interaction callbacks and webhook-token routes. They
# are also the interaction endpoints that "are not bound to the application's Global Rate Limit"
# (interactions/receiving-and-responding.mdx).
_UNAUTHENTICATED_PREFIXES = (
    f"{API_PREFIX}/interactions/",
    f"{API_PREFIX}/webhooks/{{webhook_id}}/{{webhook_token}}",
)


def json_response(data: Any, status: int = 200) -> web.Response:
    """JSON with a Content-Type of exactly ``application/json``: discord.py compares it verbatim."""
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


def no_content() -> web.Response:
    return web.Response(status=204)


def snowflake(request: web.Request, key: str) -> int:
    """A snowflake path parameter; Discord answers 404 for one that is not a number."""
    raw = request.match_info[key]
    if not raw.isdigit():
        raise DiscordApiError.not_found()
    return int(raw)


def body_of(request: web.Request) -> JSON:
    body = request.get(BODY_KEY)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise DiscordApiError(400, 50109, "The request body contains invalid JSON.")
    return body


def files_of(request: web.Request) -> list[UploadedFile]:
    files: list[UploadedFile] = request.get(FILES_KEY, [])
    return files


class RestApi:
    """Owns the aiohttp application; route modules register their handlers on it."""

    def __init__(
        self, core: Core, on_interaction_error: Callable[[web.Request, ApiErrorRecord], None]
    ) -> None:
        self.core = core
        self.faults: list[Fault] = []
        config = core.config
        clock = core.state.clock
        self.buckets = RouteBuckets(
            clock, RouteLimit(config.rate_limit, config.rate_limit_window), config.route_rate_limits
        )
        self.global_limit = GlobalLimit(clock, config.global_rate_limit)
        self.invalid: InvalidRequests[RecordedRequest] = InvalidRequests(
            clock,
            limit=config.invalid_request_limit,
            window=config.invalid_request_window,
            ban_duration=config.ban_duration,
        )
        self._on_interaction_error = on_interaction_error
        self.app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self._register_basic_routes()

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.app.router.add_route(method, API_PREFIX + path, handler)

    # ------------------------------------------------------------ middleware
    async def _read_body(self, request: web.Request, record: RecordedRequest) -> None:
        content_type = request.content_type
        if content_type == "multipart/form-data":
            body: Any = None
            files: list[UploadedFile] = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                name = part.name or ""
                if name == "payload_json":
                    body = json.loads(await part.text())
                elif part.filename is not None:
                    data = bytes(await part.read(decode=False))
                    files.append(
                        UploadedFile(name, part.filename, part.headers.get("Content-Type", ""), data)
                    )
            request[BODY_KEY], request[FILES_KEY] = body, files
            record.json, record.files = body, files
        elif request.can_read_body:
            raw = await request.read()
            if raw:
                try:
                    request[BODY_KEY] = record.json = json.loads(raw)
                except ValueError:
                    raise DiscordApiError(400, 50109, "The request body contains invalid JSON.") from None

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.exhausted or fault.method not in ("*", method):
                continue
            if fnmatch.fnmatchcase(path, fault.pattern):
                fault.hits.append(f"{method} {path}")
                return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        core = self.core
        core.run_due()
        path = request.path[len(API_PREFIX) :]
        record = RecordedRequest(request.method, path, dict(request.query), None, [], core.now())
        core.requests.append(record)
        if self.invalid.banned:
            # Cloudflare answers before the request reaches Discord's API.
            response: web.StreamResponse = cloudflare_ban_response()
            record.status = response.status
            core.changes.notify()
            return response
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else path
        major = "+".join(request.match_info[key] for key in TOP_LEVEL_RESOURCES if key in request.match_info)
        route = template[len(API_PREFIX) :] if template.startswith(API_PREFIX) else template
        bucket = self.buckets.hit(f"{request.method} {route}", major)
        try:
            response = await self._answer(request, handler, record, template, bucket)
        except DiscordApiError as error:
            response = json_response(error.body(), status=error.status)
            error_record = ApiErrorRecord(
                request.method, path, error.status, error.code, error.message, error.errors
            )
            core.errors.append(error_record)
            self._on_interaction_error(request, error_record)
            log.info(
                "emulator: %s %s -> %s %s %s", request.method, path, error.status, error.code, error.message
            )
        except Exception as exc:  # A bug in the emulator must fail the test, not look like Discord.
            log.exception("emulator: internal error answering %s %s", request.method, path)
            core.internal_errors.append(exc)
            response = json_response({"message": f"Emulator internal error: {exc!r}", "code": 0}, status=400)
        if not response.get(COMPLETE_HEADERS, False):
            # Every answer from the API carries the bucket's headers and Google's Via (which discord.py
            # checks on a 429 to tell a rate limit from a Cloudflare ban).
            for name, value in {**bucket.headers, "Via": "1.1 google"}.items():
                response.headers.setdefault(name, value)
        if InvalidRequests.counts(response):
            self.invalid.count(record)
        record.status = response.status
        if (
            isinstance(response, web.Response)
            and response.body is not None
            and response.content_type == "application/json"
        ):
            record.response = json.loads(bytes(response.body))  # type: ignore[arg-type]
        core.changes.notify()
        return response

    async def _answer(
        self,
        request: web.Request,
        handler: Handler,
        record: RecordedRequest,
        template: str,
        bucket: BucketHit,
    ) -> web.StreamResponse:
        http_exception = request.match_info.http_exception
        if http_exception is not None:
            self.core.unsupported.append(f"{request.method} {record.path}")
            log.warning("emulator: unsupported request %s %s", request.method, record.path)
            if http_exception.status == 405:
                raise DiscordApiError.method_not_allowed()
            raise DiscordApiError.not_found()
        await self._read_body(request, record)
        public = template.startswith(_UNAUTHENTICATED_PREFIXES) or template == f"{API_PREFIX}/gateway"
        if not public:
            if request.headers.get("Authorization") != f"Bot {self.core.state.token}":
                raise DiscordApiError.unauthorized()
            retry_after = self.global_limit.hit()
            if retry_after is not None:
                return rate_limited_response(retry_after, "global", {})
        fault = self._take_fault(request.method, record.path)
        if fault is not None and fault.lose_response:
            response = await handler(request)
            if fault.after_handling is not None:
                await fault.after_handling()
            if request.transport is not None:
                request.transport.abort()
            return response
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 429 and fault.cloudflare:
                return cloudflare_ban_response()
            if fault.status == 429:
                return rate_limited_response(fault.retry_after, fault.scope, bucket.headers)
            if fault.status is not None:
                return server_error_response(fault.status, fault.code, fault.message)
        if bucket.retry_after is not None:
            return rate_limited_response(bucket.retry_after, "user", bucket.headers)
        self._check_outage(request)
        return await handler(request)

    def _check_outage(self, request: web.Request) -> None:
        """While a guild is in an outage, its channels and the guild itself answer the outage status."""
        outages = self.core.outages
        if not outages:
            return
        info = request.match_info
        guild_id: int | None = None
        if "guild_id" in info and info["guild_id"].isdigit():
            guild_id = int(info["guild_id"])
        elif "channel_id" in info and info["channel_id"].isdigit():
            channel = self.core.state.channels.get(int(info["channel_id"]))
            guild_id = None if channel is None else channel.guild_id
        status = outages.get(guild_id or 0)
        if status is None:
            return
        if status == 404 and "channel_id" in info:
            raise DiscordApiError.unknown_channel()
        if status == 404:
            raise DiscordApiError.unknown_guild()
        # Discord's 503 body, which discord.py raises as DiscordServerError without retrying.
        raise DiscordApiError(status, 0, f"{status}: Service Unavailable")

    # ---------------------------------------------------------- basic routes
    def _register_basic_routes(self) -> None:
        self.route("GET", "/gateway", self.get_gateway)
        self.route("GET", "/gateway/bot", self.get_gateway_bot)
        self.route("GET", "/users/@me", self.get_current_user)
        self.route("GET", "/users/{user_id}", self.get_user)
        self.route("GET", "/oauth2/applications/@me", self.get_application)
        self.route("GET", "/applications/@me", self.get_application)
        for prefix in ("/applications/{application_id}", "/applications/{application_id}/guilds/{guild_id}"):
            self.route("GET", f"{prefix}/commands", self.list_commands)
            self.route("PUT", f"{prefix}/commands", self.bulk_overwrite_commands)
            self.route("POST", f"{prefix}/commands", self.create_command)
            self.route("GET", f"{prefix}/commands/{{command_id}}", self.get_command)
            self.route("PATCH", f"{prefix}/commands/{{command_id}}", self.edit_command)
            self.route("DELETE", f"{prefix}/commands/{{command_id}}", self.delete_command)
        self.route("GET", "/guilds/{guild_id}", self.get_guild)
        self.route("GET", "/guilds/{guild_id}/channels", self.get_guild_channels)
        self.route("GET", "/guilds/{guild_id}/roles", self.get_roles)
        self.route("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)
        self.route("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.add_member_role)
        self.route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self.remove_member_role)
        self.app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self.get_attachment)

    def gateway_url(self) -> str:
        return self.core.origin.replace("http://", "ws://", 1) + "/"

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway_url()})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = self.core.gateway.session_start_limit()
        return json_response({"url": self.gateway_url(), "shards": 1, "session_start_limit": limit})

    async def get_current_user(self, request: web.Request) -> web.Response:
        bot = self.core.state.bot
        extra = {"verified": True, "mfa_enabled": False, "locale": "en-US", "email": None, "bio": ""}
        return json_response({**bot.payload(), **extra})

    async def get_user(self, request: web.Request) -> web.Response:
        user = self.core.state.users.get(snowflake(request, "user_id"))
        if user is None:
            raise DiscordApiError.unknown_user()
        return json_response(user.payload())

    async def get_application(self, request: web.Request) -> web.Response:
        state = self.core.state
        return json_response(
            {
                "id": str(state.application_id),
                "name": state.application_name,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": self.core.gateway.application_flags(),
                "owner": state.owner_user.payload(),
                "team": None,
                "bot": state.bot.payload(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(state.guilds),
                # The installation contexts of its Installation settings (resources/application.mdx).
                "integration_types_config": {str(kind): {} for kind in self.core.commands.install_types},
            }
        )

    def _command_scope(self, request: web.Request) -> int | None:
        if snowflake(request, "application_id") != self.core.state.application_id:
            # Discord answers 403 "Missing Access" for another application's commands.
            raise DiscordApiError.missing_access()
        if "guild_id" not in request.match_info:
            return None
        guild_id = snowflake(request, "guild_id")
        if guild_id not in self.core.state.guilds:
            raise DiscordApiError.missing_access()
        return guild_id

    async def list_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        return json_response(list(self.core.commands.table(scope).values()))

    async def bulk_overwrite_commands(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        body = request.get(BODY_KEY)
        if not isinstance(body, list):
            raise DiscordApiError.invalid_form_body(
                {
                    "_errors": [
                        {"code": "LIST_TYPE_CONVERT", "message": "Only iterables may be used in a ListType"}
                    ]
                }
            )
        stored = self.core.commands.bulk_overwrite(scope, body)
        log.info(
            "emulator: %d commands synced (%s)", len(stored), "global" if scope is None else f"guild {scope}"
        )
        return json_response(stored)

    async def create_command(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        stored, created = self.core.commands.upsert(scope, body_of(request))
        return json_response(stored, status=201 if created else 200)

    async def get_command(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        _, command = self.core.commands.find(scope, snowflake(request, "command_id"))
        return json_response(command)

    async def edit_command(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        key, command = self.core.commands.find(scope, snowflake(request, "command_id"))
        merged = {**command, **body_of(request)}
        del self.core.commands.table(scope)[key]
        stored, _ = self.core.commands.upsert(scope, merged)
        return json_response(stored)

    async def delete_command(self, request: web.Request) -> web.Response:
        scope = self._command_scope(request)
        key, _ = self.core.commands.find(scope, snowflake(request, "command_id"))
        del self.core.commands.table(scope)[key]
        return no_content()

    def _guild_for_bot(self, request: web.Request) -> Any:
        guild = self.core.state.guilds.get(snowflake(request, "guild_id"))
        if guild is None or self.core.state.bot.id not in guild.members:
            raise DiscordApiError.unknown_guild()
        return guild

    async def get_guild(self, request: web.Request) -> web.Response:
        guild = self._guild_for_bot(request)
        data = guild.payload()
        if request.query.get("with_counts") in ("true", "1"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return json_response(data)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self._guild_for_bot(request)
        return json_response(
            [channel.payload() for channel in guild.channels.values() if not channel.is_thread]
        )

    async def get_roles(self, request: web.Request) -> web.Response:
        guild = self._guild_for_bot(request)
        return json_response([role.payload() for role in guild.roles.values()])

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self._guild_for_bot(request)
        member = guild.members.get(snowflake(request, "user_id"))
        if member is None:
            raise DiscordApiError.unknown_member()
        return json_response(member.payload())

    async def add_member_role(self, request: web.Request) -> web.Response:
        return self._change_member_role(request, add=True)

    async def remove_member_role(self, request: web.Request) -> web.Response:
        return self._change_member_role(request, add=False)

    def _change_member_role(self, request: web.Request, *, add: bool) -> web.Response:
        """Discord's rules: Manage Roles, and the role strictly below the bot's highest role."""
        state = self.core.state
        guild = self._guild_for_bot(request)
        member = guild.members.get(snowflake(request, "user_id"))
        if member is None:
            raise DiscordApiError.unknown_member()
        role = guild.roles.get(snowflake(request, "role_id"))
        if role is None:
            raise DiscordApiError.unknown_role()
        bot_member = state.bot_member(guild)
        top = max((guild.roles[role_id].position for role_id in bot_member.role_ids), default=0)
        if not state.guild_permissions(guild, bot_member) & Permission.MANAGE_ROLES or role.position >= top:
            raise DiscordApiError.missing_permissions()
        if add and role.id not in member.role_ids:
            member.role_ids.append(role.id)
        elif not add and role.id in member.role_ids:
            member.role_ids.remove(role.id)
        self.core.gateway.dispatch(
            "GUILD_MEMBER_UPDATE", {**member.payload(), "guild_id": str(guild.id)}, intent=GUILD_MEMBERS
        )
        return web.Response(status=204)

    async def get_attachment(self, request: web.Request) -> web.Response:
        raw_id = request.match_info["attachment_id"]
        stored = self.core.state.files.get(int(raw_id)) if raw_id.isdigit() else None
        if stored is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=stored.data, headers={"Content-Type": stored.content_type})
