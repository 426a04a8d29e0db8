"""A minimal, ordinary discord.py bot used to prove the emulator speaks Discord's protocol."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

LONG_CONTENT = "x" * 2001


class ClickView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Click me", custom_id="mini:click", style=discord.ButtonStyle.primary)
    async def clicked(self, interaction: discord.Interaction, button: discord.ui.Button[ClickView]) -> None:
        await interaction.response.edit_message(content=f"clicked by {interaction.user.name}", view=None)


class PickView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.select(
        custom_id="mini:pick",
        options=[discord.SelectOption(label=name, value=name) for name in ("gans", "graphs", "bayes")],
        max_values=2,
    )
    async def picked(self, interaction: discord.Interaction, select: discord.ui.Select[PickView]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"picked {', '.join(select.values)}", view=None)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    feedback: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Your feedback", custom_id="mini:feedback", max_length=200
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.feedback.value}", ephemeral=True)


admin = app_commands.Group(name="admin", description="Admin tools")
roles = app_commands.Group(name="roles", description="Role tools", parent=admin)


@roles.command(name="grant", description="Grant a role")
@app_commands.describe(member="Who", role="Which role", where="Announce where", days="For how long")
async def grant(
    interaction: discord.Interaction,
    member: discord.Member,
    role: discord.Role,
    where: discord.TextChannel,
    days: app_commands.Range[int, 1, 30] = 7,
) -> None:
    await interaction.response.send_message(
        f"{member.id}|{member.guild_permissions.value}|{role.name}|{where.name}|{days}"
    )


TOPICS = ["gans", "gaussian processes", "game theory", "graphs", "transformers"]


class MiniBot(commands.Bot):
    """Registers its commands globally in setup_hook, like a typical small bot."""

    def __init__(self, *, intents: discord.Intents | None = None) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents or discord.Intents(guilds=True),
            guild_ready_timeout=0.1,
        )
        self.identify_delay = 0.0
        self.seen_messages: list[discord.Message] = []
        self.removed_guilds: list[int] = []
        self.joined_guilds: list[int] = []
        self.unavailable_guilds: list[int] = []
        self.available_guilds: list[int] = []
        self.thread_updates: list[discord.Thread] = []
        self.interactions_seen: list[discord.Interaction] = []
        self.followup_errors: list[discord.HTTPException] = []

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.removed_guilds.append(guild.id)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.joined_guilds.append(guild.id)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.interactions_seen.append(interaction)

    async def on_guild_unavailable(self, guild: discord.Guild) -> None:
        self.unavailable_guilds.append(guild.id)

    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.available_guilds.append(guild.id)

    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        self.thread_updates.append(after)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before every re-IDENTIFY; the test bot keeps the suite fast.
        await asyncio.sleep(self.identify_delay)

    async def setup_hook(self) -> None:
        tree = self.tree

        @tree.command(name="ping", description="Check the bot is alive")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        @tree.command(name="slow", description="Defer, then follow up")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.05)
            await interaction.followup.send("done thinking")

        @tree.command(name="say", description="Say something, with no allowed_mentions of its own")
        async def say(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.send_message(text)
            await interaction.followup.send(f"again: {text}")

        @tree.command(name="embed", description="Send an embed")
        async def embed(interaction: discord.Interaction) -> None:
            card = discord.Embed(title="Episode 42", description="About GANs", colour=0x3366FF)
            card.add_field(name="Duration", value="31 min", inline=True)
            card.set_footer(text="Data Science at Home")
            await interaction.response.send_message(embed=card)

        @tree.command(name="topic", description="Find a topic")
        async def topic(interaction: discord.Interaction, query: str) -> None:
            await interaction.response.send_message(f"topic: {query}", ephemeral=True)

        @topic.autocomplete("query")
        async def topic_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=t, value=t) for t in TOPICS if t.startswith(current)]

        @tree.command(name="flood", description="Autocomplete with too many choices")
        async def flood(interaction: discord.Interaction, query: str) -> None:
            await interaction.response.send_message(query)

        @flood.autocomplete("query")
        async def flood_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=f"choice {n}", value=str(n)) for n in range(30)]

        @tree.command(name="buttons", description="Show a button")
        async def buttons(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("press it", view=ClickView())

        @tree.command(name="feedback", description="Open a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FeedbackModal())

        @tree.command(name="long", description="Try to send too much, then report the error")
        async def long(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message(LONG_CONTENT)
            except discord.HTTPException as error:
                await interaction.response.send_message(
                    f"rejected {error.status} {error.code}", ephemeral=True
                )

        @tree.command(name="late", description="Answer after the deadline")
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.4)
            await interaction.response.send_message("too late")

        @tree.command(name="config", description="Moderators only")
        @app_commands.default_permissions(manage_guild=True)
        async def config(interaction: discord.Interaction) -> None:
            allowed = interaction.permissions.manage_guild
            await interaction.response.send_message("configured" if allowed else "denied", ephemeral=True)

        @tree.command(name="later", description="Private deferral, edited, then a public follow-up")
        async def later(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.edit_original_response(content="only you see this")
            await interaction.followup.send("everyone sees this")

        @tree.command(name="vanish", description="Reply, then delete the reply")
        async def vanish(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("now you see me")
            await interaction.delete_original_response()
            await interaction.followup.send("gone", ephemeral=True)

        @tree.command(name="pick", description="Show a select menu")
        async def pick(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pick topics", view=PickView())

        @tree.command(name="patient", description="Follow up after a while")
        async def patient(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("first")
            await asyncio.sleep(0.4)
            try:
                await interaction.followup.send("second")
            except discord.HTTPException as error:
                self.followup_errors.append(error)

        tree.add_command(admin)
        await tree.sync()
