"""Suggestions on Discord: the card and its vote buttons, the "is it one of these?" prompt, the texts."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import discord
from discord.ext import commands

from bot.announce.render import EMBED_TITLE_LIMIT, episode_url, truncate_words
from bot.community.suggestions import Draft, EpisodeMatch, Notification, Review, SimilarSuggestion
from bot.db.suggestions import Suggestion, SuggestionStatus
from bot.models import StoredEpisode

log = logging.getLogger(__name__)

COG_NAME = "Suggestions"
VoteAction = Literal["up", "down"]
CONTENT_LIMIT = 2000
REVIEW_TIMEOUT = 300.0  # seconds a pending "is it one of these?" choice is kept
MAX_MENTIONS = 50
MAX_TOPICS_IN_NOTIFICATION = 5
NO_MENTIONS = discord.AllowedMentions.none()

STATUS_LINES: dict[SuggestionStatus, str] = {
    "open": "🟢 Open for votes",
    "planned": "🗓️ Planned: it is on the list for a future episode",
    "done": "✅ Done",
    "declined": "❌ Declined",
}
STATUS_COLOURS: dict[SuggestionStatus, discord.Colour] = {
    "open": discord.Colour(0x2B6CB0),
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


@runtime_checkable
class SuggestionActions(Protocol):
    """What the buttons and the prompt ask of the cog, which holds the service and posts cards."""

    async def vote_clicked(
        self, interaction: discord.Interaction[Any], number: int, action: VoteAction
    ) -> None: ...

    async def vote_instead(
        self, interaction: discord.Interaction[Any], draft: Draft, number: int
    ) -> None: ...

    async def submit_anyway(self, interaction: discord.Interaction[Any], draft: Draft) -> None: ...


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
        await _actions(interaction).vote_clicked(interaction, self.number, self.action)


def _actions(interaction: discord.Interaction[Any]) -> SuggestionActions:
    client = interaction.client
    cog = client.get_cog(COG_NAME) if isinstance(client, commands.Bot) else None
    if not isinstance(cog, SuggestionActions):
        raise RuntimeError("the suggestions cog is not loaded")
    return cog


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


class ReviewView(discord.ui.View):
    """The choice offered when a draft resembles something: vote instead, submit anyway, or cancel.
    The draft lives only here: it is dropped when the choice expires."""

    def __init__(self, actions: SuggestionActions, review: Review) -> None:
        super().__init__(timeout=REVIEW_TIMEOUT)
        self._actions = actions
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
            await self._actions.vote_instead(interaction, self._draft, number)

        return vote

    async def _submit(self, interaction: discord.Interaction[Any]) -> None:
        self.stop()
        await self._actions.submit_anyway(interaction, self._draft)

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
