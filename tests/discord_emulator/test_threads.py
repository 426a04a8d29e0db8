"""Threads as topics/threads.mdx describes them: auto-archiving on the clock, archived and locked
threads, SEND_MESSAGES_IN_THREADS, and the active and archived thread listings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import aiohttp
import discord
import pytest

from discord_emulator import DEFAULT_BOT_PERMISSIONS, Channel, CommandUsageError, DiscordEmulator, Permission
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import MiniBot

pytestmark = pytest.mark.timeout(15)


async def open_thread(
    emulator: DiscordEmulator, bot: MiniBot, server: Server, name: str, minutes: int = 60
) -> tuple[discord.Thread, Channel]:
    channel = bot.get_channel(server.guild.general.id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send(f"{name} is out")
    thread = await message.create_thread(name=name, auto_archive_duration=minutes)  # type: ignore[arg-type]
    await emulator.flush_gateway()
    return thread, emulator.state.channels[thread.id]


async def test_threads_archive_after_their_duration_without_activity(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # "Threads automatically archive after a period of inactivity"; "'Activity' is defined as sending
    # a message, unarchiving a thread, or changing the auto-archive time" (topics/threads.mdx).
    thread, stored = await open_thread(emulator, bot, server, "Episode 1")
    await emulator.advance(59 * 60)
    await thread.send("still talking")  # activity restarts the hour
    active_at = stored.last_activity
    await emulator.advance(59 * 60)
    still_active = not stored.archived
    await emulator.advance(60)
    await emulator.flush_gateway()

    assert still_active
    assert stored.archived
    assert active_at is not None
    assert stored.archive_timestamp == active_at + timedelta(minutes=60)
    (update,) = bot.thread_updates
    assert update.archived
    assert update.archive_timestamp == stored.archive_timestamp
    assert bot.get_channel(thread.id) is None  # discord.py drops archived threads from its cache


async def test_a_message_unarchives_an_archived_thread_unless_it_is_locked(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # "Sending a message will automatically unarchive the thread, unless the thread has been locked by
    # a moderator" (topics/threads.mdx).
    _, stored = await open_thread(emulator, bot, server, "Episode 2")
    _, locked = await open_thread(emulator, bot, server, "Episode 3")
    emulator.archive_thread(stored)
    emulator.archive_thread(locked, locked=True)
    await emulator.flush_gateway()

    await bot.get_partial_messageable(stored.id).send("back again")
    with pytest.raises(discord.HTTPException) as raised:
        await bot.get_partial_messageable(locked.id).send("let me in")
    await emulator.flush_gateway()

    assert not stored.archived
    assert bot.get_channel(stored.id) is not None  # THREAD_UPDATE brought it back into the cache
    assert (raised.value.status, raised.value.code, raised.value.text) == (400, 160005, "Thread is locked")
    assert locked.archived
    assert emulator.messages(locked) == []


async def test_locked_threads_need_manage_threads_to_send_or_edit(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # "Users (including bot users) without the MANAGE_THREADS permission ... won't be able to create
    # or update messages in locked threads" (topics/threads.mdx, "Locked Threads").
    thread, stored = await open_thread(emulator, bot, server, "Episode 4")
    first = await thread.send("first")
    emulator.lock_thread(stored)
    await emulator.flush_gateway()

    with pytest.raises(discord.HTTPException) as send:
        await thread.send("second")
    with pytest.raises(discord.HTTPException) as edit:
        await first.edit(content="edited")
    emulator.set_bot_permissions(server.guild, DEFAULT_BOT_PERMISSIONS | Permission.MANAGE_THREADS)
    await thread.send("a moderator may")
    await first.edit(content="and edit")

    assert (send.value.code, edit.value.code) == (160005, 160005)
    assert [m["content"] for m in emulator.messages(stored)] == ["and edit", "a moderator may"]


async def test_editing_a_message_in_an_archived_thread_is_50083(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # 50083: "Tried to perform an operation on an archived thread, such as editing a message"
    # (opcodes-and-status-codes.mdx).
    thread, stored = await open_thread(emulator, bot, server, "Episode 5")
    message = await thread.send("draft")
    emulator.archive_thread(stored)

    with pytest.raises(discord.HTTPException) as edit:
        await message.edit(content="final")
    with pytest.raises(discord.HTTPException) as react:
        await message.add_reaction("👍")

    assert (edit.value.status, edit.value.code) == (400, 50083)
    assert react.value.code == 50083
    assert emulator.message(message.id)["content"] == "draft"


async def test_messages_are_deleted_in_archived_threads_but_not_locked_ones_without_manage_threads(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # topics/threads.mdx: "The only operation that should happen within an archived thread is messages
    # being deleted"; "deleting messages ... will *only* be allowed in locked threads if that thread is
    # also active"; with MANAGE_THREADS "they will still be able to make changes".
    archived, archived_stored = await open_thread(emulator, bot, server, "Episode 7")
    locked, locked_stored = await open_thread(emulator, bot, server, "Episode 8")
    first = await archived.send("one")
    second, third = await locked.send("two"), await locked.send("three")
    emulator.archive_thread(archived_stored)
    emulator.archive_thread(locked_stored, locked=True)

    await first.delete()
    with pytest.raises(discord.HTTPException) as refused:
        await second.delete()
    emulator.set_bot_permissions(server.guild, DEFAULT_BOT_PERMISSIONS | Permission.MANAGE_THREADS)
    await emulator.flush_gateway()
    await third.delete()

    assert (refused.value.status, refused.value.code) == (400, 50083)
    assert [m["content"] for m in emulator.messages(archived_stored)] == []
    assert [m["content"] for m in emulator.messages(locked_stored)] == ["two"]


async def test_application_commands_cannot_be_used_in_an_archived_thread(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # "Users cannot edit messages, add reactions, use application commands, or join archived threads"
    # (topics/threads.mdx, "Active & Archived Threads").
    _, stored = await open_thread(emulator, bot, server, "Episode 6")
    answered = await emulator.run_command(server.alice, stored, "ping")
    emulator.archive_thread(stored)

    with pytest.raises(CommandUsageError, match="archived"):
        await emulator.run_command(server.alice, stored, "ping")
    assert answered.content == "pong"
    assert len(bot.interactions_seen) == 1


async def test_in_threads_send_messages_in_threads_decides_the_implicit_permissions(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # "The SEND_MESSAGES permission has no effect in threads" (topics/threads.mdx): losing it in the
    # parent does not take EMBED_LINKS away inside a thread, where SEND_MESSAGES_IN_THREADS counts.
    thread, stored = await open_thread(emulator, bot, server, "Episode 6")
    general = server.guild.general
    bot_member = emulator.bot_member(server.guild)
    emulator.set_bot_channel_permissions(general, deny=Permission.SEND_MESSAGES)

    await thread.send(embed=discord.Embed(title="Show notes"))
    in_parent = emulator.permissions_for(bot_member, general)
    in_thread = emulator.permissions_for(bot_member, stored)
    emulator.set_bot_channel_permissions(
        general, deny=Permission.SEND_MESSAGES | Permission.SEND_MESSAGES_IN_THREADS
    )

    assert not in_parent & Permission.EMBED_LINKS
    assert in_thread & Permission.EMBED_LINKS
    assert not emulator.permissions_for(bot_member, stored) & Permission.EMBED_LINKS
    with pytest.raises(discord.Forbidden):
        await thread.send("no more")
    assert [m["embeds"][0]["title"] for m in emulator.messages(stored)] == ["Show notes"]


async def test_archived_threads_are_listed_newest_first_for_text_channels_and_forums(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # List Public Archived Threads (resources/channel.mdx): "ordered by archive_timestamp, in
    # descending order"; a forum lists its archived posts.
    names = ["Episode 7", "Episode 8", "Episode 9"]
    threads = [(await open_thread(emulator, bot, server, name))[1] for name in names]
    for stored in threads:
        emulator.archive_thread(stored)
        await emulator.advance(60)
    forum = emulator.add_channel(server.guild, "episodes", type="forum")
    await emulator.flush_gateway()
    forum_channel = bot.get_channel(forum.id)
    text_channel = bot.get_channel(server.guild.general.id)
    assert isinstance(forum_channel, discord.ForumChannel)
    assert isinstance(text_channel, discord.TextChannel)
    post = await forum_channel.create_thread(name="Forum post", content="x")
    emulator.archive_thread(emulator.state.channels[post.thread.id])
    await emulator.advance(1)

    listed = [thread.name async for thread in text_channel.archived_threads(limit=None)]
    two = [thread.name async for thread in text_channel.archived_threads(limit=2)]
    older = [
        thread.name async for thread in text_channel.archived_threads(before=threads[2].archive_timestamp)
    ]
    in_forum = [thread.name async for thread in forum_channel.archived_threads()]

    assert listed == ["Episode 9", "Episode 8", "Episode 7"]
    assert two == ["Episode 9", "Episode 8"]
    assert older == ["Episode 8", "Episode 7"]
    assert in_forum == ["Forum post"]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_archived_thread_pages_and_their_permission(
    emulator: DiscordEmulator, server: Server, bot: MiniBot, http: aiohttp.ClientSession
) -> None:
    for name in ("A", "B", "C"):
        _, stored = await open_thread(emulator, bot, server, name)
        emulator.archive_thread(stored)
        await emulator.advance(1)
    url = f"{emulator.api_base}/channels/{server.guild.general.id}/threads/archived/public"
    headers = {"Authorization": f"Bot {emulator.token}"}

    async with http.get(url, params={"limit": "2"}, headers=headers) as response:
        page = await response.json()
    cursor = page["threads"][-1]["thread_metadata"]["archive_timestamp"]
    async with http.get(url, params={"limit": "2", "before": cursor}, headers=headers) as response:
        rest = await response.json()
    emulator.set_bot_channel_permissions(server.guild.general, deny=Permission.READ_MESSAGE_HISTORY)
    text_channel = bot.get_channel(server.guild.general.id)
    assert isinstance(text_channel, discord.TextChannel)
    with pytest.raises(discord.Forbidden):
        [thread async for thread in text_channel.archived_threads()]

    assert ([t["name"] for t in page["threads"]], page["has_more"]) == (["C", "B"], True)
    assert ([t["name"] for t in rest["threads"]], rest["has_more"]) == (["A"], False)
    assert {member["user_id"] for member in page["members"]} == {str(emulator.bot_user_id)}
    assert datetime.fromisoformat(cursor) > datetime.fromisoformat(
        rest["threads"][0]["thread_metadata"]["archive_timestamp"]
    )


async def test_active_guild_threads(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    # List Active Guild Threads: GET /guilds/{guild.id}/threads/active (resources/guild.mdx).
    _, active = await open_thread(emulator, bot, server, "Live")
    _, archived = await open_thread(emulator, bot, server, "Done")
    emulator.archive_thread(archived)
    guild = bot.get_guild(server.guild.id)
    assert guild is not None

    threads = await guild.active_threads()

    assert [thread.id for thread in threads] == [active.id]
    assert [member.id for member in threads[0].members] == [emulator.bot_user_id]  # from "members"
