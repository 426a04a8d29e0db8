"""Suggestions on Discord: the card and its vote buttons, the "is it one of these?" prompt, posting
cards and telling voters (SuggestionBoard), and the texts."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import discord

from bot.community.suggestions import (
    Draft,
    EpisodeMatch,
    Notification,
    RateLimited,
    Review,
    SimilarSuggestion,
    SuggestionError,
    SuggestionService,
)
from bot.db.suggestions import Suggestion, SuggestionStatus
from bot.models import StoredEpisode
from bot.permissions import describe, missing_in
from bot.services import services_of
from bot.ui.cards import EMBED_COLOUR, EMBED_TITLE_LIMIT, episode_url, truncate_words
from bot.ui.replies import View, reported

log = logging.getLogger(__name__)

VoteAction = Literal["up", "down"]
CONTENT_LIMIT = 2000
REVIEW_TIMEOUT = 300.0  # seconds a pending "is it one of these?" choice is kept
MAX_MENTIONS = 50
MAX_TOPICS_IN_NOTIFICATION = 5
NO_MENTIONS = discord.AllowedMentions.none()
CARD_PERMISSIONS = ("view_channel", "send_messages", "embed_links")

STATUS_LINES: dict[SuggestionStatus, str] = {
    "open": "🟢 Open for votes",
    "planned": "🗓️ Planned: it is on the list for a future episode",
    "done": "✅ Done",
    "declined": "❌ Declined",
}
STATUS_COLOURS: dict[SuggestionStatus, discord.Colour] = {
    "open": EMBED_COLOUR,
    "planned": discord.Colour.gold(),
    "done": discord.Colour.green(),
    "declined": discord.Colour.dark_grey(),
}


def shown(text: str) -> str:
    """User text as typed: Markdown shown literally, mentions unable to render as pings."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def episode_label(episode: StoredEpisode) -> str:
    title = shown(truncate_words(episode.title, 150))
    return f"Ep. {episode.number} – {title}" if episode.number is not None else title


def card_url(suggestion: Suggestion) -> str | None:
    if suggestion.channel_id is None or suggestion.message_id is None:
        return None
    return (
        f"https://discord.com/channels/{suggestion.guild_id}/{suggestion.channel_id}/{suggestion.message_id}"
    )


def votes_text(count: int) -> str:
    return f"{count} vote{'' if count == 1 else 's'}"


def status_text(suggestion: Suggestion) -> str:
    line = STATUS_LINES[suggestion.status]
    if suggestion.status == "done" and suggestion.episode_number is not None:
        line += f": covered by Ep. {suggestion.episode_number}"
    if suggestion.status_reason:
        line += f"\n> {shown(suggestion.status_reason)}"
    return line


def card_embed(suggestion: Suggestion) -> discord.Embed:
    embed = discord.Embed(
        title=truncate_words(f"#{suggestion.number} · {shown(suggestion.topic)}", EMBED_TITLE_LIMIT),
        description=shown(suggestion.details) if suggestion.details else None,
        colour=STATUS_COLOURS[suggestion.status],
        timestamp=suggestion.created_at,
    )
    embed.add_field(name="Suggested by", value=f"<@{suggestion.author_id}>")
    embed.add_field(name="Votes", value=str(suggestion.votes))
    embed.add_field(name="Status", value=status_text(suggestion), inline=False)
    if suggestion.is_open:
        embed.set_footer(text="One vote per member; a suggestion counts as its author's vote.")
    return embed


def vote_buttons(number: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(SuggestionVoteButton(number, "up"))
    view.add_item(SuggestionVoteButton(number, "down"))
    return view


def card_view(suggestion: Suggestion) -> discord.ui.View | None:
    """Vote buttons while the suggestion is open or planned; none once it is done or declined."""
    return vote_buttons(suggestion.number) if suggestion.is_open else None


# ---- the vote buttons ---------------------------------------------------------------------------


class SuggestionVoteButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"dsh:suggestion:(?P<action>up|down):(?P<number>\d+)",
):
    """Persistent across restarts: the suggestion's number travels in the custom_id and is looked up
    in the server the click comes from, so a card only ever counts votes for its own server."""

    def __init__(self, number: int, action: VoteAction) -> None:
        up = action == "up"
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.success if up else discord.ButtonStyle.secondary,
                label="Upvote" if up else "Remove vote",
                emoji="👍" if up else None,
                custom_id=f"dsh:suggestion:{action}:{number}",
            )
        )
        self.number = number
        self.action: VoteAction = action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SuggestionVoteButton:
        return cls(int(match["number"]), "up" if match["action"] == "up" else "down")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        async with reported(interaction, source="a suggestion's vote button"):
            board = SuggestionBoard(interaction.client, services_of(interaction).suggestions)
            await board.vote_clicked(interaction, self.number, self.action)


