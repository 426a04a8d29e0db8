"""/suggest and /suggestions: listeners propose topics and guests, vote, and hear when the episode is out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

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
    Draft,
    Notification,
    RateLimited,
    SuggestionError,
    SuggestionService,
)
from bot.community.views import (
    COG_NAME,
    NO_MENTIONS,
    ReviewView,
    SuggestionVoteButton,
    VoteAction,
    card_embed,
    card_url,
    card_view,
    episode_label,
    notification_message,
    review_text,
    shown,
    vote_buttons,
    votes_text,
)
from bot.db.announcements import Announcement
from bot.db.suggestions import Suggestion, SuggestionRepository
from bot.errors import UserFacingError
from bot.models import StoredEpisode
from bot.permissions import describe, missing_in
from cogs.checks import guild_of, require_manage_guild

log = logging.getLogger(__name__)

CARD_PERMISSIONS = ("view_channel", "send_messages", "embed_links")


@dataclass(frozen=True, slots=True)
class Published:
    """Where a new suggestion's card went: a channel message, or nowhere public (and why)."""

    message: discord.Message | None
    problem: str | None


def rate_limit_message(error: RateLimited) -> str:
    when = (
        f"{discord.utils.format_dt(error.retry_at, 'R')} (at {discord.utils.format_dt(error.retry_at, 't')})"
    )
    return f"{error} You can suggest again {when}."


