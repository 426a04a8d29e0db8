"""Gateway limits from developers/events/gateway.mdx: heartbeat deadline, identify pacing, the session
start limit, privileged intents, and guild outages."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from discord_emulator import GUILD_MEMBERS, GUILDS, MESSAGE_CONTENT, DiscordEmulator
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import MiniBot

pytestmark = pytest.mark.timeout(15)

JSON = dict[str, Any]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class RawGateway:
    """A hand-written gateway client, for what discord.py hides (it heartbeats on time, paces
    IDENTIFY and never exhausts its session starts)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seq: int | None = None

    @classmethod
    async def connect(cls, http: aiohttp.ClientSession, emulator: DiscordEmulator) -> RawGateway:
        return cls(await http.ws_connect(emulator.gateway_url + "?v=10&encoding=json"))

    async def receive(self) -> JSON:
        message = await self.ws.receive(timeout=5)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        payload: JSON = json.loads(message.data)
        if payload.get("s") is not None:
            self.seq = payload["s"]
        return payload

    async def hello(self) -> JSON:
        hello = await self.receive()
        assert hello["op"] == 10
        return hello

    async def identify(self, token: str, intents: int = GUILDS) -> JSON:
        properties = {"os": "linux", "browser": "test", "device": "test"}
        await self.ws.send_json(
            {"op": 2, "d": {"token": token, "intents": intents, "properties": properties}}
        )
        return await self.receive()

    async def closed_with(self) -> int | None:
        while not self.ws.closed:
            message = await self.ws.receive(timeout=5)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
                break
        return self.ws.close_code


async def test_hello_announces_discords_heartbeat_interval(
    emulator: DiscordEmulator, http: aiohttp.ClientSession
) -> None:
    gateway = await RawGateway.connect(http, emulator)

    hello = await gateway.hello()

    assert hello["d"] == {"heartbeat_interval": 41250}
    await gateway.ws.close()