# ---- "is it one of these?" ----------------------------------------------------------------------


def review_text(review: Review) -> str:
    lines = ["Before I post your suggestion: is it one of these?"]
    if review.similar:
        lines.append("**Already suggested here**")
        lines += [_similar_line(match) for match in review.similar]
    if review.episodes:
        lines.append("**Already on the podcast**")
        lines += [_episode_line(match) for match in review.episodes]
    if review.similar:
        lines.append(
            f"You can vote for #{review.similar[0].suggestion.number} instead, or post yours anyway."
        )
    else:
        lines.append("You can still post yours, if it asks for something the episode did not cover.")
    return truncate_words("\n".join(lines), CONTENT_LIMIT)


def _similar_line(match: SimilarSuggestion) -> str:
    suggestion = match.suggestion
    url = card_url(suggestion)
    topic = f"[{shown(suggestion.topic)}]({url})" if url else shown(suggestion.topic)
    status = "" if suggestion.status == "open" else f", {suggestion.status}"
    return f"• **#{suggestion.number}** {topic} ({votes_text(suggestion.votes)}{status})"


def _episode_line(match: EpisodeMatch) -> str:
    url = episode_url(match.episode)
    label = episode_label(match.episode)
    linked = f"[{label}]({url})" if url else label
    if match.guest is not None:
        return f"• There is already an episode with **{shown(match.guest)}**: {linked}"
    return f"• There is already an episode on this: {linked}"


Action = Callable[[discord.Interaction[Any]], Awaitable[None]]


class _ChoiceButton(discord.ui.Button["ReviewView"]):
    def __init__(self, label: str, style: discord.ButtonStyle, action: Action) -> None:
        super().__init__(label=label, style=style)
        self._action = action

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await self._action(interaction)


