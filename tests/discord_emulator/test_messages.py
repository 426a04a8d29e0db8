"""Message nonces and allowed-mentions defaults, as resources/message.mdx describes them, and message
content read through the REST API without the MESSAGE_CONTENT intent (events/gateway.mdx)."""

from __future__ import annotations

import discord
import pytest

from discord_emulator import MESSAGE_CONTENT, DiscordEmulator, Permission
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import MiniBot

pytestmark = pytest.mark.timeout(15)


def channel_of(bot: MiniBot, server: Server) -> discord.PartialMessageable:
    return bot.get_partial_messageable(server.guild.general.id)


# ------------------------------------------------------------------------------------ nonces
async def test_a_nonce_over_25_characters_is_an_invalid_form_body(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # Create Message: nonce "integer or string ... (up to 25 characters)". The error shape is what
    # Discord sends; the docs do not give it.
    with pytest.raises(discord.HTTPException) as raised:
        await channel_of(bot, server).send("hi", nonce="n" * 26)
    await channel_of(bot, server).send("fine", nonce="n" * 25)
    await channel_of(bot, server).send("an integer too", nonce=2**60)

    assert (raised.value.status, raised.value.code) == (400, 50035)
    (error,) = emulator.api_errors(code=50035)
    too_long = {"code": "NONCE_TYPE_TOO_LONG", "message": "Must be 25 or fewer characters long."}
    assert error.errors == {"nonce": {"_errors": [too_long]}}
    assert [m["content"] for m in emulator.messages(server.guild.general)] == ["fine", "an integer too"]


async def test_enforce_nonce_deduplicates_only_within_five_minutes(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # enforce_nonce: "checked for uniqueness in the past few minutes"; the emulator's window is 5.
    channel = channel_of(bot, server)
    first = await channel.send("new episode!", nonce="ep-42")
    again = await channel.send("new episode!", nonce="ep-42")
    await emulator.advance(5 * 60 + 1)
    later = await channel.send("new episode!", nonce="ep-42")

    assert again.id == first.id
    assert later.id != first.id
    assert [m["content"] for m in emulator.messages(server.guild.general)] == ["new episode!"] * 2


async def test_a_reused_nonce_of_a_deleted_message_is_not_found(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # discord.py's send() documents NotFound for "a message with the same nonce as one that has been
    # explicitly deleted shortly earlier".
    channel = channel_of(bot, server)
    sent = await channel.send("oops", nonce="ep-43")
    await sent.delete()

    with pytest.raises(discord.NotFound) as raised:
        await channel.send("oops", nonce="ep-43")

    assert raised.value.code == 10008
    assert emulator.messages(server.guild.general) == []


async def test_only_the_create_response_and_message_create_carry_the_nonce(
    emulator: DiscordEmulator, server: Server
) -> None:
    intents = discord.Intents(guilds=True, guild_messages=True)
    async with emulator.run_bot(MiniBot(intents=intents)) as bot:
        sent = await channel_of(bot, server).send("with a nonce", nonce="abc")
        await emulator.flush_gateway()
        fetched = await channel_of(bot, server).fetch_message(sent.id)
        history = [message async for message in bot.get_partial_messageable(sent.channel.id).history()]

    (event,) = bot.seen_messages
    assert (sent.nonce, event.nonce) == ("abc", "abc")
    assert fetched.nonce is None
    assert [message.nonce for message in history] == [None]
    assert "nonce" not in emulator.message(sent.id)


# --------------------------------------------------------------------------- allowed mentions
async def test_without_allowed_mentions_channel_messages_parse_everything_and_interactions_only_users(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # resources/message.mdx, "Default Settings for Allowed Mentions": "In regular messages, all mention
    # types are parsed ... In interactions and webhooks, only user mentions are parsed".
    guild = server.guild
    emulator.set_bot_permissions(
        guild, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.MENTION_EVERYONE
    )
    listeners = emulator.add_role(guild, "Listeners", mentionable=True)
    content = f"{server.alice.mention} {listeners.mention} @everyone"

    regular = await channel_of(bot, server).send(content)
    result = await emulator.run_command(server.alice, guild.general, "say", text=content, settle=0.5)

    def pinged(message_id: int | str) -> tuple[list[str], list[str], bool]:
        stored = emulator.message(int(message_id))
        return [u["id"] for u in stored["mentions"]], stored["mention_roles"], stored["mention_everyone"]

    alice, role = str(server.alice.id), str(listeners.id)
    assert "allowed_mentions" not in emulator.requests_to("POST", "/channels/*/messages")[0].json
    assert pinged(regular.id) == ([alice], [role], True)
    assert result.message is not None
    assert pinged(result.message["id"]) == ([alice], [], False)
    (followup,) = result.followups
    assert pinged(followup["id"]) == ([alice], [], False)


# ---------------------------------------------------------------------------- message content
async def read_back(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> list[str]:
    """alice's message, alice's message mentioning the bot and the bot's own, read through the API."""
    channel = channel_of(bot, server)
    plain = emulator.post_message(server.alice, server.guild.general, "hello")
    emulator.post_message(server.alice, server.guild.general, f"hey {emulator.bot_user.mention}")
    await channel.send("the bot's own")
    fetched = await channel.fetch_message(int(plain["id"]))
    history = [message.content async for message in channel.history(oldest_first=True)]
    return [fetched.content, *history]


async def test_the_api_blanks_others_messages_without_the_message_content_intent(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # events/gateway.mdx, "Message Content Intent": it "permits your app to receive message content
    # data across the APIs"; without it apps "receive empty values" except in "messages that an app
    # sends", "DMs with the app" and content "in which the app is mentioned".
    mention = f"hey {emulator.bot_user.mention}"

    assert await read_back(emulator, server, bot) == ["", "", mention, "the bot's own"]


@pytest.mark.parametrize("emulator_options", [{"allowed_privileged_intents": MESSAGE_CONTENT}])
async def test_the_api_shows_every_message_with_the_message_content_intent_switched_on(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    mention = f"hey {emulator.bot_user.mention}"

    assert await read_back(emulator, server, bot) == ["hello", "hello", mention, "the bot's own"]
