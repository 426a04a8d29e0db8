"""Discovery anywhere a listener chats, end to end: a listener adds the bot to their own account and
uses /episode in a server that has not added it, in a DM with a friend and in the bot's DM, while the
server-only commands stay where the bot is installed. Each test names the Discord page it follows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.demo.feed_server import FeedServer
from discord_emulator import (
    DEFAULT_EVERYONE_PERMISSIONS,
    CommandUsageError,
    DiscordEmulator,
    Guild,
    InteractionResult,
    Member,
    Permission,
)
from tests.e2e.conftest import Server, StartBot

EPISODE_7 = "Episode 7: 30 min with data scientist Sebastian Raschka"
EPISODE_59 = "Episode 59: How to fool a smart camera with deep learning"
ANYWHERE = {"episode", "about", "ping"}
SERVER_ONLY = {"config", "suggest", "suggestions", "discuss"}


@pytest.fixture(autouse=True)
def nothing_refused(discord: DiscordEmulator) -> Iterator[None]:
    """Discord accepted every answer, and the bot never tried to post by itself: where only the listener
    installed it, the interaction is its only way to speak."""
    yield
    assert discord.api_errors() == []
    assert discord.requests_to("POST", "/channels/*") == []


@pytest.fixture
def elsewhere(discord: DiscordEmulator) -> Guild:
    """A server that never added the bot."""
    return discord.add_guild("Another Community", bot_installed=False)


@pytest.fixture
def fan(discord: DiscordEmulator, elsewhere: Guild) -> Member:
    """A listener who added the bot to their own account, in a server that has not added it."""
    member = discord.add_member(elsewhere, "fan")
    discord.add_user_install(member)
    return member


def share_button(result: InteractionResult) -> dict[str, object]:
    return result.component(custom_id="episodes:share")


async def test_commands_declare_where_they_are_offered(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    """interactions/application-commands.mdx, "Contexts": integration_types and contexts, per top-level
    command."""
    async with start_bot():
        synced = {command["name"]: command for command in await discord.wait_for_commands_synced()}
    for name in ANYWHERE:
        assert (synced[name]["integration_types"], synced[name]["contexts"]) == ([0, 1], [0, 1, 2]), name
    for name in SERVER_ONLY:
        assert (synced[name]["integration_types"], synced[name]["contexts"]) == ([0], [0]), name


async def test_a_listener_shares_an_episode_in_a_server_that_has_not_added_the_bot(
    discord: DiscordEmulator, server: Server, elsewhere: Guild, fan: Member, start_bot: StartBot
) -> None:
    """resources/application.mdx, "User Context"; interactions/receiving-and-responding.mdx, "Interaction
    Object" (a partial guild, authorizing_integration_owners with the user only)."""
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await discord.run_command(fan, elsewhere.general, "episode search", query="Raschka")
        assert result.ephemeral
        assert result.embed["title"] == EPISODE_7
        assert bot.get_guild(elsewhere.id) is None  # the bot is not there
        await discord.click(fan, result.message, "episodes:share")
        await discord.wait_for(lambda: discord.message(result.message)["components"] != result.components)
    (shared,) = discord.messages(elsewhere.general)
    assert not shared["flags"] & 64
    assert shared["embeds"][0]["title"] == EPISODE_7
    assert f"<@{fan.id}>" in shared["content"]
    assert shared["mentions"] == []
    listen = next(c for row in shared["components"] for c in row["components"] if c.get("label") == "Listen")
    assert listen["url"].startswith("https://datascienceathome.com/")
    assert shared["interaction_metadata"]["authorizing_integration_owners"] == {"1": str(fan.id)}


async def test_a_listener_shares_an_episode_in_a_dm_with_a_friend(
    discord: DiscordEmulator, server: Server, fan: Member, start_bot: StartBot
) -> None:
    """interactions/receiving-and-responding.mdx, "Interaction Context Types": PRIVATE_CHANNEL."""
    friend = discord.add_user("friend")
    chat = discord.dm(fan, friend)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        suggestions = await discord.autocomplete(fan, chat, "episode search", focused="query", query="rasch")
        assert EPISODE_7 in [choice["name"] for choice in suggestions]
        listed = await discord.run_command(fan, chat, "episode search", query="deep learning")
        turned = await discord.click(fan, listed.message, "episodes:next")
        assert turned.message is not None
        assert turned.message["embeds"][0]["footer"]["text"].startswith("Page 2 of 3")
        result = await discord.run_command(fan, chat, "episode number", n=59)
        assert result.ephemeral
        assert share_button(result)["label"] == "Share in this chat"
        await discord.click(fan, result.message, "episodes:share")
        await discord.wait_for(lambda: discord.message(result.message)["components"] != result.components)
    (shared,) = discord.messages(chat)  # what the friend sees
    assert not shared["flags"] & 64
    assert shared["embeds"][0]["title"] == EPISODE_59


