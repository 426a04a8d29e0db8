"""User-installed apps: commands run where the bot is not, with the context, installations and
permissions Discord sends, and the limits Discord sets (resources/application.mdx "Installation
Context"; interactions/application-commands.mdx "Contexts"; interactions/receiving-and-responding.mdx
"Interaction Object")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from discord_emulator import CommandUsageError, DiscordEmulator, Guild, Member, Permission


class UserAppBot(commands.Bot):
    """A bot whose /where is user-installable and whose /moderate is for servers that added it."""

    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True),
            guild_ready_timeout=0.1,
            # Like a bot that keeps its commands server-only unless one says otherwise.
            allowed_contexts=app_commands.AppCommandContext(
                guild=True, dm_channel=False, private_channel=False
            ),
            allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        )
        self.seen: list[discord.Interaction] = []
        self.errors: list[discord.HTTPException] = []
        self.rest_errors: list[discord.HTTPException] = []
        self.knocks: list[tuple[int, bool]] = []  # who clicked, and whether they installed the app

    async def setup_hook(self) -> None:
        @self.tree.command(name="where", description="Say where it was used")
        @app_commands.allowed_installs(guilds=True, users=True)
        @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
        async def where(interaction: discord.Interaction) -> None:
            self.seen.append(interaction)
            await interaction.response.send_message(f"context {interaction.context.to_array()}")

        @self.tree.command(name="chatty", description="Answer, then follow up six times")
        @app_commands.allowed_installs(guilds=True, users=True)
        @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
        async def chatty(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("first")
            for number in range(6):
                try:
                    await interaction.followup.send(f"follow-up {number + 1}")
                except discord.HTTPException as error:
                    self.errors.append(error)

        @self.tree.command(name="post", description="Try to post in the channel with the bot token")
        @app_commands.allowed_installs(guilds=True, users=True)
        @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
        async def post(interaction: discord.Interaction) -> None:
            try:
                await self.http.send_message(interaction.channel_id or 0, params=_content("by REST"))
            except discord.HTTPException as error:
                self.rest_errors.append(error)
            await interaction.response.send_message("tried", ephemeral=True)

        @self.tree.command(name="knock", description="Show a button anyone may click")
        @app_commands.allowed_installs(guilds=True, users=True)
        @app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
        async def knock(interaction: discord.Interaction) -> None:
            view = discord.ui.View()
            button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
                label="Knock", custom_id="user-app:knock"
            )

            async def knocked(click: discord.Interaction) -> None:
                self.knocks.append((click.user.id, click.is_user_integration()))
                await click.response.defer()

            button.callback = knocked  # type: ignore[method-assign]
            view.add_item(button)
            await interaction.response.send_message("knock knock", view=view)

        @self.tree.command(name="moderate", description="Only for servers that added the bot")
        async def moderate(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("moderated", ephemeral=True)


def _content(text: str) -> discord.http.MultipartParameters:
    return discord.http.handle_message_parameters(content=text)


@pytest.fixture
async def bot(emulator: DiscordEmulator) -> AsyncIterator[UserAppBot]:
    async with emulator.run_bot(UserAppBot()) as started:
        await started.tree.sync()
        yield started


@pytest.fixture
def elsewhere(emulator: DiscordEmulator) -> Guild:
    """A server that never added the bot."""
    return emulator.add_guild("Another Community", bot_installed=False)


@pytest.fixture
def listener(emulator: DiscordEmulator, elsewhere: Guild) -> Member:
    return emulator.add_member(elsewhere, "listener")


def seen_last(bot: UserAppBot) -> discord.Interaction:
    assert bot.seen, "the bot received no /where"
    return bot.seen[-1]


async def test_synced_commands_keep_the_installs_and_contexts_discord_py_sends(
    emulator: DiscordEmulator, bot: UserAppBot
) -> None:
    """application-commands.mdx, "Application Command Structure": integration_types and contexts."""
    synced = {command["name"]: command for command in emulator.synced_commands()}
    assert (synced["where"]["integration_types"], synced["where"]["contexts"]) == ([0, 1], [0, 1, 2])
    assert (synced["moderate"]["integration_types"], synced["moderate"]["contexts"]) == ([0], [0])
    application = await bot.http.application_info()
    assert application["integration_types_config"].keys() == {"0", "1"}  # User Install is on


async def test_a_user_install_answers_in_a_server_the_bot_is_not_in(
    emulator: DiscordEmulator, bot: UserAppBot, elsewhere: Guild, listener: Member
) -> None:
    """receiving-and-responding.mdx, "Authorizing Integration Owners Object" and app_permissions;
    change-log.mdx, "Calculated Permissions in Interaction Payloads"."""
    emulator.add_user_install(listener)
    result = await emulator.run_command(listener, elsewhere.general, "where")

    assert result.content == "context [0]"
    assert not result.ephemeral
    assert [message["content"] for message in emulator.messages(elsewhere.general)] == ["context [0]"]
    interaction = seen_last(bot)
    assert interaction.is_user_integration()
    assert not interaction.is_guild_integration()
    assert interaction.guild is not None
    assert interaction.guild.id == elsewhere.id
    assert bot.get_guild(elsewhere.id) is None  # it never joined: no GUILD_CREATE
    assert isinstance(interaction.user, discord.Member)
    assert interaction.app_permissions.embed_links
    assert interaction.app_permissions.attach_files
    assert not interaction.app_permissions.manage_guild


async def test_a_user_install_answers_in_a_dm_between_friends(
    emulator: DiscordEmulator, bot: UserAppBot, listener: Member
) -> None:
    """receiving-and-responding.mdx, "Interaction Context Types": PRIVATE_CHANNEL, and `user` in a DM."""
    friend = emulator.add_user("friend")
    dm = emulator.dm(listener, friend)
    emulator.add_user_install(listener)
    result = await emulator.run_command(listener, dm, "where")

    assert result.content == "context [2]"
    assert [message["content"] for message in emulator.messages(dm)] == ["context [2]"]
    interaction = seen_last(bot)
    assert interaction.guild is None
    assert isinstance(interaction.user, discord.User)
    assert interaction.user.id == listener.id
    assert isinstance(interaction.channel, discord.DMChannel)
    assert interaction.app_permissions.value == (
        Permission.ATTACH_FILES | Permission.EMBED_LINKS | Permission.MENTION_EVERYONE
    )


async def test_a_group_dm_is_a_private_channel_too(
    emulator: DiscordEmulator, bot: UserAppBot, listener: Member
) -> None:
    """receiving-and-responding.mdx: PRIVATE_CHANNEL covers "Group DMs and DMs other than the app's bot"."""
    group = emulator.add_group_dm(listener, emulator.add_user("ann"), emulator.add_user("bob"), name="pod")
    emulator.add_user_install(listener)
    await emulator.run_command(listener, group, "where")
    assert isinstance(seen_last(bot).channel, discord.GroupChannel)


async def test_the_bot_dm_is_authorized_by_both_installations(
    emulator: DiscordEmulator, bot: UserAppBot, listener: Member
) -> None:
    """receiving-and-responding.mdx: "0" is "0" in a DM with the app's bot user; "1" is the user."""
    dm = emulator.bot_dm(listener)
    result = await emulator.run_command(listener, dm, "where")
    assert result.content == "context [1]"
    assert result.message is not None
    assert result.message["interaction_metadata"]["authorizing_integration_owners"] == {"0": "0"}
    assert not seen_last(bot).is_user_integration()

    emulator.add_user_install(listener)
    result = await emulator.run_command(listener, dm, "where")
    assert result.message is not None
    owners = result.message["interaction_metadata"]["authorizing_integration_owners"]
    assert owners == {"0": "0", "1": str(listener.id)}
    assert seen_last(bot).is_user_integration()


