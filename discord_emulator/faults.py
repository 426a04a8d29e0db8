"""Tests making Discord fail: error answers, slow or lost responses, gateway drops and guild outages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from discord_emulator.core import Core, Fault
from discord_emulator.gateway import GUILDS, Gateway, guild_create_payload
from discord_emulator.rest import RestApi
from discord_emulator.state import ChangeSignal, DiscordState, Guild


def _method(method: str) -> str:
    return method.upper() if method != "*" else "*"


class FaultInjection:
    """Mixed into ``DiscordEmulator``: what goes wrong on Discord's side, on purpose."""

    state: DiscordState
    _core: Core
    _gateway: Gateway
    _rest: RestApi
    _changes: ChangeSignal
    flush_gateway: Callable[[], Awaitable[None]]

    def fail_next(
        self,
        method: str,
        path_pattern: str,
        *,
        status: int = 429,
        retry_after: float = 0.2,
        count: int = 1,
        global_: bool = False,
        scope: Literal["user", "global", "shared"] | None = None,
        cloudflare: bool = False,
        code: int = 0,
        message: str | None = None,
    ) -> Fault:
        """Make the next ``count`` matching requests fail; ``path_pattern`` is a glob on the path after
        ``/api/v10`` (e.g. ``"/channels/*/messages"``), ``method`` may be ``"*"``.

        429 answers like Discord's API (``retry_after`` in the body, Retry-After, X-RateLimit-Scope and
        ``Via`` headers): ``scope="user"`` (the default), ``"global"`` (or ``global_=True``) or
        ``"shared"`` (a per-resource limit, which does not count as an invalid request). With
        ``cloudflare=True`` the 429 is Cloudflare's instead: an HTML page without ``Via`` or rate-limit
        headers, which discord.py raises at once. 500/503 answer JSON, 502 Cloudflare's HTML. The
        returned ``Fault.hits`` lists the requests it hit.
        """
        chosen = scope or ("global" if global_ else "user")
        fault = Fault(
            _method(method),
            path_pattern,
            status,
            retry_after=retry_after,
            count=count,
            scope=chosen,
            code=code,
            message=message,
            cloudflare=cloudflare,
        )
        self._rest.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Forget every planned fault that has not struck yet: Discord works again."""
        self._rest.faults.clear()

    def delay_next(self, method: str, path_pattern: str, seconds: float, *, count: int = 1) -> Fault:
        """Answer the next ``count`` matching requests normally, but only after ``seconds``."""
        fault = Fault(_method(method), path_pattern, None, count=count, delay=seconds)
        self._rest.faults.append(fault)
        return fault

    def lose_response_next(
        self, method: str, path_pattern: str, *, after_handling: Callable[[], Awaitable[None]] | None = None
    ) -> Fault:
        """Carry out the next matching request, then cut the connection instead of answering: Discord
        did it, the bot never hears so. ``after_handling`` runs in between (kill the bot there to
        test a crash between Discord accepting a message and the bot recording it)."""
        fault = Fault(_method(method), path_pattern, None, lose_response=True, after_handling=after_handling)
        self._rest.faults.append(fault)
        return fault

    async def drop_gateway(self, code: int = 4000, *, resumable: bool = True, outage: float = 0.0) -> None:
        """Close the bot's gateway connection with ``code``. It reconnects and RESUMEs, getting missed
        events replayed; with ``resumable=False`` the RESUME gets INVALID_SESSION and it must IDENTIFY
        (mind the identify pacing: one IDENTIFY per 5 s on the clock, so ``advance(5)`` first).
        For ``outage`` seconds reconnections are held, so events the test causes meanwhile are missed
        by the bot and must be replayed."""
        await self._gateway.drop(code, resumable=resumable, outage=outage)

    def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send INVALID_SESSION (``d=resumable``) on the live connection."""
        self._gateway.invalidate(resumable=resumable)

    def request_reconnect(self) -> None:
        """Send RECONNECT (op 7): the bot closes and resumes."""
        self._gateway.request_reconnect()

    async def outage(self, guild: Guild, *, rest_status: Literal[503, 404] = 503) -> None:
        """``guild`` becomes unavailable, as in a Discord outage: GUILD_DELETE ``{id, unavailable:
        true}`` (discord.py keeps it cached and fires ``on_guild_unavailable``). Until ``end_outage``,
        REST calls on the guild and its channels answer ``rest_status`` (503 "Service Unavailable",
        which discord.py does not retry, or 404 Unknown Channel / Unknown Guild), and a new READY lists
        it unavailable with no GUILD_CREATE (events/gateway-events.mdx, Guild Create and Guild Delete).
        Waits until the bot has processed the event if it is connected."""
        self._core.outages[guild.id] = rest_status
        self._gateway.dispatch("GUILD_DELETE", {"id": str(guild.id), "unavailable": True}, intent=GUILDS)
        self._changes.notify()
        if self._gateway.connected:
            await self.flush_gateway()

    async def end_outage(self, guild: Guild) -> None:
        """``guild`` is back: GUILD_CREATE with an explicit ``"unavailable": false``, which discord.py
        needs to fire ``on_guild_available`` rather than ``on_guild_join``."""
        self._core.outages.pop(guild.id, None)
        payload = guild_create_payload(self.state, guild, self._gateway.intents)
        self._gateway.dispatch("GUILD_CREATE", payload, intent=GUILDS)
        self._changes.notify()
        if self._gateway.connected:
            await self.flush_gateway()
