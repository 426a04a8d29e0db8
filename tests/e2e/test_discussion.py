"""/discuss, end to end: one discussion thread per server and episode, found or opened."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from bot.demo.feed_server import FeedServer
from discord_emulator import DiscordEmulator, InteractionResult, Member, Permission
from discord_emulator.state import Channel
from tests.e2e.conftest import FEED, Server, StartBot, configure

EPISODE_59 = "Episode 59: How to fool a smart camera with deep learning"
EPISODE_90 = "The dark side of AI: recommend and manipulate (Ep. 90)"


@pytest.fixture(autouse=True)
def nothing_refused(discord: DiscordEmulator) -> Iterator[None]:
    """Discord refused nothing the bot sent; looking up a deleted thread (404) is how it checks."""
    yield
    assert [error for error in discord.api_errors() if (error.method, error.code) != ("GET", 10003)] == []


async def discuss(discord: DiscordEmulator, member: Member, channel: Channel, n: int) -> InteractionResult:
    return await discord.run_command(member, channel, "discuss", n=n)


async def test_discuss_opens_a_thread_once_and_links_it_afterwards(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    general = server.guild.general
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        opened = await discuss(discord, server.listener, general, 59)
        again = await discuss(discord, server.moderator, general, 59)
    (thread,) = discord.threads(general)
    assert thread.name == EPISODE_59
    assert opened.ephemeral
    assert opened.content == f"I opened a discussion thread for **{EPISODE_59}**: <#{thread.id}>"
    assert again.content == f"The discussion of **{EPISODE_59}** is here: <#{thread.id}>"
    (card,) = discord.messages(general)
    assert card["embeds"][0]["title"] == EPISODE_59
    assert card["thread"]["id"] == str(thread.id)
    assert f"<@{server.listener.id}>" in card["content"]
    assert card["mentions"] == []


async def test_two_people_asking_at_once_get_the_same_single_thread(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    general = server.guild.general
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        first, second = await asyncio.gather(
            discuss(discord, server.listener, general, 59), discuss(discord, server.moderator, general, 59)
        )
    (thread,) = discord.threads(general)
    assert len(discord.messages(general)) == 1
    assert {first.content[-len(f"<#{thread.id}>") :], second.content[-len(f"<#{thread.id}>") :]} == {
        f"<#{thread.id}>"
    }
    assert sorted(["opened" in first.content, "opened" in second.content]) == [False, True]


async def test_discuss_links_the_thread_of_an_announcement(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        await discord.run_command(server.moderator, server.guild.general, "config threads", enabled=True)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        result = await discuss(discord, server.listener, server.guild.general, 90)
    announcement_thread = next(t for t in discord.threads(server.episodes_channel) if t.name == EPISODE_90)
    assert result.content == f"The discussion of **{EPISODE_90}** is here: <#{announcement_thread.id}>"
    assert discord.threads(server.guild.general) == []
    assert discord.messages(server.guild.general) == []


async def test_a_deleted_thread_is_replaced_by_a_new_one(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    general = server.guild.general
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await discuss(discord, server.listener, general, 59)
        (old,) = discord.threads(general)
        discord.delete_channel(old)
        await discord.flush_gateway()
        result = await discuss(discord, server.listener, general, 59)
    (new,) = discord.threads(general)
    assert new.id != old.id
    assert [error.path for error in discord.api_errors(code=10003)] == [f"/channels/{old.id}"]
    assert result.content == f"I opened a discussion thread for **{EPISODE_59}**: <#{new.id}>"


async def test_discuss_inside_a_thread_opens_it_in_the_announcement_channel(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    chat = discord.add_thread(server.guild.general, "off-topic chat")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        result = await discuss(discord, server.listener, chat, 59)
    (thread,) = discord.threads(server.episodes_channel)
    assert result.content.endswith(f"<#{thread.id}>")
    assert discord.messages(chat) == []


async def test_discuss_with_a_forum_for_announcements_opens_a_forum_post(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    forum = discord.add_channel(server.guild, "episodes-forum", type="forum")
    voice = discord.add_channel(server.guild, "podcast-corner", type="voice")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await discord.run_command(server.moderator, server.guild.general, "config channel set", channel=forum)
        result = await discuss(discord, server.listener, voice, 59)
    (post,) = discord.threads(forum)
    assert post.name == EPISODE_59
    assert result.content == f"I opened a discussion thread for **{EPISODE_59}**: <#{post.id}>"
    (card,) = discord.messages(post)
    assert card["embeds"][0]["title"] == EPISODE_59


async def test_discuss_without_the_thread_permission_says_what_is_missing(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    general = server.guild.general
    discord.set_bot_channel_permissions(general, deny=Permission.CREATE_PUBLIC_THREADS)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await discuss(discord, server.listener, general, 59)
    assert result.ephemeral
    assert result.content == (
        f"I can't open a discussion thread in <#{general.id}>: I lack the Create Public Threads permission "
        "there. A moderator can grant it to my role in the channel settings."
    )
    assert discord.messages(general) == []
    assert discord.threads(general) == []


async def test_discuss_of_a_number_that_does_not_exist_opens_nothing(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await discuss(discord, server.listener, server.guild.general, 999)
    assert result.content.startswith("There is no episode #999")
    assert discord.messages(server.guild.general) == []


def read_only_channel(discord: DiscordEmulator, server: Server) -> Channel:
    """A channel the listener may read and chat in threads of, but not post in."""
    return discord.add_channel(
        server.guild, "read-only", overwrites={server.listener: (0, Permission.SEND_MESSAGES)}
    )


async def test_discuss_in_a_channel_the_member_may_not_post_in_posts_nothing_for_them(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    readonly = read_only_channel(discord, server)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await discuss(discord, server.listener, readonly, 59)
    assert result.ephemeral
    assert result.content == (
        f"You can't post in <#{readonly.id}>, so I won't open a discussion thread for you."
    )
    assert discord.messages(readonly) == []
    assert discord.threads(readonly) == []


async def test_discuss_in_a_channel_the_member_may_not_post_in_opens_it_in_the_announcement_channel(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    readonly = read_only_channel(discord, server)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        result = await discuss(discord, server.listener, readonly, 59)
    (thread,) = discord.threads(server.episodes_channel)
    assert result.content == f"I opened a discussion thread for **{EPISODE_59}**: <#{thread.id}>"
    assert discord.messages(readonly) == []


async def test_discuss_in_a_channel_the_member_may_not_post_in_still_links_an_existing_thread(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    readonly = read_only_channel(discord, server)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await discuss(discord, server.listener, server.guild.general, 59)
        result = await discuss(discord, server.listener, readonly, 59)
    (thread,) = discord.threads(server.guild.general)
    assert result.content == f"The discussion of **{EPISODE_59}** is here: <#{thread.id}>"
    assert discord.messages(readonly) == []
