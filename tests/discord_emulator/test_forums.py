"""Forum channels: required and moderated tags, and no messages sent to the forum itself
(resources/channel.mdx, topics/threads.mdx, topics/opcodes-and-status-codes.mdx)."""

from __future__ import annotations

import discord
import pytest

from discord_emulator import DEFAULT_BOT_PERMISSIONS, Channel, DiscordEmulator, Permission
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import MiniBot

pytestmark = pytest.mark.timeout(15)


async def forum_of(emulator: DiscordEmulator, bot: MiniBot, forum: Channel) -> discord.ForumChannel:
    await emulator.flush_gateway()
    channel = bot.get_channel(forum.id)
    assert isinstance(channel, discord.ForumChannel)
    return channel


async def test_require_tag_is_a_channel_flag_and_a_post_without_a_tag_is_refused(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # REQUIRE_TAG = 1 << 4 (resources/channel.mdx, "Channel Flags"); 40067 "A tag is required to
    # create a forum post in this channel" (opcodes-and-status-codes.mdx).
    forum = emulator.add_channel(server.guild, "episodes", type="forum", tags=["news"], require_tag=True)
    channel = await forum_of(emulator, bot, forum)

    with pytest.raises(discord.HTTPException) as raised:
        await channel.create_thread(name="Episode 1", content="Listen now")
    post = await channel.create_thread(
        name="Episode 1", content="Listen now", applied_tags=channel.available_tags
    )

    assert channel.flags.require_tag
    assert (await bot.fetch_channel(forum.id)).flags.require_tag  # type: ignore[union-attr]
    assert (raised.value.status, raised.value.code) == (400, 40067)
    assert raised.value.text == "A tag is required to create a forum post in this channel"
    assert [thread.id for thread in emulator.threads(forum)] == [post.thread.id]


async def test_at_most_five_tags(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    # applied_tags is "limited to 5" (resources/channel.mdx, Modify Channel, thread parameters).
    forum = emulator.add_channel(server.guild, "episodes", type="forum", tags=[f"t{n}" for n in range(6)])
    channel = await forum_of(emulator, bot, forum)

    with pytest.raises(discord.HTTPException) as raised:
        await channel.create_thread(name="Too tagged", content="x", applied_tags=channel.available_tags)

    assert raised.value.code == 50035
    assert "applied_tags" in raised.value.text
    assert emulator.threads(forum) == []


async def test_a_moderated_tag_needs_manage_threads(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # Forum tag "moderated": "can only be added to or removed from threads by a member with the
    # MANAGE_THREADS permission" (resources/channel.mdx, Forum Tag object).
    forum = emulator.add_channel(server.guild, "episodes", type="forum", moderated_tags=["official"])
    channel = await forum_of(emulator, bot, forum)
    (official,) = channel.available_tags

    with pytest.raises(discord.Forbidden) as raised:
        await channel.create_thread(name="Episode 1", content="x", applied_tags=[official])
    emulator.set_bot_permissions(server.guild, DEFAULT_BOT_PERMISSIONS | Permission.MANAGE_THREADS)
    post = await channel.create_thread(name="Episode 1", content="x", applied_tags=[official])

    assert official.moderated
    assert raised.value.code == 50013
    assert post.thread.applied_tags == [official]


async def test_sending_to_the_forum_itself_is_40058(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # "Messages cannot be sent directly in forum channels" (topics/threads.mdx); code 40058.
    forum = emulator.add_channel(server.guild, "episodes", type="forum")

    with pytest.raises(discord.HTTPException) as raised:
        await bot.get_partial_messageable(forum.id).send("hello forum")

    assert (raised.value.status, raised.value.code) == (400, 40058)
    assert raised.value.text == "Cannot send a message in a forum channel"
