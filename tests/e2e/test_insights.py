"""/insights, end to end: listeners search, suggest, vote and talk in an episode's thread through the
Discord emulator; the moderator sees the ranking, a listener cannot, and turning insights off deletes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.app import PodcastBot
from discord_emulator import CommandUsageError, DiscordEmulator, InteractionResult, Member, Permission
from tests.e2e.conftest import Server, StartBot

JSON = dict[str, Any]
EPISODE_59 = "Episode 59: How to fool a smart camera with deep learning"
MISSING = "Searched for, not found (the catalogue's gaps)"


async def search(discord: DiscordEmulator, member: Member, server: Server, query: str) -> InteractionResult:
    return await discord.run_command(member, server.guild.general, "episode search", query=query)


def field(embed: JSON, name: str) -> str:
    value: str = next(f["value"] for f in embed["fields"] if f["name"] == name)
    return value


async def insights(discord: DiscordEmulator, member: Member, server: Server) -> InteractionResult:
    return await discord.run_command(member, server.guild.general, "insights", period="week")


async def listeners_use_the_server(discord: DiscordEmulator, server: Server, bot: PodcastBot) -> Member:
    """Searches (two find nothing, one is opened, one looks personal), a suggestion with a vote, and
    four messages in episode 59's discussion thread. Returns the second listener."""
    fan = discord.add_member(server.guild, "fan")
    await bot.services.announcer.poll()
    for member in (server.listener, fan, server.listener):
        nothing = await search(discord, member, server, "Quantum knitting")
        assert nothing.content.startswith("Nothing matches"), nothing.content
    nothing = await search(discord, fan, server, "zymurgy")
    assert nothing.content.startswith("Nothing matches"), nothing.content
    listed = await search(discord, fan, server, "deep learning")
    first = listed.component(custom_id="episodes:pick")["options"][0]
    await discord.select(fan, listed.message, "episodes:pick", [first["value"]])
    await search(discord, fan, server, "mail bob@example.com about gans")
    await discord.run_command(
        server.listener, server.guild.general, "suggest", topic="Quantum knitting, explained"
    )
    await discord.run_command(fan, server.guild.general, "suggestions top")
    opened = await discord.run_command(server.listener, server.guild.general, "discuss", n=59)
    assert "opened a discussion thread" in opened.content
    (thread,) = discord.threads(server.guild.general)
    for member, text in [
        (server.listener, "loved it"),
        (fan, "me too"),
        (fan, "the part on GANs"),
        (fan, "+1"),
    ]:
        discord.post_message(member, thread, text)
    discord.post_message(fan, server.guild.general, "not a thread: not counted")
    await discord.flush_gateway()
    return fan


async def test_the_moderator_sees_what_listeners_did_not_find_ranked_with_the_matching_suggestion(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await listeners_use_the_server(discord, server, bot)
        result = await insights(discord, server.moderator, server)
    assert result.ephemeral
    embed = result.embed
    assert embed["description"].startswith(
        "**5** searches recorded in the last 7 days."
    )  # not the e-mail one
    missing = field(embed, MISSING).splitlines()
    assert "`quantum knitting` · 3 searches, nothing found → #1 Quantum knitting, explained" in missing[0]
    assert "`zymurgy` · 1 search, nothing found" in missing[1]
    assert len(missing) == 2  # "deep learning" led to an episode
    assert field(embed, "Most searched").splitlines()[0].endswith("`quantum knitting` · 3")
    assert "bob" not in str(embed)
    assert "example" not in str(embed)
    assert field(embed, "Episodes searches led to").endswith("· 1 opened")
    (thread,) = discord.threads(server.guild.general)
    busiest = field(embed, "Busiest episode discussions")
    assert f"<#{thread.id}> {EPISODE_59} · 4 messages" in busiest


async def test_a_listener_cannot_run_insights_even_where_the_server_shows_it_to_them(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot():
        with pytest.raises(CommandUsageError):  # hidden: Discord's client does not offer it
            await insights(discord, server.listener, server)
        refused = await discord.run_command(
            server.listener, server.guild.general, "insights", ignore_default_permissions=True
        )
    assert refused.ephemeral
    assert refused.content == "You need the Manage Server permission to use this command."


async def test_turning_insights_off_deletes_what_was_recorded_and_records_nothing_more(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        fan = await listeners_use_the_server(discord, server, bot)
        off = await discord.run_command(
            server.moderator, server.guild.general, "config insights", recording="off"
        )
        await search(discord, fan, server, "Quantum knitting")
        (thread,) = discord.threads(server.guild.general)
        discord.post_message(fan, thread, "still here")
        await discord.flush_gateway()
        result = await insights(discord, server.moderator, server)
        history = await discord.run_command(server.moderator, server.guild.general, "config history")
    assert "what was recorded is deleted" in off.content
    assert result.embed["description"].startswith("**0** searches recorded")
    assert "Insights are **off** here" in result.embed["description"]
    assert field(result.embed, MISSING) == "Every search found something that was opened."
    assert (
        field(result.embed, "Busiest episode discussions") == "No messages in episode threads in the period."
    )
    assert "insights" in history.content or "insights" in str(history.embeds)


async def test_a_server_that_removes_the_bot_loses_its_records_but_one_in_an_outage_keeps_them(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    other = discord.add_guild("Another community")
    other_listener = discord.add_member(other, "listener")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await search(discord, server.listener, server, "Quantum knitting")
        await discord.run_command(other_listener, other.general, "episode search", query="Quantum knitting")
        await bot.services.insights.settle()
        await discord.outage(other)
        discord.remove_guild(server.guild)
        await discord.flush_gateway()
        records = bot.services.insights.repository
        async with asyncio.timeout(5):
            # on_guild_remove runs in a task of its own, which sets nothing a test could wait on.
            while len(await records.guilds_with_records()) > 1:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        kept = await records.guilds_with_records()
    assert kept == [other.id]


async def test_searches_through_a_listeners_own_installation_are_not_recorded(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    elsewhere = discord.add_guild("A server without the bot", bot_installed=False)
    person = discord.add_member(elsewhere, "person", permissions=Permission.USE_EXTERNAL_APPS)
    discord.add_user_install(person)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await discord.run_command(
            person, elsewhere.general, "episode search", query="Quantum knitting"
        )
        await bot.services.insights.settle()
        kept = await bot.services.insights.repository.guilds_with_records()
    assert result.content.startswith("Nothing matches")
    assert kept == []