class ReviewView(View):
    """The choice offered when a draft resembles something: vote instead, submit anyway, or cancel.
    The draft lives only here: it is dropped when the choice expires."""

    def __init__(self, board: SuggestionBoard, review: Review) -> None:
        super().__init__(timeout=REVIEW_TIMEOUT)
        self._board = board
        self._draft = review.draft
        self.prompt: discord.WebhookMessage | None = None
        if review.similar:
            number = review.similar[0].suggestion.number
            self._add(f"Vote for #{number} instead", discord.ButtonStyle.success, self._vote_instead(number))
        self._add("Submit anyway", discord.ButtonStyle.primary, self._submit)
        self._add("Cancel", discord.ButtonStyle.secondary, self._cancel)

    def _add(self, label: str, style: discord.ButtonStyle, action: Action) -> None:
        self.add_item(_ChoiceButton(label, style, action))

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return interaction.user.id == self._draft.author_id

    def _vote_instead(self, number: int) -> Action:
        async def vote(interaction: discord.Interaction[Any]) -> None:
            self.stop()
            await self._board.vote_instead(interaction, self._draft, number)

        return vote

    async def _submit(self, interaction: discord.Interaction[Any]) -> None:
        self.stop()
        await self._board.submit_anyway(interaction, self._draft)

    async def _cancel(self, interaction: discord.Interaction[Any]) -> None:
        self.stop()
        await interaction.response.edit_message(
            content="Cancelled: nothing was posted.", embed=None, view=None, allowed_mentions=NO_MENTIONS
        )

    async def on_timeout(self) -> None:
        if self.prompt is None:
            return
        try:
            await self.prompt.edit(
                content="This choice expired and nothing was posted: run /suggest again if you like.",
                view=None,
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException:
            log.debug("Could not mark an expired suggestion prompt", exc_info=True)


# ---- telling the voters -------------------------------------------------------------------------


def notification_message(notification: Notification) -> tuple[str, discord.AllowedMentions]:
    """The text telling suggesters and voters the episode is out, and the only mentions it may make:
    the people it names (at most MAX_MENTIONS), never a role or @everyone from a topic."""
    header = f"🎉 **{episode_label(notification.episode)}** covers {_topics(notification.suggestions)}"
    people = notification.user_ids[:MAX_MENTIONS]
    more = len(notification.user_ids) - len(people)
    thanks = "Thanks for suggesting and voting: " + " ".join(f"<@{user_id}>" for user_id in people)
    if more:
        thanks += f" and {more} more"
    content = f"{truncate_words(header, CONTENT_LIMIT - len(thanks) - 2)}\n{thanks}"
    mentions = discord.AllowedMentions(
        everyone=False, roles=False, users=[discord.Object(user_id) for user_id in people], replied_user=False
    )
    return content, mentions


def _topics(suggestions: Sequence[Suggestion]) -> str:
    listed = [
        f"**#{suggestion.number}** “{shown(truncate_words(suggestion.topic, 80))}”"
        for suggestion in suggestions[:MAX_TOPICS_IN_NOTIFICATION]
    ]
    extra = len(suggestions) - len(listed)
    if extra:
        listed.append(f"{extra} more")
    noun = "a listener suggestion" if len(suggestions) == 1 else "listener suggestions"
    return f"{noun}: {', '.join(listed)}."


# ---- the board: cards in the suggestions channel, votes, telling the voters ----------------------


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


class SuggestionBoard:
    """What suggestions do on Discord: post and refresh cards, count clicks on the vote buttons, answer
    the "is it one of these?" prompt and tell voters when their episode is out."""

    def __init__(self, client: discord.Client, service: SuggestionService) -> None:
        self._client = client
        self._service = service

    async def submit(self, guild: discord.Guild, draft: Draft) -> tuple[str, discord.Embed | None]:
        """Store the draft and publish its card; what to tell its author (RateLimited if they may not)."""
        suggestion = await self._service.submit(draft)
        return posted_reply(suggestion, await self.publish(guild, suggestion))

    async def submit_anyway(self, interaction: discord.Interaction[Any], draft: Draft) -> None:
        await interaction.response.defer()  # the prompt is edited once the card is out
        guild = interaction.guild
        assert guild is not None  # a draft is only made in a server
        try:
            content, embed = await self.submit(guild, draft)
        except RateLimited as error:
            await interaction.edit_original_response(
                content=rate_limit_message(error), view=None, allowed_mentions=NO_MENTIONS
            )
            return
        await interaction.edit_original_response(
            content=content, embeds=[] if embed is None else [embed], view=None, allowed_mentions=NO_MENTIONS
        )

    async def vote_instead(self, interaction: discord.Interaction[Any], draft: Draft, number: int) -> None:
        try:
            outcome = await self._service.vote(draft.guild_id, number, interaction.user.id)
        except SuggestionError as error:
            await _update_prompt(interaction, f"{error} Nothing was posted.")
            return
        suggestion = outcome.suggestion
        if outcome.changed:
            text = (
                f"Your vote went to #{suggestion.number} instead: it has {votes_text(suggestion.votes)} now."
            )
        else:
            text = f"You had already voted for #{suggestion.number}; it has {votes_text(suggestion.votes)}."
        await _update_prompt(interaction, f"{text} Nothing new was posted.")
        if outcome.changed:
            await self.refresh_card(suggestion)

    async def publish(self, guild: discord.Guild, suggestion: Suggestion) -> Published:
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

    async def vote_clicked(
        self, interaction: discord.Interaction[Any], number: int, action: VoteAction
    ) -> None:
        guild = interaction.guild
        if guild is None:
            await interaction.response.send_message("Votes only count in a server.", ephemeral=True)
            return
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

    async def remove_card(self, suggestion: Suggestion) -> None:
        """Delete the card of a suggestion its author deleted, if it has one."""
        if suggestion.channel_id is None or suggestion.message_id is None:
            return
        card = self._client.get_partial_messageable(suggestion.channel_id).get_partial_message(
            suggestion.message_id
        )
        try:
            await card.delete()
        except discord.HTTPException as error:
            log.warning("Could not delete the card of suggestion %s: %s", suggestion.id, error)

    async def notify(self, notification: Notification) -> bool:
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


async def _update_prompt(interaction: discord.Interaction[Any], text: str) -> None:
    await interaction.response.edit_message(content=text, view=None, allowed_mentions=NO_MENTIONS)


def posted_reply(suggestion: Suggestion, published: Published) -> tuple[str, discord.Embed | None]:
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
