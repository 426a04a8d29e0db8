"""The emulated gateway: HELLO, IDENTIFY/READY, heartbeats, RESUME with replay, and event dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from discord_emulator.gateway_limits import IdentifyLimits
from discord_emulator.state import ChangeSignal, DiscordState, Guild, iso

log = logging.getLogger(__name__)

JSON = dict[str, Any]

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE = 0, 1, 2, 3
RESUME, RECONNECT, REQUEST_GUILD_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1
# Application flags saying a privileged intent is switched on in the developer portal, for a bot in
# under 100 servers (resources/application.mdx, "Application Flags"): the *_LIMITED ones.
INTENT_FLAGS = {
    GUILD_PRESENCES: 1 << 13,  # GATEWAY_PRESENCE_LIMITED
    GUILD_MEMBERS: 1 << 15,  # GATEWAY_GUILD_MEMBERS_LIMITED
    MESSAGE_CONTENT: 1 << 19,  # GATEWAY_MESSAGE_CONTENT_LIMITED
}

_Outgoing = JSON | Callable[[], None]


@dataclass(eq=False)
class GatewayConnection:
    """One WebSocket; frames go through a queue so synchronous test code can dispatch events."""

    ws: web.WebSocketResponse
    compressor: Any  # zlib compress object, or None when the client did not ask for zlib-stream
    queue: asyncio.Queue[_Outgoing] = field(default_factory=asyncio.Queue)
    session: GatewaySession | None = None
    # The real-time (event loop) moment by which the next heartbeat must arrive.
    heartbeat_deadline: float = 0.0

    async def write_forever(self) -> None:
        while True:
            item = await self.queue.get()
            if callable(item):
                item()
                continue
            text = json.dumps(item, separators=(",", ":"))
            if self.ws.closed:
                return
            try:
                if self.compressor is None:
                    await self.ws.send_str(text)
                else:
                    # zlib-stream: one shared deflate context, each payload ends with a Z_SYNC_FLUSH marker.
                    chunk = self.compressor.compress(text.encode()) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(chunk)
            except ConnectionResetError:
                return


@dataclass(eq=False)
class GatewaySession:
    """An identified session: its sequence counter and every event sent, for RESUME replay."""

    id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    events: list[JSON] = field(default_factory=list)
    resumable: bool = True
    connection: GatewayConnection | None = None


def guild_create_payload(state: DiscordState, guild: Guild, intents: int, *, joined: bool = False) -> JSON:
    """A GUILD_CREATE as Discord sends it: without GUILD_PRESENCES only the bot's own member is listed.

    After READY the guild was announced unavailable, so ``unavailable: false`` says it is now
    available; a guild the bot has just ``joined`` comes without the field (discord.py's guild_join).
    """
    data = guild.payload()
    bot_member = state.bot_member(guild)
    members = list(guild.members.values()) if intents & GUILD_PRESENCES else [bot_member]
    data.update(
        joined_at=iso(bot_member.joined_at),
        large=len(guild.members) >= 250,
        unavailable=False,
        member_count=len(guild.members),
        voice_states=[],
        members=[member.payload() for member in members],
        channels=[channel.payload() for channel in guild.channels.values() if not channel.is_thread],
        threads=[
            channel.payload(state.bot.id)
            for channel in guild.channels.values()
            if channel.is_thread and not channel.archived and state.bot_permissions_in(channel)
        ],
        presences=[],
        stage_instances=[],
        guild_scheduled_events=[],
        soundboard_sounds=[],
        embedded_activities=[],
        activity_instances=[],
    )
    if joined:
        del data["unavailable"]
    return data


class Gateway:
    """Serves the gateway WebSocket for one bot application and keeps its session."""

    def __init__(
        self,
        state: DiscordState,
        changes: ChangeSignal,
        *,
        heartbeat_interval: float,
        heartbeat_tolerance: float,
        allowed_privileged_intents: int,
        max_concurrency: int,
        session_start_limit: int,
        resume_url: Callable[[], str],
        unavailable_guilds: Callable[[], Collection[int]],
    ) -> None:
        self._state = state
        self._changes = changes
        self._heartbeat_interval = heartbeat_interval
        self._heartbeat_tolerance = heartbeat_tolerance
        self._allowed_privileged = allowed_privileged_intents
        self.limits = IdentifyLimits(
            state.clock, max_concurrency=max_concurrency, session_start_limit=session_start_limit
        )
        self._resume_url = resume_url
        self._unavailable_guilds = unavailable_guilds
        self.refused_identifies = 0
        self.heartbeat_timeouts = 0
        self.session: GatewaySession | None = None
        self.connections: set[GatewayConnection] = set()
        self.identify_count = 0
        self.resume_count = 0
        self.ready_sent = False
        self.presence: JSON | None = None
        self._last_heartbeat_seq: int | None = None
        self._heartbeats = 0
        self._closed_until = 0.0
        self.replayed_events = 0
        self.connection_queries: list[dict[str, str]] = []

    # ------------------------------------------------------------ connection
    async def handle(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        if loop.time() < self._closed_until:
            # An outage: hold the handshake, as a client would experience a slow reconnect.
            await asyncio.sleep(self._closed_until - loop.time())
        self.connection_queries.append(dict(request.query))
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=0)
        await ws.prepare(request)
        compressor = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        connection = GatewayConnection(ws, compressor)
        self.connections.add(connection)
        writer = asyncio.create_task(connection.write_forever())
        watchdog: asyncio.Task[None] | None = None
        try:
            if request.query.get("v") not in ("9", "10"):
                await ws.close(code=4012, message=b"Invalid API version")
                return ws
            if request.query.get("encoding", "json") != "json":
                await ws.close(code=4002, message=b"Error while decoding payload.")
                return ws
            interval_ms = round(self._heartbeat_interval * 1000)
            connection.queue.put_nowait({"op": HELLO, "d": {"heartbeat_interval": interval_ms}})
            self._heartbeat_received(connection)
            watchdog = asyncio.create_task(self._watch_heartbeats(connection))
            await self._receive_loop(connection)
        finally:
            if watchdog is not None:
                watchdog.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watchdog
            self.connections.discard(connection)
            session = connection.session
            if session is not None and session.connection is connection:
                session.connection = None
                if ws.close_code in (1000, 1001):
                    # A client that closes cleanly ends its session, as on Discord.
                    session.resumable = False
            self._drain(connection)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._changes.notify()
        return ws

    def _heartbeat_received(self, connection: GatewayConnection) -> None:
        loop = asyncio.get_running_loop()
        connection.heartbeat_deadline = loop.time() + self._heartbeat_interval + self._heartbeat_tolerance

    async def _watch_heartbeats(self, connection: GatewayConnection) -> None:
        """Close a connection whose heartbeat is late: "If your app fails to send a heartbeat event in
        time, your connection will be closed and you will be forced to Resume" (events/gateway.mdx,
        "Sending Heartbeats"). The docs name no close code; 4009 "Session timed out" is reconnectable,
        and the session stays resumable. Real time, not the emulator's clock: this guards a real
        connection."""
        loop = asyncio.get_running_loop()
        while not connection.ws.closed:
            remaining = connection.heartbeat_deadline - loop.time()
            if remaining > 0:
                await asyncio.sleep(remaining)
                continue
            session = connection.session
            if session is not None and session.connection is connection:
                session.connection = None
            self.heartbeat_timeouts += 1
            log.info("gateway: no heartbeat within %.2fs, closing with 4009", self._heartbeat_interval)
            await connection.ws.close(code=4009, message=b"Session timed out.")
            return

    def _drain(self, connection: GatewayConnection) -> None:
        """Run the callbacks still queued (they only mark progress), dropping unsent frames."""
        while not connection.queue.empty():
            item = connection.queue.get_nowait()
            if callable(item):
                item()

    async def _receive_loop(self, connection: GatewayConnection) -> None:
        async for message in connection.ws:
            if message.type is not WSMsgType.TEXT:
                if message.type is WSMsgType.BINARY:
                    await connection.ws.close(code=4002, message=b"Error while decoding payload.")
                break
            try:
                payload = json.loads(message.data)
                op = payload["op"]
                data = payload.get("d")
            except (ValueError, KeyError, TypeError):
                await connection.ws.close(code=4002, message=b"Error while decoding payload.")
                break
            if op == HEARTBEAT:
                self._heartbeat_received(connection)
                self._last_heartbeat_seq = data if isinstance(data, int) else None
                self._heartbeats += 1
                connection.queue.put_nowait({"op": HEARTBEAT_ACK})
                self._changes.notify()
            elif op == IDENTIFY:
                await self._identify(connection, data)
            elif op == RESUME:
                await self._resume(connection, data)
            elif connection.session is None:
                await connection.ws.close(code=4003, message=b"Not authenticated.")
            elif op == REQUEST_GUILD_MEMBERS:
                await self._request_members(connection, data)
            elif op == PRESENCE_UPDATE:
                self.presence = data
                self._changes.notify()
            else:
                await connection.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, connection: GatewayConnection, data: JSON) -> None:
        if connection.session is not None:
            await connection.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self._state.token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents & ~ALL_INTENTS:
            await connection.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self._allowed_privileged:
            await connection.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        if self.limits.starts_left() == 0:
            await self._exhaust_session_starts(connection)
            return
        if not self.limits.identify_allowed_now():
            # "If your app exceeds this limit, Discord will respond with a Invalid Session (opcode 9)
            # event" (events/gateway.mdx, "Identifying"); d=false: identify again later.
            self.refused_identifies += 1
            connection.queue.put_nowait({"op": INVALID_SESSION, "d": False})
            self._changes.notify()
            return
        self.limits.count_start()
        old = self.session
        if old is not None and old.connection is not None and old.connection is not connection:
            await old.connection.ws.close(code=4000, message=b"Session replaced.")
        self.identify_count += 1
        self.ready_sent = False
        session = GatewaySession(secrets.token_hex(16), intents, data.get("shard"))
        session.connection = connection
        connection.session = session
        self.session = session
        ready: JSON = {
            "v": 10,
            "user": {**self._state.bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(guild.id), "unavailable": True} for guild in self._joined_guilds()],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "application": {"id": str(self._state.application_id), "flags": self.application_flags()},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
            "_trace": ['["gateway-emulator",{"micros":0}]'],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        self._send_event(session, "READY", ready)
        unavailable = self._unavailable_guilds()
        for guild in self._joined_guilds():
            # "Guilds that are unavailable due to an outage will send a Guild Delete event" instead
            # (gateway-events.mdx, Guild Create): READY already listed them as unavailable.
            if guild.id not in unavailable:
                self._send_event(session, "GUILD_CREATE", guild_create_payload(self._state, guild, intents))
        connection.queue.put_nowait(self._mark_ready)
        log.debug("gateway: session %s identified with intents %d", session.id, intents)

    # ------------------------------------------------------- identify limits
    async def _exhaust_session_starts(self, connection: GatewayConnection) -> None:
        """The session starts are used up: "Upon hitting this limit, all active sessions for the app will
        be terminated, the bot token will be reset" (events/gateway.mdx, "Session Start Limit"). The
        docs name no close code; 4004 "Authentication failed" is what the reset token makes of it, and
        discord.py does not reconnect after it."""
        log.warning("gateway: session start limit used up; the token is reset")
        self._state.reset_token()
        for other in list(self.connections):
            if other is not connection:
                with contextlib.suppress(Exception):
                    await other.ws.close(code=4004, message=b"Authentication failed.")
        if self.session is not None:
            self.session.resumable = False
        await connection.ws.close(code=4004, message=b"Authentication failed.")

    def session_start_limit(self) -> JSON:
        """The session start limit object of ``GET /gateway/bot``."""
        return self.limits.session_start_limit()

    @property
    def content_intent_enabled(self) -> bool:
        """Whether MESSAGE_CONTENT is switched on in the developer portal."""
        return bool(self._allowed_privileged & MESSAGE_CONTENT)

    def application_flags(self) -> int:
        """The application's flags: which privileged intents are switched on."""
        flags = 0
        for intent, flag in INTENT_FLAGS.items():
            if self._allowed_privileged & intent:
                flags |= flag
        return flags

    def _joined_guilds(self) -> list[Guild]:
        return [guild for guild in self._state.guilds.values() if self._state.bot.id in guild.members]

    def _mark_ready(self) -> None:
        self.ready_sent = True
        self._changes.notify()

    async def _resume(self, connection: GatewayConnection, data: JSON) -> None:
        session = self.session
        if data.get("token") != self._state.token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        if session is None or session.id != data.get("session_id") or not session.resumable:
            # d=false: the session cannot be resumed, the client must IDENTIFY again.
            connection.queue.put_nowait({"op": INVALID_SESSION, "d": False})
            return
        self.resume_count += 1
        session.connection = connection
        connection.session = session
        last_seen = data.get("seq") or 0
        for event in session.events:
            if event["s"] > last_seen:
                connection.queue.put_nowait(event)
                self.replayed_events += 1
        self._send_event(session, "RESUMED", {"_trace": ['["gateway-emulator",{"micros":0}]']})
        connection.queue.put_nowait(self._changes.notify)
        log.debug("gateway: session %s resumed from seq %s", session.id, last_seen)

    async def _request_members(self, connection: GatewayConnection, data: JSON) -> None:
        session = connection.session
        assert session is not None
        raw_guild_ids = data.get("guild_id")
        guild_ids: list[Any] = raw_guild_ids if isinstance(raw_guild_ids, list) else [raw_guild_ids]
        user_ids = {int(user_id) for user_id in data.get("user_ids") or []}
        query = data.get("query")
        if not user_ids and not session.intents & GUILD_MEMBERS:
            await connection.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        limit = data.get("limit") or 0
        for raw_id in guild_ids:
            guild = self._state.guilds.get(int(raw_id)) if str(raw_id).isdigit() else None
            if guild is None:
                continue
            members = list(guild.members.values())
            if user_ids:
                members = [member for member in members if member.id in user_ids]
            elif query:
                members = [member for member in members if member.name.lower().startswith(query.lower())]
            if limit:
                members = members[:limit]
            chunk: JSON = {
                "guild_id": str(guild.id),
                "members": [member.payload() for member in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [str(user_id) for user_id in user_ids if user_id not in guild.members],
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            if data.get("presences"):
                chunk["presences"] = []
            self._send_event(session, "GUILD_MEMBERS_CHUNK", chunk)

    # -------------------------------------------------------------- dispatch
    def _send_event(self, session: GatewaySession, event: str, data: JSON) -> None:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.events.append(frame)
        if session.connection is not None:
            session.connection.queue.put_nowait(frame)

    def dispatch(self, event: str, data: JSON, *, intent: int | None = GUILDS) -> bool:
        """Send an event to the bot's session if its intents include ``intent``; buffered while disconnected.

        Returns whether the bot will receive it (False when no session exists or the intent is missing).
        """
        session = self.session
        if session is None or not session.resumable:
            return False
        if intent is not None and not session.intents & intent:
            return False
        if event != "INTERACTION_CREATE" and not self._bot_may_see(data):
            return False
        self._send_event(session, event, data)
        return True

    def _bot_may_see(self, data: JSON) -> bool:
        """A bot gets the events of the servers it is in, not of others: a user-installed app hears of
        a server it is not in only through the interactions sent from there."""
        raw = data.get("guild_id")
        guild = self._state.guilds.get(int(raw)) if raw is not None and str(raw).isdigit() else None
        return guild is None or self._state.bot.id in guild.members

    @property
    def intents(self) -> int:
        return 0 if self.session is None else self.session.intents

    @property
    def connected(self) -> bool:
        session = self.session
        return session is not None and session.connection is not None and not session.connection.ws.closed

    # --------------------------------------------------------------- control
    async def drop(self, code: int, *, resumable: bool, outage: float) -> None:
        """Close the live connection with ``code``; with ``resumable=False`` the next RESUME is refused.
        New connections are held for ``outage`` seconds, so events dispatched meanwhile are missed."""
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("the bot has no live gateway connection to drop")
        if not resumable:
            session.resumable = False
        self._closed_until = asyncio.get_running_loop().time() + outage
        connection = session.connection
        session.connection = None
        await connection.ws.close(code=code, message=b"Dropped by the emulator.")

    def invalidate(self, *, resumable: bool) -> None:
        """Send INVALID_SESSION on the live connection (``d`` tells the client whether it may resume)."""
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("the bot has no live gateway connection")
        if not resumable:
            session.resumable = False
        session.connection.queue.put_nowait({"op": INVALID_SESSION, "d": resumable})

    def request_reconnect(self) -> None:
        """Send RECONNECT: the client closes and resumes on ``resume_gateway_url``."""
        session = self.session
        if session is None or session.connection is None:
            raise RuntimeError("the bot has no live gateway connection")
        session.connection.queue.put_nowait({"op": RECONNECT, "d": None})

    async def flush(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until the client has parsed every event sent so far.

        The client answers a server HEARTBEAT with its last sequence number, and discord.py records
        a sequence only once that event's parser ran, so an answer carrying ``seq`` proves delivery.
        """
        session = self.session
        if session is None:
            return
        target = session.seq
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if not await self._changes.wait_until(lambda: self.connected, deadline - loop.time()):
                raise TimeoutError("the bot did not reconnect to the gateway in time")
            connection = session.connection
            assert connection is not None
            beats = self._heartbeats
            connection.queue.put_nowait({"op": HEARTBEAT, "d": None})

            def answered(beats: int = beats) -> bool:
                seq = self._last_heartbeat_seq
                return self._heartbeats > beats and seq is not None and seq >= target

            if await self._changes.wait_until(answered, min(0.5, deadline - loop.time())):
                return
            if loop.time() >= deadline:
                raise TimeoutError(f"the bot did not acknowledge gateway events up to seq {target}")

    async def close(self) -> None:
        for connection in list(self.connections):
            with contextlib.suppress(Exception):
                await connection.ws.close(code=1001, message=b"Emulator shutting down.")
