"""discord.py REST calls against the emulator: validation, permissions, nonces, mentions, faults, threads."""

from __future__ import annotations

import io
import time

import aiohttp
import discord
import pytest

from discord_emulator import DiscordEmulator, Permission
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import MiniBot

pytestmark = pytest.mark.timeout(15)


def text_channel(bot: MiniBot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_content_over_2000_characters_raises_invalid_form_body(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    channel = text_channel(bot, server.guild.general.id)

    with pytest.raises(discord.HTTPException) as raised:
        await channel.send("x" * 2001)

    assert (raised.value.status, raised.value.code) == (400, 50035)
    assert "content" in raised.value.text
    assert "Must be 2000 or fewer in length." in raised.value.text
    assert emulator.messages(server.guild.general) == []


async def test_embed_limits_are_enforced_per_field(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    channel = text_channel(bot, server.guild.general.id)
    card = discord.Embed(title="t" * 257, description="fine")
    card.add_field(name="n", value="v" * 1025)

    with pytest.raises(discord.HTTPException) as raised:
        await channel.send(embed=card)

    (error,) = emulator.api_errors(code=50035)
    assert error.errors == {
        "embeds": {
            "0": {
                "title": {
                    "_errors": [
                        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}
                    ]
                },
                "fields": {
                    "0": {
                        "value": {
                            "_errors": [
                                {
                                    "code": "BASE_TYPE_MAX_LENGTH",
                                    "message": "Must be 1024 or fewer in length.",
                                }
                            ]
                        }
                    }
                },
            }
        }
    }
    assert raised.value.code == 50035


async def test_empty_message_is_refused(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    channel = text_channel(bot, server.guild.general.id)

    with pytest.raises(discord.HTTPException) as raised:
        await channel.send(content="")

    assert (raised.value.code, raised.value.text) == (50006, "Cannot send an empty message")


async def test_missing_send_permission_is_forbidden(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    general = server.guild.general
    emulator.set_channel_permissions(
        general, emulator.bot_member(server.guild), deny=Permission.SEND_MESSAGES
    )
    await emulator.flush_gateway()
    channel = text_channel(bot, general.id)

    with pytest.raises(discord.Forbidden) as raised:
        await channel.send("hello")

    assert (raised.value.status, raised.value.code, raised.value.text) == (403, 50013, "Missing Permissions")
    assert not channel.permissions_for(channel.guild.me).send_messages  # the bot saw CHANNEL_UPDATE


async def test_embed_without_embed_links_is_forbidden(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    guild = server.guild
    emulator.set_bot_permissions(guild, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
    emulator.set_channel_permissions(guild.general, guild.everyone, deny=Permission.EMBED_LINKS)
    channel = text_channel(bot, guild.general.id)

    with pytest.raises(discord.Forbidden) as raised:
        await channel.send(embed=discord.Embed(title="no"))
    await channel.send("text is still fine")
    # A role overwrite is applied after @everyone's, so allowing the bot's role wins.
    assert guild.bot_role is not None
    emulator.set_channel_permissions(guild.general, guild.bot_role, allow=Permission.EMBED_LINKS)
    await channel.send(embed=discord.Embed(title="yes"))

    assert raised.value.code == 50013
    assert [m["content"] for m in emulator.messages(guild.general)] == ["text is still fine", ""]
    (embed,) = emulator.messages(guild.general)[1]["embeds"]
    assert (embed["title"], embed["type"]) == ("yes", "rich")


async def test_hidden_channel_is_missing_access(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    secret = emulator.add_channel(
        server.guild, "mods", overwrites={server.guild.everyone: (0, Permission.VIEW_CHANNEL)}
    )

    with pytest.raises(discord.Forbidden) as raised:
        await bot.get_partial_messageable(secret.id).send("hi")

    assert raised.value.code == 50001


async def test_unknown_channel_is_not_found(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    with pytest.raises(discord.NotFound) as raised:
        await bot.get_partial_messageable(123456789012345678).send("anyone?")

    assert (raised.value.status, raised.value.code, raised.value.text) == (404, 10003, "Unknown Channel")


async def test_unknown_message_is_not_found(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    channel = text_channel(bot, server.guild.general.id)

    with pytest.raises(discord.NotFound) as raised:
        await channel.fetch_message(123456789012345678)

    assert raised.value.code == 10008


async def test_enforced_nonce_returns_the_first_message(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    channel = text_channel(bot, server.guild.general.id)

    first = await channel.send("new episode!", nonce=4242)
    second = await channel.send("new episode!", nonce=4242)

    assert first.id == second.id
    assert len(emulator.requests_to("POST", "/channels/*/messages")) == 2
    assert [m["content"] for m in emulator.messages(server.guild.general)] == ["new episode!"]
    assert emulator.requests_to("POST", "/channels/*/messages")[0].json["enforce_nonce"] is True


async def test_allowed_mentions_decide_who_is_pinged(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    guild = server.guild
    listeners = emulator.add_role(guild, "Listeners", mentionable=True)
    channel = text_channel(bot, guild.general.id)
    content = f"{server.alice.mention} {listeners.mention} @everyone new episode"

    everything = await channel.send(content)
    only_roles = await channel.send(
        content, allowed_mentions=discord.AllowedMentions(everyone=False, users=False)
    )
    nobody = await channel.send(content, allowed_mentions=discord.AllowedMentions.none())
    emulator.set_bot_permissions(
        guild, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.MENTION_EVERYONE
    )
    with_permission = await channel.send(content)

    def pinged(message: discord.Message) -> tuple[list[str], list[str], bool]:
        stored = emulator.message(message.id)
        return [u["id"] for u in stored["mentions"]], stored["mention_roles"], stored["mention_everyone"]

    alice, role = str(server.alice.id), str(listeners.id)
    assert pinged(everything) == ([alice], [role], False)  # the bot lacks MENTION_EVERYONE
    assert pinged(only_roles) == ([], [role], False)
    assert pinged(nobody) == ([], [], False)
    assert pinged(with_permission) == ([alice], [role], True)
    assert everything.mentions[0].id == server.alice.id  # discord.py parsed the same payload


@pytest.mark.parametrize("is_global", [False, True])
async def test_rate_limit_is_waited_out_and_retried(
    emulator: DiscordEmulator, server: Server, bot: MiniBot, is_global: bool
) -> None:
    fault = emulator.fail_next("POST", "/channels/*/messages", status=429, retry_after=0.3, global_=is_global)
    channel = text_channel(bot, server.guild.general.id)

    started = time.monotonic()
    await channel.send("patience")
    elapsed = time.monotonic() - started

    attempts = emulator.requests_to("POST", "/channels/*/messages")
    assert [attempt.status for attempt in attempts] == [429, 200]
    assert attempts[0].response["message"] == "You are being rate limited."
    assert attempts[0].response["retry_after"] == 0.3
    assert attempts[0].response["global"] is is_global
    assert elapsed >= 0.3
    assert len(fault.hits) == 1
    assert [m["content"] for m in emulator.messages(server.guild.general)] == ["patience"]


async def test_server_error_is_retried(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    emulator.fail_next("POST", "/channels/*/messages", status=500)
    channel = text_channel(bot, server.guild.general.id)

    await channel.send("second time lucky")

    attempts = emulator.requests_to("POST", "/channels/*/messages")
    assert [attempt.status for attempt in attempts] == [500, 200]
    assert len(emulator.messages(server.guild.general)) == 1


async def test_cleared_faults_do_not_strike(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    planned = emulator.fail_next("POST", "/channels/*/messages", status=503, count=3)
    emulator.clear_faults()

    await text_channel(bot, server.guild.general.id).send("fine")

    assert planned.hits == []
    assert len(emulator.messages(server.guild.general)) == 1


async def test_unretried_server_error_and_slow_responses(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    emulator.fail_next("POST", "/channels/*/messages", status=503)
    emulator.delay_next("GET", "/channels/*", 0.3)
    channel = text_channel(bot, server.guild.general.id)

    with pytest.raises(discord.DiscordServerError) as raised:
        await channel.send("down")
    started = time.monotonic()
    fetched = await bot.fetch_channel(server.guild.general.id)

    assert raised.value.status == 503
    assert fetched.id == server.guild.general.id
    assert time.monotonic() - started >= 0.3


async def test_unsupported_routes_are_reported(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    route = discord.http.Route("GET", "/guilds/{guild_id}/bans", guild_id=server.guild.id)

    with pytest.raises(discord.NotFound):
        await bot.http.request(route)

    assert emulator.unsupported_requests == [f"GET /guilds/{server.guild.id}/bans"]
    with pytest.raises(AssertionError, match="does not implement"):
        emulator.check()
    emulator.unsupported_requests.clear()  # so the fixture's own check passes


async def test_every_response_has_rate_limit_headers_and_auth_is_required(emulator: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{emulator.api_base}/users/@me") as anonymous:
            anonymous_body = await anonymous.json()
        headers = {"Authorization": f"Bot {emulator.token}"}
        async with session.get(f"{emulator.api_base}/users/@me", headers=headers) as authorised:
            me = await authorised.json()

    assert (anonymous.status, anonymous_body) == (401, {"message": "401: Unauthorized", "code": 0})
    assert authorised.headers["Content-Type"] == "application/json"
    for response in (anonymous, authorised):
        for name in (
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "X-RateLimit-Reset-After",
        ):
            assert name in response.headers
        assert len(response.headers["X-RateLimit-Bucket"]) == 32
    assert me["id"] == str(emulator.bot_user_id)
    assert me["bot"] is True


async def test_thread_from_message_and_forum_post(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    forum = emulator.add_channel(server.guild, "episodes", type="forum", tags=["news"])
    await emulator.flush_gateway()
    channel = text_channel(bot, server.guild.general.id)
    forum_channel = bot.get_channel(forum.id)
    assert isinstance(forum_channel, discord.ForumChannel)

    message = await channel.send("Episode 1 is out")
    thread = await message.create_thread(name="Episode 1 discussion")
    post = await forum_channel.create_thread(
        name="Episode 2", content="Listen now", applied_tags=[forum_channel.available_tags[0]]
    )
    await emulator.flush_gateway()

    assert thread.id == message.id
    assert thread.parent_id == server.guild.general.id
    assert emulator.message(message.id)["thread"]["name"] == "Episode 1 discussion"
    assert post.thread.id == post.message.id
    assert [m["content"] for m in emulator.messages(emulator.threads(forum)[0])] == ["Listen now"]
    assert emulator.threads(forum)[0].applied_tags == [forum_channel.available_tags[0].id]
    assert bot.get_channel(thread.id) is not None
    with pytest.raises(discord.HTTPException) as again:
        await message.create_thread(name="twice")
    assert again.value.code == 160004


async def test_thread_permissions_are_checked(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    general = server.guild.general
    channel = text_channel(bot, general.id)
    message = await channel.send("Episode 3 is out")
    thread = await message.create_thread(name="Episode 3")
    emulator.set_bot_channel_permissions(
        general, deny=Permission.SEND_MESSAGES_IN_THREADS | Permission.CREATE_PUBLIC_THREADS
    )
    await emulator.flush_gateway()
    second = await channel.send("Episode 4 is out")  # SEND_MESSAGES itself is untouched

    with pytest.raises(discord.Forbidden) as no_thread:
        await second.create_thread(name="Episode 4")
    with pytest.raises(discord.Forbidden) as no_post:
        await thread.send("first!")

    assert (no_thread.value.code, no_post.value.code) == (50013, 50013)
    assert emulator.threads(general) == [emulator.state.channels[thread.id]]
    assert emulator.messages(thread.id) == []


async def test_uploaded_files_become_attachments(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    channel = text_channel(bot, server.guild.general.id)

    sent = await channel.send("notes", file=discord.File(io.BytesIO(b"show notes"), filename="notes.txt"))

    (request,) = emulator.requests_to("POST", "/channels/*/messages")
    assert request.json["content"] == "notes"
    assert [(f.field_name, f.filename, f.data) for f in request.files] == [
        ("files[0]", "notes.txt", b"show notes")
    ]
    assert sent.attachments[0].filename == "notes.txt"
    assert await sent.attachments[0].read() == b"show notes"


async def test_edit_and_delete_messages(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    channel = text_channel(bot, server.guild.general.id)
    message = await channel.send("draft")

    edited = await message.edit(content="final")
    stored = emulator.message(message.id)
    await message.delete()

    assert edited.content == "final"
    assert stored["edited_timestamp"] is not None
    assert emulator.messages(server.guild.general) == []
    assert emulator.message(message.id)["deleted"] is True
