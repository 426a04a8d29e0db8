"""AutoMod keyword rules (resources/auto-moderation.mdx) and the harmful-links filter; error codes
200000, 200001 and 240000 from topics/opcodes-and-status-codes.mdx."""

from __future__ import annotations

import discord
import pytest

from discord_emulator import DEFAULT_BOT_PERMISSIONS, DiscordEmulator, InteractionFailed, Permission
from discord_emulator.moderation import keyword_pattern
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import MiniBot

pytestmark = pytest.mark.timeout(15)


def general(bot: MiniBot, server: Server) -> discord.TextChannel:
    channel = bot.get_channel(server.guild.general.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


@pytest.mark.parametrize(
    ("keyword", "matches", "misses"),
    [
        # "Keyword Matching Strategies": whole word, prefix (cat*), suffix (*cat), anywhere (*cat*).
        ("cat", ["cat", "a CAT!", "the cat sat"], ["catch", "wildcat", "location"]),
        ("cat*", ["catch", "Catapult", "CAttLE"], ["wildcat", "location"]),
        ("*cat", ["wildcat", "copyCat"], ["catch", "location"]),
        ("*cat*", ["location", "eduCation", "cat"], ["dog"]),
        ("the mat", ["on the mat now"], ["the matrix"]),
    ],
)
def test_keywords_match_as_automod_documents(keyword: str, matches: list[str], misses: list[str]) -> None:
    pattern = keyword_pattern(keyword)

    assert [text for text in matches if pattern.search(text)] == matches
    assert [text for text in misses if pattern.search(text)] == []


async def test_a_keyword_in_content_or_embed_blocks_the_message(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    emulator.add_automod_rule(server.guild, ["spoiler"])
    channel = general(bot, server)

    with pytest.raises(discord.HTTPException) as in_content:
        await channel.send("SPOILER: the hosts agree")
    with pytest.raises(discord.HTTPException) as in_embed:
        await channel.send(embed=discord.Embed(title="Episode 9", description="Contains a spoiler"))
    await channel.send("spoilers ahead")  # a whole-word keyword does not match "spoilers"

    assert (in_content.value.status, in_content.value.code) == (400, 200000)
    assert in_content.value.text == "Message was blocked by automatic moderation"
    assert in_embed.value.code == 200000
    assert [m["content"] for m in emulator.messages(server.guild.general)] == ["spoilers ahead"]


async def test_managers_exempt_roles_and_exempt_channels_are_not_moderated(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    guild = server.guild
    quiet = emulator.add_channel(guild, "off-topic")
    emulator.add_automod_rule(guild, ["spoiler"], exempt_channels=[quiet])
    await emulator.flush_gateway()

    await bot.get_partial_messageable(quiet.id).send("spoiler in an exempt channel")
    with pytest.raises(discord.HTTPException):
        await general(bot, server).send("spoiler")
    assert guild.bot_role is not None
    emulator.add_automod_rule(guild, ["leak"], exempt_roles=[guild.bot_role])
    await general(bot, server).send("leak, but the bot's role is exempt from that rule")
    # "Members with the Manage Server or Administrator permission are exempt" (Discord's AutoMod FAQ).
    emulator.set_bot_permissions(guild, DEFAULT_BOT_PERMISSIONS | Permission.MANAGE_GUILD)
    await general(bot, server).send("spoiler from a server manager")

    assert [m["content"] for m in emulator.messages(guild.general)] == [
        "leak, but the bot's role is exempt from that rule",
        "spoiler from a server manager",
    ]


async def test_a_blocked_thread_or_forum_post_name_is_a_blocked_title(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    forum = emulator.add_channel(server.guild, "episodes", type="forum")
    emulator.add_automod_rule(server.guild, ["spoiler*"])
    await emulator.flush_gateway()
    message = await general(bot, server).send("Episode 9 is out")
    forum_channel = bot.get_channel(forum.id)
    assert isinstance(forum_channel, discord.ForumChannel)

    with pytest.raises(discord.HTTPException) as thread_name:
        await message.create_thread(name="Spoilers: episode 9")
    with pytest.raises(discord.HTTPException) as post_name:
        await forum_channel.create_thread(name="Spoilerific", content="fine")
    with pytest.raises(discord.HTTPException) as post_body:
        await forum_channel.create_thread(name="Episode 9", content="spoiler inside")

    assert (thread_name.value.status, thread_name.value.code) == (400, 200001)
    assert thread_name.value.text == "Title was blocked by automatic moderation"
    assert post_name.value.code == 200001
    assert post_body.value.code == 200000
    assert emulator.threads(server.guild.general) == []
    assert emulator.threads(forum) == []


async def test_interaction_responses_are_moderated_too(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # Interaction messages are checked like the bot's own ("Updating a message can result in a 400
    # response if the content of the message was blocked by AutoMod", change-log.mdx).
    emulator.add_automod_rule(server.guild, ["spoiler"])

    with pytest.raises(InteractionFailed) as failed:
        await emulator.run_command(server.alice, server.guild.general, "say", text="spoiler!")

    assert [error.code for error in failed.value.result.errors] == [200000]


async def test_harmful_links_are_blocked_in_content_embeds_and_link_buttons(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    emulator.block_links("evil.example")
    channel = general(bot, server)
    button = discord.ui.View()
    button.add_item(discord.ui.Button(label="Listen", url="https://cdn.evil.example/ep9"))

    blocked = []
    for attempt in (
        channel.send("listen at https://evil.example/ep9"),
        channel.send(embed=discord.Embed(title="Episode 9", url="https://www.evil.example/")),
        channel.send("listen", view=button),
    ):
        with pytest.raises(discord.HTTPException) as raised:
            await attempt
        blocked.append((raised.value.status, raised.value.code, raised.value.text))
    await channel.send("https://not-evil.example/ep9 is fine")

    assert blocked == [(400, 240000, "Message blocked by harmful links filter")] * 3
    assert [m["content"] for m in emulator.messages(server.guild.general)] == [
        "https://not-evil.example/ep9 is fine"
    ]
