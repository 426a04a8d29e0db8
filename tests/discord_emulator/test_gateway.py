"""The gateway: READY and GUILD_CREATE, events, RESUME with replay, re-IDENTIFY, intents, compression."""

from __future__ import annotations

import discord
import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from discord_emulator import GUILD_MEMBERS, DiscordEmulator, Permission
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import MiniBot

pytestmark = pytest.mark.timeout(15)


async def test_transport_is_zlib_stream_json_v10(emulator: DiscordEmulator, bot: MiniBot) -> None:
    assert emulator.gateway_connections == [{"v": "10", "encoding": "json", "compress": "zlib-stream"}]
    assert emulator.identify_count == 1
    assert bot.ws is not None
    assert bot.ws.session_id is not None


async def test_dropped_connection_resumes_and_replays_missed_events(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    await emulator.drop_gateway(4000, outage=0.3)
    missed = emulator.add_channel(server.guild, "while-away")
    await emulator.wait_for(lambda: emulator.resume_count == 1 and emulator.connected)
    await emulator.flush_gateway()

    assert emulator.replayed_events >= 1
    assert emulator.identify_count == 1
    assert bot.get_channel(missed.id) is not None
    result = await emulator.run_command(server.alice, server.guild.general, "ping")
    assert result.content == "pong"


async def test_refused_resume_makes_the_bot_identify_again(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    await emulator.advance(5)  # one IDENTIFY per 5 s (max_concurrency 1): the first was just now
    await emulator.drop_gateway(4000, resumable=False)
    await emulator.wait_until_ready()

    assert emulator.identify_count == 2
    assert emulator.resume_count == 0
    result = await emulator.run_command(server.alice, server.guild.general, "ping")
    assert result.content == "pong"


async def test_invalid_session_and_reconnect_opcodes(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    emulator.request_reconnect()
    await emulator.wait_for(lambda: emulator.resume_count == 1 and emulator.connected)
    await emulator.advance(5)  # so that the new IDENTIFY is not refused as too soon
    emulator.invalidate_session(resumable=False)
    await emulator.wait_for(lambda: emulator.identify_count == 2)
    await emulator.wait_until_ready()

    result = await emulator.run_command(server.alice, server.guild.general, "ping")
    assert result.content == "pong"


async def test_state_changes_reach_the_bot_cache(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    guild = server.guild
    await bot.wait_until_ready()  # a guild joined before on_ready is reported as available, not joined
    announcements = emulator.add_channel(guild, "announcements", type="announcement")
    emulator.delete_channel(guild.general)
    assert guild.bot_role is not None
    emulator.edit_role(guild.bot_role, permissions=Permission.ADMINISTRATOR)
    second = emulator.add_guild("Second server")
    await emulator.flush_gateway()

    cached = bot.get_guild(guild.id)
    assert cached is not None
    assert [channel.name for channel in cached.channels] == ["announcements"]
    assert isinstance(bot.get_channel(announcements.id), discord.TextChannel)
    assert cached.me.guild_permissions.administrator
    assert bot.get_guild(second.id) is not None
    assert bot.joined_guilds == [second.id]

    emulator.remove_guild(guild)
    await emulator.flush_gateway()

    assert bot.get_guild(guild.id) is None
    assert bot.removed_guilds == [guild.id]
    with pytest.raises(discord.Forbidden):
        await bot.get_partial_messageable(announcements.id).send("still here?")


async def test_member_messages_respect_the_message_content_intent(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    emulator.post_message(server.alice, server.guild.general, "hello bot")
    emulator.post_message(server.alice, server.guild.general, f"hey {emulator.bot_user.mention}")
    await emulator.flush_gateway()

    # The bot asked for guilds only: without GUILD_MESSAGES it gets no MESSAGE_CREATE at all.
    assert bot.seen_messages == []
    assert next(m["content"] for m in emulator.messages(server.guild.general)) == "hello bot"


async def test_message_events_blank_content_without_the_privileged_intent(
    emulator: DiscordEmulator, server: Server
) -> None:
    intents = discord.Intents(guilds=True, guild_messages=True)
    async with emulator.run_bot(MiniBot(intents=intents)) as bot:
        emulator.post_message(server.alice, server.guild.general, "hello bot")
        emulator.post_message(server.alice, server.guild.general, f"hey {emulator.bot_user.mention}")
        await emulator.flush_gateway()

        assert [message.content for message in bot.seen_messages] == ["", f"hey {emulator.bot_user.mention}"]
        assert bot.seen_messages[1].mentions[0].id == emulator.bot_user_id


async def test_a_reply_mentioning_the_bot_does_not_reveal_the_message_it_quotes(
    emulator: DiscordEmulator, server: Server
) -> None:
    # events/gateway.mdx, "Message Content Intent": the exemption is for "Content in which the app is
    # mentioned"; the quoted message (referenced_message, a message object) did not mention it.
    intents = discord.Intents(guilds=True, guild_messages=True)
    async with emulator.run_bot(MiniBot(intents=intents)) as bot:
        plan = emulator.post_message(server.alice, server.guild.general, "the secret plan")
        emulator.post_message(
            server.alice, server.guild.general, f"{emulator.bot_user.mention} look", reply_to=plan
        )
        await emulator.flush_gateway()

        reply = bot.seen_messages[-1]
        assert reply.content == f"{emulator.bot_user.mention} look"
        assert reply.reference is not None
        assert isinstance(reply.reference.resolved, discord.Message)
        assert reply.reference.resolved.content == ""


async def test_no_message_events_from_a_channel_the_bot_cannot_see(
    emulator: DiscordEmulator, server: Server
) -> None:
    # topics/permissions.mdx: VIEW_CHANNEL "Allows guild members to view a channel, which includes
    # reading messages in text channels"; topics/threads.mdx: "Clients will not be informed of a
    # thread through the gateway if they do not have permission to view that thread".
    moderators = emulator.add_channel(server.guild, "moderators")
    emulator.set_bot_channel_permissions(moderators, deny=Permission.VIEW_CHANNEL)
    intents = discord.Intents(guilds=True, guild_messages=True)
    async with emulator.run_bot(MiniBot(intents=intents)) as bot:
        emulator.post_message(server.alice, moderators, f"{emulator.bot_user.mention} private")
        emulator.post_message(server.alice, server.guild.general, f"{emulator.bot_user.mention} public")
        await emulator.flush_gateway()

        assert [message.channel.id for message in bot.seen_messages] == [server.guild.general.id]


# The members intent is privileged: this application has it switched on in the portal.
@pytest.mark.parametrize("emulator_options", [{"allowed_privileged_intents": GUILD_MEMBERS}])
async def test_members_intent_gets_member_chunks(emulator: DiscordEmulator, server: Server) -> None:
    intents = discord.Intents(guilds=True, members=True)
    async with emulator.run_bot(MiniBot(intents=intents)) as bot:
        await emulator.wait_for(
            lambda: bot.get_guild(server.guild.id) and bot.get_guild(server.guild.id).chunked
        )  # type: ignore[union-attr]
        guild = bot.get_guild(server.guild.id)
        assert guild is not None
        assert {member.name for member in guild.members} == {"owner", "alice", emulator.bot_user.username}
        newcomer = emulator.add_member(server.guild, "bob")
        await emulator.flush_gateway()
        assert guild.get_member(newcomer.id) is not None
    assert emulator.intents & GUILD_MEMBERS


async def test_privileged_intent_not_enabled_closes_with_4014(
    emulator: DiscordEmulator, server: Server
) -> None:
    bot = MiniBot(intents=discord.Intents(guilds=True, members=True))

    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with emulator.run_bot(bot):
            pass


async def test_wrong_token_is_a_login_failure(emulator: DiscordEmulator) -> None:
    with emulator.discord_py_pointed_here():
        async with MiniBot() as bot:
            with pytest.raises(discord.LoginFailure):
                await bot.start("not-the-token")

    assert emulator.requests[0].status == 401


async def test_run_bot_restores_the_previous_urls(emulator: DiscordEmulator) -> None:
    before = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    emulator.add_guild("Restore test")

    async with emulator.run_bot(MiniBot()):
        during = Route.BASE, str(DiscordWebSocket.DEFAULT_GATEWAY)

    assert during == (emulator.api_base, emulator.gateway_url)
    assert before == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    assert len(emulator.requests_to("PUT", "/applications/*/commands")) == 1


async def test_a_burst_of_commands_does_not_spend_the_bots_gateway_budget(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # discord.py answers Discord's heartbeat request (op 1) through its gateway rate limiter, which
    # allows 110 sends a minute (Discord's limit is 120, topics/gateway.mdx "Rate Limiting"), and
    # stalls its reading past it. Discord does not ask for heartbeats per interaction: neither may the
    # emulator, or 150 commands in a minute would freeze the bot.
    for _ in range(150):
        result = await emulator.run_command(server.alice, server.guild.general, "ping", settle=0)
        assert result.content == "pong"
    assert bot.ws is not None
    assert not bot.ws.is_ratelimited()
    channel = emulator.add_channel(server.guild, "made-just-now")
    result = await emulator.run_command(server.alice, channel, "ping", settle=0)
    assert result.content == "pong"  # the interaction came after the channel's event: it is known
