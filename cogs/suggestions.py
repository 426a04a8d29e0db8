"""/suggest and /suggestions: listeners propose topics and guests, vote, and hear when the episode is out."""

from __future__ import annotations

import logging
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.announce.announcer import Announcer
from bot.app import PodcastBot
from bot.community.suggestions import (
    DETAILS_MAX_CHARS,
    REASON_MAX_CHARS,
    TOPIC_MAX_CHARS,
    TOPIC_MIN_CHARS,
    RateLimited,
    SuggestionService,
)
from bot.db.announcements import Announcement
from bot.db.suggestions import Suggestion
from bot.errors import UserFacingError
from bot.models import StoredEpisode
from bot.permissions import describe, missing_in
from bot.ui.cards import EMBED_COLOUR
from bot.ui.suggestions import (
    CARD_PERMISSIONS,
    NO_MENTIONS,
    ReviewView,
    SuggestionBoard,
    SuggestionVoteButton,
    card_url,
    episode_label,
    rate_limit_message,
    review_text,
    shown,
    votes_text,
)
from cogs.checks import FOR_MODERATORS, guild_of, require_manage_guild

log = logging.getLogger(__name__)


class SuggestionsCog(commands.Cog):
    suggestions = app_commands.Group(
        name="suggestions", description="Listener suggestions for future episodes", guild_only=True
    )
    channel = app_commands.Group(
        name="channel", description="Where suggestions are posted (moderators)", parent=suggestions
    )

    def __init__(self, client: discord.Client, service: SuggestionService, announcer: Announcer) -> None:
        self._service = service
        self._board = SuggestionBoard(client, service)
        self._announcer = announcer

    async def cog_load(self) -> None:
        self._announcer.on_announced.append(self.on_episode_announced)

    async def cog_unload(self) -> None:
        self._announcer.on_announced.remove(self.on_episode_announced)

    # ---- /suggest ------------------------------------------------------------------------------

    @app_commands.command(name="suggest", description="Suggest a topic or a guest for a future episode")
    @app_commands.describe(topic="The topic or guest, in a few words", details="Why, links, anything useful")
    @app_commands.guild_only()
    async def suggest(
        self,
        interaction: discord.Interaction[PodcastBot],
        topic: app_commands.Range[str, TOPIC_MIN_CHARS, TOPIC_MAX_CHARS],
        details: app_commands.Range[str, 1, DETAILS_MAX_CHARS] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        draft = self._service.draft(guild.id, interaction.user.id, topic, details)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            review = await self._service.review(draft)
        except RateLimited as error:
            raise UserFacingError(rate_limit_message(error)) from error
        if not review.clear:
            view = ReviewView(self._board, review)
            view.prompt = await interaction.followup.send(
                review_text(review), view=view, ephemeral=True, wait=True, allowed_mentions=NO_MENTIONS
            )
            return
        try:
            content, embed = await self._board.submit(guild, draft)
        except RateLimited as error:
            raise UserFacingError(rate_limit_message(error)) from error
        await interaction.followup.send(
            content, embeds=[] if embed is None else [embed], ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    # ---- /suggestions (everyone) ---------------------------------------------------------------

    @suggestions.command(name="top", description="The most voted suggestions still waiting for an episode")
    @app_commands.describe(period="Suggestions made in the last week, month, or ever")
    async def top(
        self, interaction: discord.Interaction[PodcastBot], period: Literal["week", "month", "all"] = "all"
    ) -> None:
        found = await self._service.top(guild_of(interaction).id, period)
        if not found:
            raise UserFacingError("No open suggestions yet: be the first with /suggest.")
        since = {"week": "this week", "month": "this month", "all": "ever"}[period]
        embed = discord.Embed(
            title=f"Top suggestions ({since})",
            description="\n".join(f"**{rank}.** {_listing(s)}" for rank, s in enumerate(found, 1))[:4096],
            colour=EMBED_COLOUR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    @suggestions.command(name="mine", description="Your suggestions in this server and how they are doing")
    async def mine(self, interaction: discord.Interaction[PodcastBot]) -> None:
        found = await self._service.mine(guild_of(interaction).id, interaction.user.id)
        if not found:
            raise UserFacingError("You have not suggested anything here yet: try /suggest.")
        embed = discord.Embed(
            title="Your suggestions",
            description="\n".join(_listing(s) for s in found)[:4096],
            colour=EMBED_COLOUR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # ---- /suggestions (moderators) -------------------------------------------------------------

    @channel.command(
        name="set", description="Post suggestion cards in this channel (moderators)", extras=FOR_MODERATORS
    )
    async def channel_set(
        self, interaction: discord.Interaction[PodcastBot], channel: discord.TextChannel
    ) -> None:
        require_manage_guild(interaction)
        guild = guild_of(interaction)
        missing = missing_in(channel, channel.guild.me, CARD_PERMISSIONS)
        if missing:
            raise UserFacingError(
                f"I can't post suggestions in {channel.mention}: I lack the {describe(missing)} "
                "permission there. Grant it to my role in the channel settings, then run this again. "
                "Nothing was changed."
            )
        await self._service.set_channel(guild.id, channel.id)
        log.info("Server %s: %s set the suggestions channel to %s", guild.id, interaction.user.id, channel.id)
        await interaction.response.send_message(
            f"Suggestions will be posted in {channel.mention}. Members suggest with /suggest.", ephemeral=True
        )

    @channel.command(
        name="clear", description="Stop posting suggestion cards (moderators)", extras=FOR_MODERATORS
    )
    async def channel_clear(self, interaction: discord.Interaction[PodcastBot]) -> None:
        require_manage_guild(interaction)
        await self._service.set_channel(guild_of(interaction).id, None)
        await interaction.response.send_message(
            "Suggestion cards are off: new suggestions are shown only to their author until you set a "
            "channel again with /suggestions channel set.",
            ephemeral=True,
        )

    @suggestions.command(
        name="mark",
        description="Mark a suggestion planned, done or declined (moderators)",
        extras=FOR_MODERATORS,
    )
    @app_commands.rename(number="id")
    @app_commands.describe(
        number="The suggestion's number: 12 for #12",
        status="Its new status",
        reason="Shown on its card",
        episode="Done: the number of the episode that covered it (it may not be out yet)",
    )
    async def mark(
        self,
        interaction: discord.Interaction[PodcastBot],
        number: app_commands.Range[int, 1, 10**9],
        status: Literal["planned", "done", "declined"],
        reason: app_commands.Range[str, 1, REASON_MAX_CHARS] | None = None,
        episode: app_commands.Range[int, 1, 100_000] | None = None,
    ) -> None:
        require_manage_guild(interaction)
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self._service.mark(guild.id, number, status, reason=reason, episode_number=episode)
        suggestion = outcome.suggestion
        await self._board.refresh_card(suggestion)
        text = f"#{number} is now {status}."
        if outcome.notification is not None:
            if await self._board.notify(outcome.notification):
                text += (
                    f" I told the {len(outcome.notification.user_ids)} people who suggested or voted for it "
                    f"in <#{outcome.notification.channel_id}>."
                )
            else:
                text += " I could not tell its voters: see the bot's log."
        elif outcome.waiting_for_announcement:
            text += f" When Ep. {episode} is announced here, I will tell who suggested or voted for it."
        elif outcome.episode is not None:
            text += (
                f" {episode_label(outcome.episode)} came out before announcements started here and #{number} "
                "has no public card, so nobody was told."
            )
        log.info("Server %s: %s marked suggestion #%s %s", guild.id, interaction.user.id, number, status)
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # ---- telling the voters --------------------------------------------------------------------

    async def on_episode_announced(self, announcement: Announcement, episode: StoredEpisode) -> None:
        notification = await self._service.on_announced(announcement, episode)
        if notification is not None:
            await self._board.notify(notification)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        if await self._service.channel_deleted(channel.guild.id, channel.id):
            log.info("Suggestions channel %s of server %s was deleted", channel.id, channel.guild.id)


def _listing(suggestion: Suggestion) -> str:
    url = card_url(suggestion)
    topic = shown(suggestion.topic)
    linked = f"[{topic}]({url})" if url else topic
    status = "" if suggestion.status == "open" else f" · {suggestion.status}"
    return f"#{suggestion.number} {linked} · {votes_text(suggestion.votes)}{status}"


async def setup(bot: PodcastBot) -> None:
    bot.add_dynamic_items(SuggestionVoteButton)
    await bot.add_cog(SuggestionsCog(bot, bot.services.suggestions, bot.services.announcer))