async def test_a_listener_finds_episodes_in_the_bots_dm(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    """interactions/receiving-and-responding.mdx, "Interaction Context Types": BOT_DM, with the server
    install ("0": "0") and the listener's own ("1")."""
    discord.add_user_install(server.listener)
    chat = discord.bot_dm(server.listener)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        latest = await discord.run_command(server.listener, chat, "episode latest")
        about = await discord.run_command(server.listener, chat, "about")
    assert latest.ephemeral
    assert latest.embed["title"]
    assert latest.component(label="Listen")["url"].startswith("https://")
    assert about.embed["fields"][0]["name"] == "Episodes"


async def test_without_use_external_apps_the_card_stays_private(
    discord: DiscordEmulator, server: Server, elsewhere: Guild, fan: Member, start_bot: StartBot
) -> None:
    """topics/permissions.mdx, USE_EXTERNAL_APPS: "When disabled, users will still be allowed to use their
    apps but the responses will be ephemeral"."""
    discord.edit_role(
        elsewhere.everyone, permissions=DEFAULT_EVERYONE_PERMISSIONS & ~Permission.USE_EXTERNAL_APPS
    )
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await discord.run_command(fan, elsewhere.general, "episode search", query="Raschka")
        assert result.ephemeral
        assert result.embed["title"] == EPISODE_7
        refused = await discord.click(fan, result.message, "episodes:share")
    assert refused.ephemeral
    assert "Use External Apps" in refused.content
    assert discord.messages(elsewhere.general) == []


async def test_use_external_apps_does_not_stop_sharing_where_the_server_added_the_bot(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    """topics/permissions.mdx, USE_EXTERNAL_APPS: "This only applies to apps not also installed to the
    server"."""
    discord.add_user_install(server.listener)
    discord.edit_role(
        server.guild.everyone, permissions=DEFAULT_EVERYONE_PERMISSIONS & ~Permission.USE_EXTERNAL_APPS
    )
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await discord.run_command(
            server.listener, server.guild.general, "episode search", query="Raschka"
        )
        await discord.click(server.listener, result.message, "episodes:share")
        await discord.wait_for(lambda: discord.message(result.message)["components"] != result.components)
    (shared,) = discord.messages(server.guild.general)
    assert shared["embeds"][0]["title"] == EPISODE_7
    assert not shared["flags"] & 64


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("config status", {}),
        ("suggest", {"topic": "Federated learning"}),
        ("suggestions top", {}),
        ("discuss", {"n": 59}),
    ],
)
async def test_server_only_commands_are_not_offered_where_the_server_has_not_added_the_bot(
    discord: DiscordEmulator,
    server: Server,
    elsewhere: Guild,
    fan: Member,
    start_bot: StartBot,
    command: str,
    options: dict[str, object],
) -> None:
    """interactions/application-commands.mdx, "Contexts": a command without USER_INSTALL is not offered
    where only the user installed the app, nor a GUILD-only command in a DM."""
    places = {
        "a server without the bot": elsewhere.general,
        "a DM with a friend": discord.dm(fan, discord.add_user("friend")),
        "the bot's DM": discord.bot_dm(fan),
    }
    async with start_bot():
        for place, channel in places.items():
            with pytest.raises(CommandUsageError, match=r"cannot be used in|not available"):
                await discord.run_command(fan, channel, command, options=options)
            assert discord.messages(channel) == [], place


async def test_about_shows_a_feed_failing_with_a_long_error_in_one_line(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    """A feed redirected for now to a signed CDN address that answers 404: the error names that long
    address, and /about still answers (an embed field holds 1,024 characters)."""
    signed = feed_host.url_of("/cdn/feed.xml?X-Amz-Signature=" + "a1b2c3d4" * 150)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        feed_host.move_to(signed, status=302)
        await bot.services.announcer.poll()
        about = await discord.run_command(server.listener, server.guild.general, "about")
    check = about.embed["fields"][1]
    assert check["name"] == "Last feed check"
    assert "failed: HTTP 404 from http://" in check["value"]
    assert len(check["value"]) <= 1024