async def test_commands_are_offered_only_where_their_installs_and_contexts_allow(
    emulator: DiscordEmulator, bot: UserAppBot, elsewhere: Guild, listener: Member
) -> None:
    """application-commands.mdx, "Contexts": integration_types and contexts decide where a command is."""
    friend_dm = emulator.dm(listener, emulator.add_user("friend"))
    with pytest.raises(CommandUsageError, match="integration_types"):
        await emulator.run_command(listener, elsewhere.general, "where")  # not installed anywhere
    with pytest.raises(CommandUsageError, match="integration_types"):
        await emulator.run_command(listener, friend_dm, "where")

    emulator.add_user_install(listener)
    with pytest.raises(CommandUsageError, match="integration_types"):
        await emulator.run_command(listener, elsewhere.general, "moderate")  # server install only
    with pytest.raises(CommandUsageError, match="cannot be used in a DM or group DM"):
        await emulator.run_command(listener, friend_dm, "moderate")
    with pytest.raises(CommandUsageError, match="cannot be used in the DM with the app's bot"):
        await emulator.run_command(listener, emulator.bot_dm(listener), "moderate")
    assert bot.seen == []


async def test_without_use_external_apps_the_answer_is_only_for_the_user(
    emulator: DiscordEmulator, bot: UserAppBot, elsewhere: Guild, listener: Member
) -> None:
    """topics/permissions.mdx, USE_EXTERNAL_APPS: "When disabled ... the responses will be ephemeral"."""
    emulator.edit_role(
        elsewhere.everyone,
        permissions=Permission(elsewhere.everyone.permissions) & ~Permission.USE_EXTERNAL_APPS,
    )
    emulator.add_user_install(listener)
    result = await emulator.run_command(listener, elsewhere.general, "where")

    assert result.ephemeral
    assert result.errors == ()
    assert emulator.messages(elsewhere.general) == []
    assert not seen_last(bot).permissions.use_external_apps


