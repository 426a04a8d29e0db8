"""A Discord emulator on 127.0.0.1 that an unmodified discord.py bot talks to over HTTP and a WebSocket.

Quick start::

    from discord_emulator import DiscordEmulator, Permission

    async with DiscordEmulator() as discord:
        guild = discord.add_guild("Data Science at Home")   # #general, @everyone, owner, the bot
        alice = discord.add_member(guild, "alice")
        async with discord.run_bot(make_bot()):             # redirects discord.py, starts, waits
            await discord.wait_for_commands_synced()        # or (guild) for guild commands
            result = await discord.run_command(alice, guild.general, "episode search", query="gan")
            assert "GAN" in result.embed["title"]
            page = await discord.click(alice, result.message, "episodes:next")
        assert discord.messages(guild.general)[-1]["content"] == "..."

The pieces (all importable from ``discord_emulator``):

- World (``world.WorldEditing``): ``add_guild``, ``add_channel`` (text/announcement/forum/voice/
  category, overwrites, forum tags, ``moderated_tags``, ``require_tag``), ``add_thread``,
  ``archive_thread``, ``lock_thread``, ``add_role``, ``add_member`` (``permissions=`` makes a role),
  ``edit_role``, ``set_bot_permissions``, ``set_channel_permissions``, ``set_bot_channel_permissions``,
  ``clear_channel_permissions``, ``delete_channel``, ``remove_guild``, ``remove_member``,
  ``post_message`` (a member writes), ``add_automod_rule``, ``block_links``. Each sends the bot the
  gateway event Discord would (GUILD_CREATE, CHANNEL_CREATE/UPDATE/DELETE, THREAD_UPDATE, ...);
  ``await flush_gateway()`` waits until the bot has processed them. The bot gets no event of a server
  it is not in (``add_guild(..., bot_installed=False)``).
- Installations: ``add_user_install(person)`` installs the app to a person's account;
  ``add_user`` (an account in no server), ``dm(a, b)``, ``bot_dm(person)`` and ``add_group_dm`` make
  the places a user-installed app is used besides servers. ``run_command`` and the other actions
  then send what Discord sends there: ``context``, ``authorizing_integration_owners``,
  ``app_permissions``, a partial ``guild`` and ``member`` in a server, ``user`` in a DM; and they
  refuse a command whose ``contexts`` or ``integration_types`` do not allow it there.
- Users (``users.UserActions``): ``run_command``, ``autocomplete``, ``click``, ``select``,
  ``submit_modal`` dispatch INTERACTION_CREATE and wait for the bot's answer, returning an
  ``InteractionResult`` (or the choices); ``CommandUsageError`` when a real client could not have
  sent that, ``InteractionTimeout`` / ``InteractionFailed`` when the bot did not answer / every
  answer was rejected.
- Time: ``clock`` (real time plus an offset) and ``await advance(seconds)``, which moves it and runs
  what time triggers (threads auto-archive). Everything time-based reads it except the heartbeat
  deadline.
- Reading: ``messages(channel)``, ``message(id)``, ``threads(channel)``, ``synced_commands(guild)``,
  ``requests`` / ``requests_to(method, glob)``, ``api_errors(code=)``, ``invalid_requests``,
  ``cloudflare_banned``, ``presence``, counters.
- Faults (``faults.FaultInjection``): ``fail_next`` (429 of scope user/global/shared or Cloudflare's;
  500/502/503), ``delay_next``, ``lose_response_next``, ``drop_gateway``, ``invalidate_session``,
  ``request_reconnect``, ``outage``/``end_outage`` (a guild unavailable).

What it serves: ``GET /gateway[/bot]``, ``/users/@me``, ``/oauth2/applications/@me``, application
commands (global and guild: bulk overwrite, list, get, create, edit, delete), channel messages
(create with ``nonce``/``enforce_nonce``, get, list, edit, delete, crosspost, reactions, typing),
threads (from a message, without one, forum posts, archived public threads, active guild threads),
guild/roles/member reads, interaction callbacks (types 1, 4, 5, 6, 7, 8, 9, with ``with_response``),
follow-ups and ``@original``. JSON or multipart (``payload_json`` + ``files[n]``) bodies. A
user-installed app's answers are private where the user lacks Use External Apps in a server the app
is not installed to, and it may send at most 5 follow-ups per interaction (40094).

Discord's limits by default: per-route buckets (5 messages per 5 s per channel, 5 edits per 5 s,
1 reaction per 0.25 s, 50 per second elsewhere) with X-RateLimit headers on every response; 50
requests per second globally; 10,000 invalid requests per 10 minutes, then Cloudflare's one-hour ban;
``enforce_nonce`` for 5 minutes; a 41.25 s heartbeat, one IDENTIFY per 5 s and 1,000 per day; no
privileged intent switched on. Gateway: HELLO, IDENTIFY -> READY and GUILD_CREATE, heartbeats (late
ones close 4009), RESUME with replay, INVALID_SESSION, RECONNECT, GUILD_MEMBERS_CHUNK, zlib-stream
compression, intents (no GUILD_MESSAGES: no message events; none from channels the bot cannot see; no
MESSAGE_CONTENT: others' messages arrive blank, in events and, unless it is switched on in the portal,
from the REST API; a privileged intent not switched on: close 4014).

Validation mirrors Discord: 50035 "Invalid Form Body" with Discord's nested ``errors`` for content,
embed (and embed URL), component (link-button URL, 40 components in V2), nonce, autocomplete-choice
and modal limits; 50006 for an empty message; 50013 "Missing Permissions" and 50001 "Missing Access"
from the bot's permissions computed from roles and channel overwrites; 10003/10008/10062/40060/50027
for unknown channel, message, interaction, a second acknowledgement and an expired follow-up token;
40058/40067 for forums, 50083/160005 for archived and locked threads, 200000/200001/240000 for
AutoMod and the harmful-links filter. Mentions honour ``allowed_mentions`` (and Discord's defaults
per context), role mentionability and MENTION_EVERYONE.

discord.py timing to know about: ``on_ready`` fires ``guild_ready_timeout`` (2 s by default) after the
last GUILD_CREATE; the emulator's helpers do not need it (``run_bot``/``wait_until_ready`` return once
the bot has processed every GUILD_CREATE). A re-IDENTIFY (after an unresumable disconnect) sleeps
5 s in ``Client.before_identify_hook``, and a new IDENTIFY within 5 s of the last (a restarted bot)
gets INVALID_SESSION, so discord.py identifies again 5 s later: ``advance(5)`` first to avoid it.
A response with ``X-RateLimit-Remaining: 0`` makes discord.py sleep until the bucket resets (5 s after
a fifth message in a channel). A 500/502 is retried after 1 s; a 503 is not retried. Close the bot
before the emulator (``run_bot`` does), or it keeps trying to reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import fnmatch
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import discord
import yarl
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from discord_emulator.clock import EmulatorClock
from discord_emulator.core import Core, EmulatorConfig, RecordedRequest
from discord_emulator.errors import ApiErrorRecord
from discord_emulator.faults import FaultInjection
from discord_emulator.gateway import Gateway
from discord_emulator.ratelimits import DISCORD_ROUTE_LIMITS, RouteLimit
from discord_emulator.rest import RestApi
from discord_emulator.rest_channels import ChannelRoutes
from discord_emulator.rest_interactions import InteractionRoutes
from discord_emulator.rest_threads import ThreadRoutes
from discord_emulator.state import ChangeSignal, Channel, DiscordState, Guild, User
from discord_emulator.users import UserActions, message_id_of
from discord_emulator.world import WorldEditing

log = logging.getLogger(__name__)

JSON = dict[str, Any]
BotT = TypeVar("BotT", bound=discord.Client)


class DiscordEmulator(WorldEditing, UserActions, FaultInjection):
    """One emulated Discord (REST + gateway) for one bot application. Use ``async with``."""

    def __init__(
        self,
        *,
        bot_name: str = "DSH Community Bot",
        application_name: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        heartbeat_interval: float = 41.25,
        heartbeat_tolerance: float | None = None,
        interaction_response_window: float = 3.0,
        interaction_token_lifetime: float = 15 * 60.0,
        nonce_window: float = 5 * 60.0,
        rate_limit: int = 50,
        rate_limit_window: float = 1.0,
        route_rate_limits: Mapping[str, tuple[int, float]] | None = None,
        global_rate_limit: int = 50,
        invalid_request_limit: int = 10_000,
        invalid_request_window: float = 10 * 60.0,
        ban_duration: float = 60 * 60.0,
        allowed_privileged_intents: int = 0,
        max_concurrency: int = 1,
        session_start_limit: int = 1000,
        user_install: bool = True,
        strict: bool = True,
    ) -> None:
        """Configure the emulator. Every default is Discord's own limit; a test that needs another
        passes it here (and says why).

        - ``heartbeat_interval``: HELLO's interval, Discord's 41.25 s. A connection that sends no
          heartbeat for the interval plus ``heartbeat_tolerance`` (a quarter of the interval by
          default) is closed with 4009 and must RESUME. Real time, not the clock.
        - ``interaction_response_window``: the 3-second limit for the initial response;
          ``interaction_token_lifetime``: the 15-minute follow-up limit. ``nonce_window``: how long
          ``enforce_nonce`` deduplicates (Discord: "the past few minutes").
        - Rate limits: ``rate_limit`` per ``rate_limit_window`` seconds is the default bucket;
          ``route_rate_limits`` overrides buckets by ``"METHOD /path/template"`` (on top of Discord's:
          5 per 5 s to create or to edit a message per channel, 1 per 0.25 s to add a reaction);
          ``global_rate_limit`` requests per second per bot. ``invalid_request_limit`` 401/403/429
          answers per ``invalid_request_window`` seconds, past which Cloudflare bans every request
          for ``ban_duration`` seconds.
        - Gateway: ``allowed_privileged_intents`` are those "switched on in the developer portal"
          (none by default: asking for one closes with 4014); ``max_concurrency`` IDENTIFYs per 5 s;
          ``session_start_limit`` IDENTIFYs per 24 h, after which the token is reset.
        - ``user_install``: whether the app's Installation settings in the developer portal allow
          User Install besides Guild Install (both are on for apps created since June 2024,
          change-log.mdx "User-Installed Apps General Availability"). Without it, ``add_user_install``
          is refused and so is a command whose ``integration_types`` includes USER_INSTALL.
        - With ``strict``, leaving the ``async with`` block raises if the bot called a route the
          emulator does not implement or the emulator itself failed.
        """
        self._host = host
        self._port = port
        self._strict = strict
        self.clock = EmulatorClock()
        self.state = DiscordState(
            bot_name=bot_name, application_name=application_name or bot_name, clock=self.clock
        )
        self._changes = ChangeSignal()
        limits = dict(DISCORD_ROUTE_LIMITS)
        limits.update({route: RouteLimit(*rule) for route, rule in (route_rate_limits or {}).items()})
        config = EmulatorConfig(
            interaction_response_window=interaction_response_window,
            interaction_token_lifetime=interaction_token_lifetime,
            nonce_window=nonce_window,
            rate_limit=rate_limit,
            rate_limit_window=rate_limit_window,
            route_rate_limits=limits,
            global_rate_limit=global_rate_limit,
            invalid_request_limit=invalid_request_limit,
            invalid_request_window=invalid_request_window,
            ban_duration=ban_duration,
            user_install=user_install,
        )
        self._gateway = Gateway(
            self.state,
            self._changes,
            heartbeat_interval=heartbeat_interval,
            heartbeat_tolerance=heartbeat_interval / 4
            if heartbeat_tolerance is None
            else heartbeat_tolerance,
            allowed_privileged_intents=allowed_privileged_intents,
            max_concurrency=max_concurrency,
            session_start_limit=session_start_limit,
            resume_url=lambda: self.gateway_url,
            unavailable_guilds=lambda: self._core.outages.keys(),
        )
        self._core = Core(self.state, self._gateway, self._changes, config)
        interaction_routes = InteractionRoutes(self._core)
        self._rest = RestApi(self._core, interaction_routes.record_error)
        interaction_routes.register(self._rest)
        ChannelRoutes(self._core).register(self._rest)
        ThreadRoutes(self._core).register(self._rest)
        self._rest.app.router.add_get("/", self._gateway.handle)
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start serving on ``host``:``port`` (a free port by default)."""
        runner = web.AppRunner(self._rest.app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._core.origin = f"http://{host}:{port}"
        log.info("Discord emulator listening on %s", self._core.origin)

    async def stop(self) -> None:
        """Close gateway connections and the HTTP server."""
        await self._gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
        if self._strict and exc_type is None:
            self.check()

    @contextlib.asynccontextmanager
    async def run_bot(self, bot: BotT, *, timeout: float = 10.0) -> AsyncIterator[BotT]:  # noqa: ASYNC109
        """Point discord.py here, start ``bot`` with the emulator's token and wait until it has processed
        READY and every GUILD_CREATE. On exit close it, wait for ``bot.start`` to return (re-raising
        whatever it raised) and point discord.py back where it pointed before."""
        with self.discord_py_pointed_here():
            async with bot:
                task = asyncio.create_task(bot.start(self.token), name="bot under test")
                try:
                    started = await self._changes.wait_until(
                        lambda: task.done() or (self._gateway.ready_sent and self._gateway.connected),
                        timeout,
                        recheck=0.05,
                    )
                    if task.done():
                        task.result()  # Re-raise why the bot stopped (bad token, failed setup_hook...).
                        raise RuntimeError("the bot stopped before connecting to the gateway")
                    if not started:
                        raise TimeoutError(f"the bot did not connect to the gateway within {timeout}s")
                    await self.wait_until_ready(timeout)
                    yield bot
                finally:
                    await bot.close()
                    await task

    @contextlib.contextmanager
    def discord_py_pointed_here(self) -> Iterator[None]:
        """Send discord.py's REST calls and gateway connections here, and point them back on exit.

        discord.py builds every REST URL (bot routes, webhooks and interaction callbacks alike) from the
        class attribute ``Route.BASE``, and a ``Client`` opens ``DiscordWebSocket.DEFAULT_GATEWAY`` (it
        resumes on READY's ``resume_gateway_url``, which the emulator points here too). Both are
        process-wide: one emulator per process at a time.
        """
        previous = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        Route.BASE = self.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = previous

    def check(self) -> None:
        """Raise if the bot used a route the emulator lacks, or the emulator hit an internal error."""
        if self._core.internal_errors:
            raise AssertionError(f"the emulator failed internally: {self._core.internal_errors!r}")
        if self._core.unsupported:
            raise AssertionError(
                f"the bot called routes the emulator does not implement: {self._core.unsupported}"
            )

    # ------------------------------------------------------------------ identity
    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self._core.origin

    @property
    def api_base(self) -> str:
        """``http://127.0.0.1:PORT/api/v10``: the base URL of every REST route."""
        return f"{self._core.origin}/api/v10"

    @property
    def gateway_url(self) -> str:
        """``ws://127.0.0.1:PORT/``: the gateway, at the root of the same origin."""
        return self._core.origin.replace("http://", "ws://", 1) + "/"

    @property
    def token(self) -> str:
        """The only bot token the emulator accepts."""
        return self.state.token

    @property
    def application_id(self) -> int:
        return self.state.application_id

    @property
    def bot_user(self) -> User:
        return self.state.bot

    @property
    def bot_user_id(self) -> int:
        return self.state.bot.id

    # ------------------------------------------------------------------ reading
    def messages(self, channel: Channel | int, *, include_ephemeral: bool = False) -> list[JSON]:
        """The channel's (or thread's) messages, oldest first, as Discord renders them (``content``,
        ``embeds``, ``components``, ``mentions``, ``mention_roles``, ``mention_everyone``, ``flags``...).
        Ephemeral messages only with ``include_ephemeral``."""
        history = self.state.channel_history(_id_of(channel), include_ephemeral=include_ephemeral)
        return [self.state.message_payload(message) for message in history]

    def message(self, message: JSON | int) -> JSON:
        """The current version of a message (after edits); deleted messages too, with ``deleted: True``."""
        stored = self.state.messages[message_id_of(message)]
        return {**self.state.message_payload(stored), "deleted": stored.deleted}

    @property
    def unsupported_requests(self) -> list[str]:
        """``"METHOD /path"`` of requests to routes the emulator lacks (answered 404 like Discord).
        With ``strict``, leaving the ``async with`` block fails while this is not empty."""
        return self._core.unsupported

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every HTTP request the bot made, in order (method, path without /api/v10, json, files, status)."""
        return self._core.requests

    def requests_to(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        """Recorded requests whose method matches and whose path matches the glob ``path_pattern``."""
        return [
            request
            for request in self._core.requests
            if method in ("*", request.method) and fnmatch.fnmatchcase(request.path, path_pattern)
        ]

    def api_errors(self, *, code: int | None = None) -> list[ApiErrorRecord]:
        """Every error response sent to the bot (optionally only those with Discord error ``code``)."""
        return [error for error in self._core.errors if code is None or error.code == code]

    def synced_commands(self, guild: Guild | int | None = None) -> list[JSON]:
        """The application commands registered globally, or for ``guild``, as Discord stores them."""
        scope = None if guild is None else _id_of(guild)
        return [copy.deepcopy(command) for command in self._core.commands.table(scope).values()]

    def threads(self, channel: Channel | int) -> list[Channel]:
        """Threads (and forum posts) whose parent is ``channel``, oldest first."""
        parent_id = _id_of(channel)
        return [c for c in self.state.channels.values() if c.parent_id == parent_id and c.is_thread]

    @property
    def presence(self) -> JSON | None:
        """The last PRESENCE_UPDATE the bot sent."""
        return self._gateway.presence

    @property
    def identify_count(self) -> int:
        return self._gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self._gateway.resume_count

    @property
    def connected(self) -> bool:
        return self._gateway.connected

    @property
    def replayed_events(self) -> int:
        """How many missed events were replayed on RESUMEs so far."""
        return self._gateway.replayed_events

    @property
    def gateway_connections(self) -> list[dict[str, str]]:
        """The query of every gateway connection the bot opened (``v``, ``encoding``, ``compress``)."""
        return self._gateway.connection_queries

    @property
    def intents(self) -> int:
        """The intents of the current gateway session (0 before IDENTIFY)."""
        return self._gateway.intents

    @property
    def refused_identifies(self) -> int:
        """IDENTIFYs answered INVALID_SESSION because they came too soon (``max_concurrency``)."""
        return self._gateway.refused_identifies

    @property
    def heartbeat_timeouts(self) -> int:
        """Connections closed with 4009 because their heartbeat was late."""
        return self._gateway.heartbeat_timeouts

    @property
    def invalid_requests(self) -> list[RecordedRequest]:
        """The requests counting against the invalid-request limit now: answered 401, 403 or 429
        (not shared-scope 429s) within the last ``invalid_request_window`` seconds on the clock."""
        return self._rest.invalid.requests

    @property
    def invalid_request_count(self) -> int:
        return len(self._rest.invalid.requests)

    @property
    def cloudflare_banned(self) -> bool:
        """Whether Cloudflare is banning every request (too many invalid requests)."""
        return self._rest.invalid.banned

    # ------------------------------------------------------------------- time
    async def advance(self, seconds: float) -> None:
        """Move the emulator's clock ``seconds`` forward and run what time triggers on Discord: threads
        auto-archive (THREAD_UPDATE), rate-limit windows and the interaction and nonce windows pass,
        a Cloudflare ban ends. Snowflakes and timestamps made afterwards are ``seconds`` later. Use
        ``flush_gateway`` afterwards to wait until the bot has processed the events."""
        self.clock.move_forward(seconds)
        self._core.run_due()
        self._changes.notify()
        await asyncio.sleep(0)

    # ------------------------------------------------------------------ waiting
    async def wait_for(self, condition: Callable[[], object], *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``condition()`` is truthy, re-checked whenever the bot does anything."""
        if not await self._changes.wait_until(lambda: bool(condition()), timeout, recheck=0.1):
            raise TimeoutError(f"condition not met within {timeout}s")

    async def wait_for_commands_synced(
        self,
        guild: Guild | int | None = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[JSON]:
        """Wait until the bot registered its commands globally (or for ``guild``); return them."""
        scope = None if guild is None else _id_of(guild)
        if not await self._changes.wait_until(lambda: scope in self._core.commands.synced_scopes, timeout):
            raise TimeoutError(
                f"the bot did not sync {'global' if scope is None else 'guild'} commands in {timeout}s"
            )
        return self.synced_commands(guild)

    async def wait_for_message(
        self,
        channel: Channel | int,
        predicate: Callable[[JSON], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSON:
        """Wait for a visible message in ``channel`` matching ``predicate`` (or any); return the newest."""
        found: list[JSON] = []

        def check() -> bool:
            matching = [m for m in self.messages(channel) if predicate is None or predicate(m)]
            found[:] = matching[-1:]
            return bool(found)

        if not await self._changes.wait_until(check, timeout):
            raise TimeoutError(f"no matching message in channel {_id_of(channel)} within {timeout}s")
        return found[0]

    async def flush_gateway(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has processed every gateway event sent so far (state updated, listeners
        scheduled); use after ``delete_channel``, ``remove_guild``, ``set_channel_permissions``..."""
        await self._gateway.flush(timeout)
        for _ in range(3):  # Let the listener tasks discord.py scheduled for those events run.
            await asyncio.sleep(0)


def _id_of(thing: Channel | Guild | int) -> int:
    return thing if isinstance(thing, int) else thing.id
