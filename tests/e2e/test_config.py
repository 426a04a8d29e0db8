"""/config, end to end: only moderators change settings, every change is checked, recorded and
visible, and a server's settings are its own."""

from __future__ import annotations

import pytest

from bot.demo.feed_server import FeedServer
from discord_emulator import CommandUsageError, DiscordEmulator, Permission
from tests.e2e.conftest import FEED, Server, StartBot, configure, let_the_bot_hand_out_the_ping_role

MODERATOR_COMMANDS: list[tuple[str, dict[str, object]]] = [
    ("config status", {}),
    ("config history", {}),
    ("config channel clear", {}),
    ("config role clear", {}),
    ("config template preview", {}),
    ("config template reset", {}),
    ("config template set", {"text": "{title}"}),
    ("config threads", {"enabled": True}),
    ("config notify-button", {"enabled": False}),
    ("config announce-latest", {}),
    ("config poll-now", {}),
    ("config insights", {"recording": "off"}),
]


async def test_config_is_hidden_from_members_without_manage_server(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot():
        (config,) = [c for c in discord.synced_commands() if c["name"] == "config"]
        with pytest.raises(CommandUsageError):
            await discord.run_command(server.listener, server.guild.general, "config status")
    assert config["default_member_permissions"] == str(Permission.MANAGE_GUILD.value)
    assert config["contexts"] == [0]  # servers only


async def test_a_server_that_overrides_the_default_still_cannot_let_members_change_settings(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        refusals = [
            await discord.run_command(
                server.listener, server.guild.general, command, ignore_default_permissions=True, **options
            )
            for command, options in [
                *MODERATOR_COMMANDS,
                ("config channel set", {"channel": server.episodes_channel}),
                ("config role set", {"role": server.ping_role}),
            ]
        ]
        settings = await bot.services.guilds.get(server.guild.id)
    for refusal in refusals:
        assert refusal.ephemeral
        assert refusal.content == "You need the Manage Server permission to use this command."
    assert settings.announce_channel_id is None
    assert settings.template is None


async def test_an_administrator_may_configure(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    admin = discord.add_member(server.guild, "admin", permissions=Permission.ADMINISTRATOR)
    async with start_bot():
        result = await discord.run_command(
            admin, server.guild.general, "config channel set", channel=server.episodes_channel
        )
    assert "New episodes will be announced" in result.content


async def test_a_channel_where_the_bot_cannot_post_is_refused_naming_the_permission(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    discord.set_bot_channel_permissions(
        server.episodes_channel, deny=Permission.SEND_MESSAGES | Permission.EMBED_LINKS
    )
    async with start_bot() as bot:
        result = await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=server.episodes_channel
        )
        settings = await bot.services.guilds.get(server.guild.id)
    assert result.ephemeral
    assert "I lack the Send Messages, Embed Links permission" in result.content
    assert "Nothing was changed" in result.content
    assert settings.announce_channel_id is None


async def test_setting_the_channel_can_announce_the_latest_episode_at_once(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await discord.run_command(
            server.moderator,
            server.guild.general,
            "config channel set",
            channel=server.episodes_channel,
            announce_latest=True,
        )
    assert f"I announced the newest episode in <#{server.episodes_channel.id}>" in result.content
    (message,) = discord.messages(server.episodes_channel)
    assert (
        message["embeds"][0]["title"]
        == "More powerful deep learning with transformers (Ep. 84) (Rebroadcast)"
    )


async def test_roles_that_cannot_be_pinged_are_refused(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    quiet = discord.add_role(server.guild, "Quiet", mentionable=False)
    async with start_bot():
        everyone = await discord.run_command(
            server.moderator, server.guild.general, "config role set", role=server.guild.everyone
        )
        unpingable = await discord.run_command(
            server.moderator, server.guild.general, "config role set", role=quiet
        )
    assert "@everyone can't be the ping role" in everyone.content
    assert "make it mentionable" in unpingable.content


async def test_a_bad_template_is_refused_with_the_valid_placeholders_and_a_good_one_previewed(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        bad = await discord.run_command(
            server.moderator, server.guild.general, "config template set", text="{titel} is out!"
        )
        good = await discord.run_command(
            server.moderator, server.guild.general, "config template set", text="Fresh: {title} ({duration})"
        )
        preview = await discord.run_command(server.moderator, server.guild.general, "config template preview")
        settings = await bot.services.guilds.get(server.guild.id)
    assert "Unknown placeholder {titel}" in bad.content
    assert "{title}, {number}, {url}, {duration}, {date}, {role}" in bad.content
    assert good.ephemeral
    assert "Fresh: More powerful deep learning with transformers (Ep. 84) (Rebroadcast) (" in good.content
    assert "Fresh: More powerful deep learning" in preview.content
    assert preview.embed["title"].startswith("More powerful deep learning")
    assert settings.template == "Fresh: {title} ({duration})"


async def test_status_shows_feed_health_settings_and_history_who_changed_what(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        feed_host.fail_next(500)
        await bot.services.announcer.poll(force=True)
        status = await discord.run_command(server.moderator, server.guild.general, "config status")
        history = await discord.run_command(server.moderator, server.guild.general, "config history")
    fields = {field["name"]: field["value"] for field in status.embed["fields"]}
    assert "Episodes: 91" in fields["Feed"]
    assert "Failing (1 in a row)" in fields["Feed"]
    assert "HTTP 500" in fields["Feed"]
    assert f"Channel: <#{server.episodes_channel.id}>" in fields["Settings"]
    assert f"Ping role: <@&{server.ping_role.id}>" in fields["Settings"]
    lines = history.embed["description"].splitlines()
    assert "**moderator** set role: none → <@&" in lines[0]
    assert f"**moderator** set channel: none → <#{server.episodes_channel.id}>" in lines[1]


async def test_poll_now_checks_the_feed_and_is_rate_limited(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        feed_host.publish(FEED)
        first = await discord.run_command(server.moderator, server.guild.general, "config poll-now")
        second = await discord.run_command(server.moderator, server.guild.general, "config poll-now")
    assert first.content == "Feed checked: 2 new episodes."
    assert second.content.startswith("The feed was just checked; try again in")


async def test_notify_button_lets_members_give_themselves_the_ping_role_and_take_it_back(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    let_the_bot_hand_out_the_ping_role(discord, server)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        enabled = await discord.run_command(
            server.moderator, server.guild.general, "config notify-button", enabled=True
        )
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        announcement = discord.messages(server.episodes_channel)[-1]
        custom_id = f"dsh:notify:{server.ping_role.id}"
        joined = await discord.click(server.listener, announcement, custom_id)
        has_role = server.ping_role.id in server.guild.members[server.listener.id].role_ids
        left = await discord.click(server.listener, announcement, custom_id)
    assert "Notify me" in enabled.content
    assert joined.ephemeral
    assert has_role
    assert "will ping you" in joined.content
    assert "no longer be pinged" in left.content
    assert server.ping_role.id not in server.guild.members[server.listener.id].role_ids


async def test_a_template_of_invisible_characters_is_refused(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        refused = await discord.run_command(
            server.moderator, server.guild.general, "config template set", text="\u200b\u2800\u200b"
        )
        settings = await bot.services.guilds.get(server.guild.id)
    assert refused.content.startswith("The template is empty")
    assert settings.template is None


async def test_a_moderator_pauses_announcements_and_resumes_them_with_nothing_lost(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    general = server.guild.general
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        paused = await discord.run_command(server.moderator, general, "config pause")
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        status = await discord.run_command(server.moderator, general, "config status")
        held = discord.messages(server.episodes_channel)
        resumed = await discord.run_command(server.moderator, general, "config resume")
        history = await discord.run_command(server.moderator, general, "config history")
        settings = await bot.services.guilds.get(server.guild.id)
    assert paused.content.startswith("Announcements are paused; every setting is kept.")
    assert held == []
    announcements = next(f["value"] for f in status.embed["fields"] if f["name"] == "Announcements")
    assert "Paused: Paused by moderator" in announcements
    assert "Pending: 2" in announcements
    assert resumed.content.startswith("Announcements resumed")
    assert len(discord.messages(server.episodes_channel)) == 2
    assert settings.ping_role_id == server.ping_role.id
    assert "set announcements: on → paused" in history.embed["description"]
    assert "set announcements: paused → on" in history.embed["description"]