async def test_use_external_apps_does_not_matter_where_the_server_installed_the_app(
    emulator: DiscordEmulator, bot: UserAppBot
) -> None:
    """topics/permissions.mdx, USE_EXTERNAL_APPS: "This only applies to apps not also installed to the
    server"."""
    home = emulator.add_guild(
        "Home",
        everyone_permissions=Permission.VIEW_CHANNEL
        | Permission.SEND_MESSAGES
        | Permission.USE_APPLICATION_COMMANDS,
    )
    member = emulator.add_member(home, "member")
    emulator.add_user_install(member)
    result = await emulator.run_command(member, home.general, "where")

    assert not result.ephemeral
    assert seen_last(bot).is_guild_integration()
    assert seen_last(bot).is_user_integration()


async def test_a_user_install_may_send_five_follow_ups(
    emulator: DiscordEmulator, bot: UserAppBot, elsewhere: Guild, listener: Member
) -> None:
    """change-log.mdx, June 27 2024: user-installed apps are "limited to creating a maximum of 5
    follow-ups"; topics/opcodes-and-status-codes.mdx: 40094."""
    emulator.add_user_install(listener)
    result = await emulator.run_command(listener, elsewhere.general, "chatty", settle=0.3)

    assert [message["content"] for message in result.followups] == [f"follow-up {n}" for n in range(1, 6)]
    assert [error.code for error in bot.errors] == [40094]


async def test_the_server_install_has_no_follow_up_limit(emulator: DiscordEmulator, bot: UserAppBot) -> None:
    """change-log.mdx, June 27 2024: "apps installed to the server are unaffected"."""
    home = emulator.add_guild("Home")
    member = emulator.add_member(home, "member")
    result = await emulator.run_command(member, home.general, "chatty", settle=0.3)

    assert len(result.followups) == 6
    assert bot.errors == []


async def test_the_bot_token_cannot_post_where_only_the_user_installed_the_app(
    emulator: DiscordEmulator, bot: UserAppBot, elsewhere: Guild, listener: Member
) -> None:
    """resources/application.mdx, "User Context": apps installed only to a user "can't take actions in a
    server"; the channel of a DM between users is not the bot's either."""
    emulator.add_user_install(listener)
    friend_dm = emulator.dm(listener, emulator.add_user("friend"))
    await emulator.run_command(listener, elsewhere.general, "post")
    await emulator.run_command(listener, friend_dm, "post")

    assert [(error.status, error.code) for error in bot.rest_errors] == [(403, 50001), (403, 50001)]
    assert emulator.messages(elsewhere.general) == []
    assert emulator.messages(friend_dm) == []


async def test_a_click_keeps_the_installation_of_the_message_it_is_on(
    emulator: DiscordEmulator, bot: UserAppBot, elsewhere: Guild, listener: Member
) -> None:
    """receiving-and-responding.mdx: authorizing_integration_owners "can be used to tell the difference
    between the authorizing user and the user that triggered an interaction (like a message component)"."""
    neighbour = emulator.add_member(elsewhere, "neighbour")
    emulator.add_user_install(listener)
    shown = await emulator.run_command(listener, elsewhere.general, "knock")
    assert shown.message is not None
    assert shown.message["interaction_metadata"]["authorizing_integration_owners"] == {"1": str(listener.id)}

    await emulator.click(listener, shown.message, "user-app:knock")
    await emulator.click(neighbour, shown.message, "user-app:knock")
    assert bot.knocks == [(listener.id, True), (neighbour.id, False)]


async def test_an_app_without_user_install_refuses_it() -> None:
    """resources/application.mdx, "Setting Supported Installation Contexts"; application-commands.mdx:
    integration_types must be "supported on the application-level"."""
    async with DiscordEmulator(user_install=False) as emulator:
        guild = emulator.add_guild("Home")
        member = emulator.add_member(guild, "member")
        with pytest.raises(CommandUsageError, match="does not support user installs"):
            emulator.add_user_install(member)
        async with emulator.run_bot(UserAppBot()) as bot:
            with pytest.raises(discord.HTTPException) as refused:
                await bot.tree.sync()
        assert refused.value.code == 50035