# A 41.25 s interval would make this test wait 50 s; a short one shows the same deadline.
@pytest.mark.parametrize("emulator_options", [{"heartbeat_interval": 0.3, "heartbeat_tolerance": 0.1}])
async def test_a_missed_heartbeat_closes_with_4009_and_the_session_resumes(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    # "If your app fails to send a heartbeat event in time, your connection will be closed and you
    # will be forced to Resume" (events/gateway.mdx, "Sending Heartbeats").
    silent = await RawGateway.connect(http, emulator)
    await silent.hello()
    ready = await silent.identify(emulator.token)
    await silent.receive()  # GUILD_CREATE

    code = await silent.closed_with()
    again = await RawGateway.connect(http, emulator)
    await again.hello()
    resume = {"token": emulator.token, "session_id": ready["d"]["session_id"], "seq": silent.seq}
    await again.ws.send_json({"op": 6, "d": resume})
    resumed = await again.receive()
    await again.ws.close()

    assert code == 4009
    assert emulator.heartbeat_timeouts == 1
    assert (resumed["op"], resumed["t"]) == (0, "RESUMED")


# A short interval shows several heartbeats in two seconds; the tolerance leaves room for a loaded
# machine, since discord.py sends its heartbeats from a thread through the event loop.
@pytest.mark.parametrize("emulator_options", [{"heartbeat_interval": 0.3, "heartbeat_tolerance": 0.5}])
async def test_discord_py_heartbeats_in_time(emulator: DiscordEmulator, server: Server) -> None:
    async with emulator.run_bot(MiniBot()):
        with pytest.raises(TimeoutError):
            await emulator.wait_for(lambda: emulator.heartbeat_timeouts, timeout=2.0)

    assert emulator.resume_count == 0


async def test_one_identify_per_five_seconds(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    # "Apps also have a limit for concurrent Identify requests allowed per 5 seconds. If you hit this
    # limit, the Gateway will respond with an Invalid Session (opcode 9)" (events/gateway.mdx).
    first = await RawGateway.connect(http, emulator)
    await first.hello()
    second = await RawGateway.connect(http, emulator)
    await second.hello()

    ready = await first.identify(emulator.token)
    refused = await second.identify(emulator.token)
    await emulator.advance(5)
    accepted = await second.identify(emulator.token)

    assert ready["t"] == "READY"
    assert refused == {"op": 9, "d": False}
    assert emulator.refused_identifies == 1
    assert accepted["t"] == "READY"
    for gateway in (first, second):
        await gateway.ws.close()


# 1,000 session starts would take 85 minutes of identify pacing; two show the same limit.
@pytest.mark.parametrize("emulator_options", [{"session_start_limit": 2}])
async def test_used_up_session_starts_reset_the_token(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    # "Upon hitting this limit, all active sessions for the app will be terminated, the bot token will
    # be reset" (events/gateway.mdx, "Session Start Limit").
    old_token = emulator.token
    headers = {"Authorization": f"Bot {old_token}"}
    async with http.get(f"{emulator.api_base}/gateway/bot", headers=headers) as response:
        before = (await response.json())["session_start_limit"]
    for _ in range(2):
        gateway = await RawGateway.connect(http, emulator)
        await gateway.hello()
        assert (await gateway.identify(old_token))["t"] == "READY"
        await emulator.advance(5)
    async with http.get(f"{emulator.api_base}/gateway/bot", headers=headers) as response:
        used_up = (await response.json())["session_start_limit"]
    third = await RawGateway.connect(http, emulator)
    await third.hello()
    await third.ws.send_json({"op": 2, "d": {"token": old_token, "intents": GUILDS, "properties": {}}})
    code = await third.closed_with()
    async with http.get(f"{emulator.api_base}/users/@me", headers=headers) as response:
        old_token_status = response.status

    assert before == {"total": 2, "remaining": 2, "reset_after": 86_400_000, "max_concurrency": 1}
    assert used_up["remaining"] == 0
    assert 86_400_000 - 11_000 < used_up["reset_after"] < 86_400_000
    assert code == 4004
    assert emulator.token != old_token
    assert old_token_status == 401
    await gateway.ws.close()


async def test_privileged_intents_need_switching_on_and_ready_says_which_are(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    # gateway.mdx: a privileged intent not enabled in the app's settings closes the connection with
    # 4014; READY's application "flags" (resources/application.mdx) list the *_LIMITED intent flags.
    gateway = await RawGateway.connect(http, emulator)
    await gateway.hello()
    await gateway.ws.send_json(
        {"op": 2, "d": {"token": emulator.token, "intents": GUILDS | MESSAGE_CONTENT, "properties": {}}}
    )

    assert await gateway.closed_with() == 4014
    async with emulator.run_bot(MiniBot()) as bot:
        assert bot.application_flags.value == 0


@pytest.mark.parametrize(
    "emulator_options", [{"allowed_privileged_intents": GUILD_MEMBERS | MESSAGE_CONTENT}]
)
async def test_ready_reports_the_intents_switched_on(emulator: DiscordEmulator, server: Server) -> None:
    intents = discord.Intents(guilds=True, members=True, message_content=True)
    async with emulator.run_bot(MiniBot(intents=intents)) as bot:
        flags = bot.application_flags

    assert flags.gateway_guild_members_limited
    assert flags.gateway_message_content_limited
    assert not flags.gateway_presence_limited


async def test_an_outage_makes_the_guild_unavailable_until_it_ends(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # GUILD_DELETE with unavailable: true during an outage; GUILD_CREATE when it "becomes available
    # again" (events/gateway-events.mdx). discord.py needs "unavailable": false for on_guild_available.
    await bot.wait_until_ready()
    channel = bot.get_partial_messageable(server.guild.general.id)
    bot.available_guilds.clear()  # on_ready's own on_guild_available

    await emulator.outage(server.guild)
    cached = bot.get_guild(server.guild.id)
    unavailable_during = cached is not None and cached.unavailable
    with pytest.raises(discord.DiscordServerError) as down:
        await channel.send("anyone?")
    await emulator.end_outage(server.guild)
    await channel.send("back")

    assert bot.unavailable_guilds == [server.guild.id]
    assert unavailable_during  # discord.py keeps the guild cached, marked unavailable
    assert down.value.status == 503
    assert bot.available_guilds == [server.guild.id]
    assert bot.joined_guilds == []
    assert bot.get_guild(server.guild.id) is not None
    assert not bot.get_guild(server.guild.id).unavailable  # type: ignore[union-attr]
    assert [m["content"] for m in emulator.messages(server.guild.general)] == ["back"]


async def test_an_outage_can_answer_404_and_a_new_ready_lists_the_guild_unavailable(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    await emulator.outage(server.guild, rest_status=404)
    with pytest.raises(discord.NotFound) as missing:
        await bot.get_partial_messageable(server.guild.general.id).send("anyone?")
    await emulator.advance(5)  # identify pacing: the first IDENTIFY was just now
    await emulator.drop_gateway(resumable=False)
    await emulator.wait_until_ready()

    assert missing.value.code == 10003
    guild = bot.get_guild(server.guild.id)
    assert guild is not None
    assert guild.unavailable  # READY listed it; no GUILD_CREATE followed
    await emulator.end_outage(server.guild)
    assert bot.get_guild(server.guild.id).unavailable is False  # type: ignore[union-attr]
