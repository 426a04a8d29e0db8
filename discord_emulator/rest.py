"""The emulated REST API: routing, auth, recording, rate-limit headers, faults, and the simple routes."""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from discord_emulator.clock import EmulatorClock
from discord_emulator.core import Core, Fault, RecordedRequest, UploadedFile
from discord_emulator.errors import ApiErrorRecord, DiscordApiError
from discord_emulator.gateway import GUILD_MEMBERS
from discord_emulator.permissions import Permission

log = logging.getLogger(__name__)

JSON = dict[str, Any]
API_PREFIX = "/api/v10"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
BODY_KEY = web.RequestKey("discord_body", object)
FILES_KEY = web.RequestKey("discord_files", list)

# Routes Discord serves without the bot token: interaction callbacks and webhook-token routes.
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


class RateLimiter:
    """Per-bucket request windows on the emulator's clock, reported in the X-RateLimit headers
    discord.py's limiter reads."""

    def __init__(self, clock: EmulatorClock, limit: int, window: float) -> None:
        self._clock = clock
        self.limit = limit
        self.window = window
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, route_key: str, major: str) -> tuple[dict[str, str], float | None]:
        """Count one request; return the headers and, when over the limit, the seconds to wait."""
        bucket = hashlib.sha256(route_key.encode()).hexdigest()[:32]
        now = self._clock.monotonic()
        key = f"{bucket}:{major}"
        started, count = self._windows.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        count += 1
        self._windows[key] = (started, count)
        reset_after = max(self.window - (now - started), 0.001)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.limit - count, 0)),
            "X-RateLimit-Reset": f"{self._clock.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }
        return headers, (reset_after if count > self.limit else None)


def rate_limited_response(retry_after: float, *, is_global: bool, headers: dict[str, str]) -> web.Response:
    """Discord's 429: JSON body with ``retry_after``, a Retry-After header, and the ``Via`` header
    that tells discord.py it came from the API rather than from a Cloudflare ban."""
    body: JSON = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
    if is_global:
        body["code"] = 0
    response = json_response(body, status=429)
    response.headers.update(headers)
    response.headers["X-RateLimit-Remaining"] = "0"
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    response.headers["X-RateLimit-Scope"] = "global" if is_global else "user"
    if is_global:
        response.headers["X-RateLimit-Global"] = "true"
    return response


def server_error_response(status: int, code: int, message: str | None) -> web.Response:
    if status == 502:
        # Cloudflare's HTML page, which discord.py reads as text.
        return web.Response(
            status=502, text="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
        )
    reason = message or {500: "500: Internal Server Error", 503: "503: Service Unavailable"}.get(
        status, "Error"
    )
    return json_response({"message": reason, "code": code}, status=status)


class RestApi:
    """Owns the aiohttp application; route modules register their handlers on it."""

    def __init__(
        self, core: Core, on_interaction_error: Callable[[web.Request, ApiErrorRecord], None]
    ) -> None:
        self.core = core
        self.faults: list[Fault] = []
        self.limiter = RateLimiter(core.state.clock, core.config.rate_limit, core.config.rate_limit_window)
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
        path = request.path[len(API_PREFIX) :]
        record = RecordedRequest(request.method, path, dict(request.query), None, [], core.now())
        core.requests.append(record)
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else path
        major = "+".join(
            request.match_info[key]
            for key in ("channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id")
            if key in request.match_info
        )
        headers, over_limit = self.limiter.hit(f"{request.method} {template}", major)
        headers["Via"] = "1.1 google"
        try:
            response = await self._answer(request, handler, record, template, over_limit, headers)
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
        for name, value in headers.items():
            response.headers.setdefault(name, value)
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
        over_limit: float | None,
        headers: dict[str, str],
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
        if not public and request.headers.get("Authorization") != f"Bot {self.core.state.token}":
            raise DiscordApiError.unauthorized()
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
            if fault.status == 429:
                return rate_limited_response(fault.retry_after, is_global=fault.is_global, headers=headers)
            if fault.status is not None:
                return server_error_response(fault.status, fault.code, fault.message)
        if over_limit is not None:
            return rate_limited_response(over_limit, is_global=False, headers=headers)
        return await handler(request)

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
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
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
                "flags": 0,
                "owner": state.owner_user.payload(),
                "team": None,
                "bot": state.bot.payload(),
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(state.guilds),
                "integration_types_config": {"0": {}},
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
