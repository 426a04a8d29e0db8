"""The minimal bot, unmodified discord.py, connects to the emulator and answers interactions."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from discord_emulator import (
    CommandUsageError,
    DiscordEmulator,
    InteractionFailed,
    InteractionTimeout,
    Permission,
)
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import TOPICS, MiniBot

pytestmark = pytest.mark.timeout(15)


async def test_bot_connects_and_caches_the_guild(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    guild = bot.get_guild(server.guild.id)

    assert guild is not None
    assert guild.name == "Data Science at Home"
    assert [channel.name for channel in guild.text_channels] == ["general"]
    assert bot.user is not None
    assert bot.user.id == emulator.bot_user_id
    assert guild.me.guild_permissions.send_messages
    assert emulator.intents == discord.Intents(guilds=True).value
    assert [(r.method, r.path) for r in emulator.requests[:2]] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
    ]


async def test_command_sync_is_recorded_with_discord_ids(emulator: DiscordEmulator, bot: MiniBot) -> None:
    synced = emulator.synced_commands()
    fetched = await bot.tree.fetch_commands()

    assert {command["name"] for command in synced} >= {"ping", "slow", "embed", "topic", "buttons", "admin"}
    assert all(isinstance(command["id"], str) and command["id"].isdigit() for command in synced)
    assert sorted(command.id for command in fetched) == sorted(int(command["id"]) for command in synced)
    config = next(command for command in synced if command["name"] == "config")
    assert config["default_member_permissions"] == str(Permission.MANAGE_GUILD.value)


async def test_slash_command_gets_its_reply(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    result = await emulator.run_command(server.alice, server.guild.general, "ping")

    assert result.response_type == 4
    assert result.content == "pong"
    assert not result.ephemeral
    posted = emulator.messages(server.guild.general)
    assert [message["content"] for message in posted] == ["pong"]
    assert posted[0]["type"] == 20
    assert posted[0]["interaction_metadata"]["user"]["id"] == str(server.alice.id)


async def test_deferred_command_is_completed_by_its_follow_up(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    result = await emulator.run_command(server.alice, server.guild.general, "slow")

    assert result.response_type == 5
    assert result.content == "done thinking"
    assert result.followups == ()
    assert [message["content"] for message in emulator.messages(server.guild.general)] == ["done thinking"]
    assert result.message is not None
    assert not result.message["flags"] & 128


async def test_embed_reply_is_rendered_like_discord(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    result = await emulator.run_command(server.alice, server.guild.general, "embed")

    assert result.embed["type"] == "rich"
    assert result.embed["title"] == "Episode 42"
    assert result.embed["fields"] == [{"inline": True, "name": "Duration", "value": "31 min"}]
    assert result.embed["footer"]["text"] == "Data Science at Home"


async def test_autocomplete_returns_the_bots_choices(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    choices = await emulator.autocomplete(
        server.alice, server.guild.general, "topic", focused="query", query="ga"
    )

    assert [choice["name"] for choice in choices] == [t for t in TOPICS if t.startswith("ga")]


async def test_more_than_25_autocomplete_choices_are_rejected(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    with pytest.raises(InteractionFailed) as failure:
        await emulator.autocomplete(server.alice, server.guild.general, "flood", focused="query", query="")

    (error,) = failure.value.result.errors
    assert (error.status, error.code) == (400, 50035)
    assert error.errors == {
        "data": {
            "choices": {
                "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 25 or fewer in length."}]
            }
        }
    }


async def test_button_click_updates_the_message(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    shown = await emulator.run_command(server.alice, server.guild.general, "buttons")
    assert shown.component(custom_id="mini:click")["label"] == "Click me"

    clicked = await emulator.click(server.alice, shown.message or {}, "mini:click")

    assert clicked.response_type == 7
    assert clicked.content == "clicked by alice"
    assert clicked.components == []
    assert [m["content"] for m in emulator.messages(server.guild.general)] == ["clicked by alice"]


async def test_modal_is_shown_and_submitted(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    shown = await emulator.run_command(server.alice, server.guild.general, "feedback")
    assert shown.response_type == 9
    assert shown.modal is not None
    assert shown.modal["title"] == "Feedback"

    submitted = await emulator.submit_modal(server.alice, shown, {"mini:feedback": "great show"})

    assert submitted.content == "thanks: great show"
    assert submitted.ephemeral
    assert emulator.messages(server.guild.general) == []
    assert len(emulator.messages(server.guild.general, include_ephemeral=True)) == 1


async def test_subcommand_options_arrive_typed_and_resolved(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    guild = server.guild
    helper = emulator.add_role(guild, "Helper")
    bob = emulator.add_member(guild, "bob", permissions=Permission.MANAGE_MESSAGES)

    result = await emulator.run_command(
        server.alice, guild.general, "admin roles grant", member=bob, role=helper, where=guild.general, days=3
    )

    expected_permissions = guild.everyone.permissions | Permission.MANAGE_MESSAGES
    assert result.content == f"{bob.id}|{expected_permissions}|Helper|general|3"


async def test_invalid_command_usage_fails_in_the_test(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    general = server.guild.general
    with pytest.raises(CommandUsageError, match="no synced slash command"):
        await emulator.run_command(server.alice, general, "nope")
    with pytest.raises(CommandUsageError, match="unknown option"):
        await emulator.run_command(server.alice, general, "ping", loud=True)
    with pytest.raises(CommandUsageError, match="missing required option 'query'"):
        await emulator.run_command(server.alice, general, "topic")
    with pytest.raises(CommandUsageError, match="at most 30"):
        await emulator.run_command(
            server.alice,
            general,
            "admin roles grant",
            member=server.alice,
            role=server.guild.everyone,
            where=general,
            days=31,
        )
    with pytest.raises(CommandUsageError, match="is a group"):
        await emulator.run_command(server.alice, general, "admin roles")


async def test_default_member_permissions_hide_a_command(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    general = server.guild.general
    with pytest.raises(CommandUsageError, match="hidden"):
        await emulator.run_command(server.alice, general, "config")

    overridden = await emulator.run_command(server.alice, general, "config", ignore_default_permissions=True)
    moderator = emulator.add_member(server.guild, "mod", permissions=Permission.MANAGE_GUILD)
    allowed = await emulator.run_command(moderator, general, "config")

    assert overridden.content == "denied"
    assert allowed.content == "configured"


async def test_rejected_reply_is_reported_to_the_bot(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    result = await emulator.run_command(server.alice, server.guild.general, "long")

    assert result.content == "rejected 400 50035"
    (error,) = result.errors
    assert error.errors == {
        "data": {
            "content": {
                "_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]
            }
        }
    }


async def test_second_acknowledgement_is_rejected(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    result = await emulator.run_command(server.alice, server.guild.general, "ping")
    record = emulator.requests_to("POST", "/interactions/*/callback")[-1]

    async with aiohttp.ClientSession() as session:
        url = f"{emulator.api_base}{record.path}"
        async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as response:
            body = await response.json()

    assert result.content == "pong"
    assert response.status == 400
    assert body == {"message": "Interaction has already been acknowledged.", "code": 40060}


@pytest.mark.parametrize("emulator_options", [{"interaction_response_window": 0.2}])
async def test_answer_after_the_window_is_an_unknown_interaction(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    with pytest.raises(InteractionTimeout, match="did not respond"):
        await emulator.run_command(server.alice, server.guild.general, "late")

    await emulator.wait_for(lambda: emulator.api_errors(code=10062), timeout=2)
    (error,) = emulator.api_errors(code=10062)
    assert (error.status, error.message) == (404, "Unknown interaction")
    assert emulator.messages(server.guild.general) == []


async def test_private_deferral_edit_and_public_follow_up(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    # The follow-up comes after the answer: a generous quiet window, for loaded machines.
    result = await emulator.run_command(server.alice, server.guild.general, "later", settle=1.0)

    assert result.deferred
    assert result.ephemeral
    assert result.content == "only you see this"
    assert [followup["content"] for followup in result.followups] == ["everyone sees this"]
    assert [m["content"] for m in emulator.messages(server.guild.general)] == ["everyone sees this"]


async def test_deleted_original_response(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    result = await emulator.run_command(server.alice, server.guild.general, "vanish", settle=1.0)

    assert result.message is None
    assert [followup["content"] for followup in result.followups] == ["gone"]
    assert result.followups[0]["flags"] & 64
    assert emulator.messages(server.guild.general) == []


async def test_select_menu_with_deferred_update(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    shown = await emulator.run_command(server.alice, server.guild.general, "pick")
    with pytest.raises(CommandUsageError, match="offers"):
        await emulator.select(server.alice, shown.message or {}, "mini:pick", ["cooking"])

    picked = await emulator.select(server.alice, shown.message or {}, "mini:pick", ["gans", "bayes"])

    assert picked.response_type == 6
    assert picked.content == "picked gans, bayes"
    assert picked.message is not None
    assert picked.message["id"] == (shown.message or {})["id"]
    with pytest.raises(CommandUsageError, match="no component"):
        await emulator.click(server.alice, picked.message, "mini:pick")


@pytest.mark.parametrize("emulator_options", [{"interaction_token_lifetime": 0.3}])
async def test_follow_up_after_the_token_expired_is_refused(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    result = await emulator.run_command(server.alice, server.guild.general, "patient")
    await emulator.wait_for(lambda: bot.followup_errors, timeout=2)

    assert result.content == "first"
    (error,) = bot.followup_errors
    assert (error.status, error.code, error.text) == (401, 50027, "Invalid Webhook Token")


async def test_guild_commands_carry_the_guild_id(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    target = discord.Object(id=server.guild.id)
    bot.tree.copy_global_to(guild=target)
    bot.tree.clear_commands(guild=None)
    await bot.tree.sync()
    await bot.tree.sync(guild=target)

    result = await emulator.run_command(server.alice, server.guild.general, "ping")

    assert emulator.synced_commands() == []
    assert {command["guild_id"] for command in emulator.synced_commands(server.guild)} == {
        str(server.guild.id)
    }
    assert result.content == "pong"
