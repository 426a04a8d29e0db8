"""One error policy for everything a person can trigger: a slash command (see test_core), a button on a
view, a select menu, a persistent button and a modal. An expected error is its own short private
message; an unexpected one is logged and gets a short private apology, never "This interaction failed"."""

from __future__ import annotations

import pytest

from bot.ui.replies import GENERIC_ERROR_MESSAGE
from discord_emulator import DiscordEmulator, InteractionResult
from tests.e2e.conftest import Server, StartBot, configure, let_the_bot_hand_out_the_ping_role
from tests.e2e.test_suggestions import suggest, suggestions_channel, upvote


async def _broken(*_: object, **__: object) -> None:
    raise RuntimeError("database on fire")


def assert_private_apology(result: InteractionResult) -> None:
    (reply,) = result.messages
    assert reply["content"] == GENERIC_ERROR_MESSAGE
    assert reply["flags"] & 64  # only the person who clicked or submitted sees it


async def test_a_button_on_a_view_that_fails_gets_a_private_apology(
    discord: DiscordEmulator,
    server: Server,
    start_bot: StartBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        year = await discord.run_command(server.listener, server.guild.general, "episode browse", year=2018)
        monkeypatch.setattr(bot.services.episodes, "by_year", _broken)
        clicked = await discord.click(server.listener, year.message, "episodes:next")
    assert_private_apology(clicked)
    assert "database on fire" in caplog.text


async def test_a_select_menu_that_fails_gets_a_private_apology(
    discord: DiscordEmulator, server: Server, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        summary = await discord.run_command(server.listener, server.guild.general, "episode browse")
        monkeypatch.setattr(bot.services.episodes, "by_year", _broken)
        chosen = await discord.select(server.listener, summary.message, "episodes:year", ["2015"])
    assert_private_apology(chosen)


async def test_a_persistent_vote_button_that_fails_gets_a_private_apology(
    discord: DiscordEmulator,
    server: Server,
    start_bot: StartBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with start_bot() as bot:
        channel = await suggestions_channel(discord, server)
        await suggest(discord, server.moderator, server, "Interview with Yann LeCun")
        (card,) = discord.messages(channel)
        monkeypatch.setattr(bot.services.suggestions, "vote", _broken)
        clicked = await discord.click(server.listener, card, upvote(1))
    assert_private_apology(clicked)
    assert "database on fire" in caplog.text


async def test_a_persistent_notify_button_that_fails_gets_a_private_apology(
    discord: DiscordEmulator, server: Server, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    let_the_bot_hand_out_the_ping_role(discord, server)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        general = server.guild.general
        await discord.run_command(server.moderator, general, "config notify-button", enabled=True)
        await discord.run_command(server.moderator, general, "config announce-latest")
        (announcement,) = discord.messages(server.episodes_channel)
        monkeypatch.setattr(bot.services.guilds, "get", _broken)
        clicked = await discord.click(server.listener, announcement, f"dsh:notify:{server.ping_role.id}")
    assert_private_apology(clicked)


async def test_the_template_editor_saves_several_lines(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        shown = await discord.run_command(server.moderator, server.guild.general, "config template set")
        assert shown.modal is not None
        saved = await discord.submit_modal(
            server.moderator, shown, {"config:template": "{role} New episode!\n**{title}**\n{url}"}
        )
        settings = await bot.services.guilds.get(server.guild.id)
    assert settings.template == "{role} New episode!\n**{title}**\n{url}"
    assert saved.content.startswith("Template saved.")


async def test_a_modal_refused_with_a_reason_says_it_privately(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        shown = await discord.run_command(server.moderator, server.guild.general, "config template set")
        refused = await discord.submit_modal(server.moderator, shown, {"config:template": "New: {name}"})
        settings = await bot.services.guilds.get(server.guild.id)
    assert refused.ephemeral
    assert refused.content.startswith("Unknown placeholder {name}.")
    assert settings.template is None


async def test_a_modal_that_fails_gets_a_private_apology(
    discord: DiscordEmulator,
    server: Server,
    start_bot: StartBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with start_bot() as bot:
        shown = await discord.run_command(server.moderator, server.guild.general, "config template set")
        monkeypatch.setattr(bot.services.guilds, "update", _broken)
        failed = await discord.submit_modal(server.moderator, shown, {"config:template": "New: {title}"})
    assert_private_apology(failed)
    assert "database on fire" in caplog.text