class SuggestionsCog(commands.Cog, name=COG_NAME):
    suggestions = app_commands.Group(
        name="suggestions", description="Listener suggestions for future episodes", guild_only=True
    )
    channel = app_commands.Group(
        name="channel", description="Where suggestions are posted (moderators)", parent=suggestions
    )

    def __init__(self, client: discord.Client, service: SuggestionService, announcer: Announcer) -> None:
        self._client = client
        self._service = service
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
            view = ReviewView(self, review)
            view.prompt = await interaction.followup.send(
                review_text(review), view=view, ephemeral=True, wait=True, allowed_mentions=NO_MENTIONS
            )
            return
        suggestion = await self._service.submit(draft)
        content, embed = _posted_reply(suggestion, await self._publish(guild, suggestion))
        await interaction.followup.send(
            content, embeds=[] if embed is None else [embed], ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def submit_anyway(self, interaction: discord.Interaction[Any], draft: Draft) -> None:
        await interaction.response.defer()  # the prompt is edited once the card is out
        try:
            suggestion = await self._service.submit(draft)
        except RateLimited as error:
            await interaction.edit_original_response(
                content=rate_limit_message(error), view=None, allowed_mentions=NO_MENTIONS
            )
            return
        content, embed = _posted_reply(suggestion, await self._publish(guild_of(interaction), suggestion))
        await interaction.edit_original_response(
            content=content, embeds=[] if embed is None else [embed], view=None, allowed_mentions=NO_MENTIONS
        )

    async def vote_instead(self, interaction: discord.Interaction[Any], draft: Draft, number: int) -> None:
        try:
            outcome = await self._service.vote(draft.guild_id, number, interaction.user.id)
        except SuggestionError as error:
            await self._update_prompt(interaction, f"{error} Nothing was posted.")
            return
        suggestion = outcome.suggestion
        if outcome.changed:
            text = (
                f"Your vote went to #{suggestion.number} instead: it has {votes_text(suggestion.votes)} now."
            )
        else:
            text = f"You had already voted for #{suggestion.number}; it has {votes_text(suggestion.votes)}."
        await self._update_prompt(interaction, f"{text} Nothing new was posted.")
        if outcome.changed:
            await self.refresh_card(suggestion)

    @staticmethod
    async def _update_prompt(interaction: discord.Interaction[Any], text: str) -> None:
        await interaction.response.edit_message(content=text, view=None, allowed_mentions=NO_MENTIONS)

    async def _publish(self, guild: discord.Guild, suggestion: Suggestion) -> Published:
        """Post the card in the server's suggestions channel, if it has one the bot can post in."""
        channel_id = await self._service.channel(guild.id)
        if channel_id is None:
            return Published(None, "This server has no suggestions channel yet")
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            return Published(None, f"The suggestions channel <#{channel_id}> is gone")
        missing = missing_in(channel, channel.guild.me, CARD_PERMISSIONS)
        if missing:
            return Published(None, f"I lack the {describe(missing)} permission in {channel.mention}")
        try:
            message = await channel.send(
                embed=card_embed(suggestion),
                view=vote_buttons(suggestion.number),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as error:
            log.warning("Could not post suggestion #%s in %s: %s", suggestion.number, channel.id, error)
            return Published(None, f"Discord refused the card in {channel.mention}")
        await self._service.attach_card(suggestion, channel_id=channel.id, message_id=message.id)
        return Published(message, None)

    # ---- votes ---------------------------------------------------------------------------------

    async def vote_clicked(
        self, interaction: discord.Interaction[Any], number: int, action: VoteAction
    ) -> None:
        guild = guild_of(interaction)
        try:
            if action == "up":
                outcome = await self._service.vote(guild.id, number, interaction.user.id)
            else:
                outcome = await self._service.unvote(guild.id, number, interaction.user.id)
        except SuggestionError as error:
            await interaction.response.send_message(str(error), ephemeral=True)
            return
        if not outcome.changed:
            text = (
                f"You already voted for #{number}: one vote per member."
                if action == "up"
                else f"You have not voted for #{number}, so there is no vote to remove."
            )
            await interaction.response.send_message(text, ephemeral=True)
            return
        suggestion = outcome.suggestion
        await interaction.response.edit_message(
            embed=card_embed(suggestion), view=card_view(suggestion), allowed_mentions=NO_MENTIONS
        )
        thanks = "Thanks: your vote counts." if action == "up" else "Your vote is removed."
        await interaction.followup.send(
            f"{thanks} #{number} has {votes_text(suggestion.votes)}.", ephemeral=True
        )

    async def refresh_card(self, suggestion: Suggestion) -> None:
        """Show the suggestion's current votes and status on its card, if it has one."""
        if suggestion.channel_id is None or suggestion.message_id is None:
            return
        card = self._client.get_partial_messageable(suggestion.channel_id).get_partial_message(
            suggestion.message_id
        )
        try:
            await card.edit(
                embed=card_embed(suggestion), view=card_view(suggestion), allowed_mentions=NO_MENTIONS
            )
        except discord.HTTPException as error:
            log.warning("Could not update the card of suggestion %s: %s", suggestion.id, error)

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
            colour=discord.Colour(0x2B6CB0),
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
            colour=discord.Colour(0x2B6CB0),
        )
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)

    # ---- /suggestions (moderators) -------------------------------------------------------------

    @channel.command(name="set", description="Post suggestion cards in this channel (moderators)")
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

    @channel.command(name="clear", description="Stop posting suggestion cards (moderators)")
    async def channel_clear(self, interaction: discord.Interaction[PodcastBot]) -> None:
        require_manage_guild(interaction)
        await self._service.set_channel(guild_of(interaction).id, None)
        await interaction.response.send_message(
            "Suggestion cards are off: new suggestions are shown only to their author until you set a "
            "channel again with /suggestions channel set.",
            ephemeral=True,
        )

    @suggestions.command(name="mark", description="Mark a suggestion planned, done or declined (moderators)")
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
        await self.refresh_card(suggestion)
        text = f"#{number} is now {status}."
        if outcome.notification is not None:
            if await self._notify(outcome.notification):
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
            await self._notify(notification)

    async def _notify(self, notification: Notification) -> bool:
        """Post the notification; True once it is out (and recorded, so nobody is told twice)."""
        content, mentions = notification_message(notification)
        channel = self._client.get_partial_messageable(
            notification.channel_id, guild_id=notification.guild_id
        )
        try:
            if notification.reply_to is None:
                await channel.send(content, allowed_mentions=mentions)
            else:
                # The announcement may have been deleted: then post without the reply.
                original = channel.get_partial_message(notification.reply_to)
                reference = original.to_reference(fail_if_not_exists=False)
                await channel.send(content, reference=reference, allowed_mentions=mentions)
        except discord.HTTPException as error:
            log.warning(
                "Could not tell the voters of suggestions %s in %s: %s",
                [s.number for s in notification.suggestions],
                notification.channel_id,
                error,
            )
            return False
        await self._service.notified(notification)
        return True

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        if await self._service.channel_deleted(channel.guild.id, channel.id):
            log.info("Suggestions channel %s of server %s was deleted", channel.id, channel.guild.id)


def _posted_reply(suggestion: Suggestion, published: Published) -> tuple[str, discord.Embed | None]:
    """What the author is told once their suggestion is stored: where its card is, or the card itself
    (privately) and why it is not public."""
    if published.message is not None:
        return (
            f"Thanks! Your suggestion is up as **#{suggestion.number}**: {published.message.jump_url}\n"
            "It counts as your vote; others can upvote it there.",
            None,
        )
    return (
        f"Thanks! Your suggestion is saved as **#{suggestion.number}**, but only you can see it: "
        f"{published.problem}. A moderator can fix that with `/suggestions channel set`.",
        card_embed(suggestion),
    )


def _listing(suggestion: Suggestion) -> str:
    url = card_url(suggestion)
    topic = shown(suggestion.topic)
    linked = f"[{topic}]({url})" if url else topic
    status = "" if suggestion.status == "open" else f" · {suggestion.status}"
    return f"#{suggestion.number} {linked} · {votes_text(suggestion.votes)}{status}"


async def setup(bot: PodcastBot) -> None:
    services = bot.services
    service = SuggestionService(
        SuggestionRepository(services.database),
        search=services.search,
        episodes=services.episodes,
        outbox=services.outbox,
    )
    bot.add_dynamic_items(SuggestionVoteButton)
    await bot.add_cog(SuggestionsCog(bot, service, bot.announcer))
