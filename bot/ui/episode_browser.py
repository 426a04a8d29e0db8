"""EpisodeBrowser: the private episode list and card behind /episode, with paging, Share and an expiry."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import discord

from bot.db import EpisodeRepository
from bot.errors import UserFacingError
from bot.models import StoredEpisode
from bot.podcast import PODCAST_NAME
from bot.ui.cards import (
    CONTENT_LIMIT,
    EMBED_COLOUR,
    EMBED_TITLE_LIMIT,
    episode_embed,
    link_buttons,
    link_view,
    truncate_words,
)
from bot.ui.replies import View

log = logging.getLogger(__name__)

PAGE_SIZE = 10
DEFAULT_TIMEOUT = 600.0
# The expiry edit goes through the last interaction's token, which Discord honours for 15 minutes:
# this long after its interaction it is still safe to use.
TOKEN_LIFETIME = 14 * 60.0
OPTION_TEXT_LIMIT = 100
EXPIRED_NOTE = "⌛ These buttons have expired: run the command again to keep browsing."
NOT_YOURS = "These buttons belong to the person who ran the command: run it yourself to get your own."

Interaction = discord.Interaction[Any]
Handler = Callable[[Interaction], Awaitable[None]]
ValueHandler = Callable[[Interaction, str], Awaitable[None]]
Reroll = Callable[[Sequence[int]], Awaitable[StoredEpisode | None]]
# Told which episode the listener opened from the list (for /insights); it must not wait for anything.
OnOpen = Callable[[StoredEpisode], None]


class EpisodeSource(Protocol):
    """A list of episodes to page through."""

    @property
    def heading(self) -> str: ...

    @property
    def total(self) -> int: ...

    async def page(self, offset: int, limit: int) -> Sequence[StoredEpisode]: ...


@dataclass(frozen=True, slots=True)
class ListedEpisodes:
    """Episodes already in hand, such as search results."""

    heading: str
    episodes: tuple[StoredEpisode, ...]

    @property
    def total(self) -> int:
        return len(self.episodes)

    async def page(self, offset: int, limit: int) -> Sequence[StoredEpisode]:
        return self.episodes[offset : offset + limit]


@dataclass(frozen=True, slots=True)
class YearEpisodes:
    """One year of the catalogue, read a page at a time."""

    episodes: EpisodeRepository
    year: int
    total: int

    @property
    def heading(self) -> str:
        return f"Episodes published in {self.year}"

    async def page(self, offset: int, limit: int) -> Sequence[StoredEpisode]:
        return await self.episodes.by_year(self.year, offset=offset, limit=limit)


def episode_facts(episode: StoredEpisode) -> str:
    """ "#59 · 2019-04-30": what tells episodes apart besides their title."""
    facts = [f"#{episode.number}" if episode.number is not None else "no number"]
    if episode.published is not None:
        facts.append(episode.published.date().isoformat())
    if episode.rebroadcast:
        facts.append("rebroadcast")
    return " · ".join(facts)


def list_line(position: int, episode: StoredEpisode) -> str:
    title = discord.utils.escape_markdown(truncate_words(episode.title, 150))
    return f"**{position}.** {title} · {episode_facts(episode)}"


def _share_refusal(interaction: Interaction) -> str | None:
    """Why the card cannot be shared publicly where `interaction` happened, or None if it can."""
    if interaction.guild is None:
        return None  # a DM or group DM: whoever is in it sees the answer
    permissions = interaction.permissions
    if not permissions.send_messages:
        # The bot's answer needs no Send Messages of its own: do not let it post for someone who may not.
        return "You can't post in this channel, so I won't share it here for you."
    if not interaction.is_guild_integration() and not permissions.use_external_apps:
        # A server that has not added the bot, and does not let members' own apps post: Discord would
        # show the "shared" card to the listener alone (topics/permissions.mdx, USE_EXTERNAL_APPS).
        return (
            "This server doesn't let apps you added to your account post in its channels (Use External "
            "Apps), so I can't share the card here. Its Listen link is yours to pass on."
        )
    return None


def _share_label_for(interaction: Interaction) -> str:
    """What the Share button says: a DM is a chat, not a channel."""
    return "Share in channel" if interaction.guild is not None else "Share in this chat"


class _Button(discord.ui.Button["EpisodeBrowser"]):
    def __init__(self, handler: Handler, **options: Any) -> None:
        super().__init__(**options)
        self._handler = handler

    async def callback(self, interaction: Interaction) -> None:
        await self._handler(interaction)


class _Select(discord.ui.Select["EpisodeBrowser"]):
    def __init__(self, handler: ValueHandler, **options: Any) -> None:
        super().__init__(**options)
        self._handler = handler

    async def callback(self, interaction: Interaction) -> None:
        await self._handler(interaction, self.values[0])


class EpisodeBrowser(View):
    """One private message that shows a list of years, a page of episodes or one episode's card.

    Only the person who ran the command may use its controls. When they expire the message is edited
    through the last interaction's webhook (the only way to edit an ephemeral message) to say so. They
    therefore expire before that token does, even when later clicks (Share, a refused one) answered
    with a message of their own and so left the edit to an older token.
    """

    def __init__(
        self,
        *,
        owner_id: int,
        podcast_image: str | None,
        timeout: float = DEFAULT_TIMEOUT,
        reroll: Reroll | None = None,
        token_lifetime: float = TOKEN_LIFETIME,
        on_open: OnOpen | None = None,
    ) -> None:
        self._full_timeout = min(timeout, token_lifetime)
        super().__init__(timeout=self._full_timeout)
        self._token_lifetime = token_lifetime
        self._owner_id = owner_id
        self._podcast_image = podcast_image
        self._reroll = reroll
        self._on_open = on_open
        self._rerolls_left = reroll is not None
        self._years: Mapping[int, int] | None = None
        self._open_year: Callable[[int], EpisodeSource] | None = None
        self._source: EpisodeSource | None = None
        self._page_index = 0
        self._page: Sequence[StoredEpisode] = ()
        self._card: StoredEpisode | None = None
        self._note = ""
        self._seen: list[int] = []
        self._shared: set[int] = set()
        self._share_label = "Share in channel"
        self._expired = False
        self._last: Interaction | None = None

    # ---- opening ----------------------------------------------------------------------------

    async def show_card(self, interaction: Interaction, episode: StoredEpisode, *, note: str = "") -> None:
        self._card, self._note = episode, note
        await self._open(interaction)

    async def show_list(self, interaction: Interaction, source: EpisodeSource) -> None:
        await self._load(source, 0)
        await self._open(interaction)

    async def show_years(
        self, interaction: Interaction, years: Mapping[int, int], open_year: Callable[[int], EpisodeSource]
    ) -> None:
        self._years, self._open_year = years, open_year
        await self._open(interaction)

    async def _open(self, interaction: Interaction) -> None:
        self._share_label = _share_label_for(interaction)
        self._use_token_of(interaction)
        if interaction.response.is_done():
            await interaction.followup.send(**self._message(), ephemeral=True, wait=True)
        else:
            await interaction.response.send_message(**self._message(), ephemeral=True)

    # ---- what the message shows ---------------------------------------------------------------

    @property
    def _pages(self) -> int:
        return max(1, math.ceil(self._source.total / PAGE_SIZE)) if self._source else 1

    def _message(self) -> dict[str, Any]:
        self._rebuild()
        # Room is kept for the expiry note: the edit that adds it must not pass Discord's limit.
        note = truncate_words(self._note, CONTENT_LIMIT - len(EXPIRED_NOTE) - len("\n"))
        lines = [note] if self._card is not None and note else []
        if self._expired:
            lines.append(EXPIRED_NOTE)
        return {"content": "\n".join(lines) or None, "embed": self._embed(), "view": self}

    def _embed(self) -> discord.Embed:
        if self._card is not None:
            return episode_embed(self._card, podcast_image=self._podcast_image)
        if self._source is not None:
            offset = self._page_index * PAGE_SIZE
            lines = [list_line(offset + i + 1, episode) for i, episode in enumerate(self._page)]
            embed = discord.Embed(
                title=truncate_words(self._source.heading, EMBED_TITLE_LIMIT),
                description="\n".join(lines) or "This page is empty: the catalogue changed.",
                colour=EMBED_COLOUR,
            )
            embed.set_footer(
                text=f"Page {self._page_index + 1} of {self._pages} · {self._source.total} episodes · "
                "pick one below for its card"
            )
            return embed
        years = self._years or {}
        lines = [f"**{year}** · {count} episode{'s' if count != 1 else ''}" for year, count in years.items()]
        embed = discord.Embed(title="Episodes by year", description="\n".join(lines), colour=EMBED_COLOUR)
        embed.set_footer(text="Pick a year below, or run /episode browse with a year")
        return embed

    def _rebuild(self) -> None:
        self.clear_items()
        if self._card is not None:
            self._card_controls(self._card)
        elif self._source is not None:
            self._list_controls()
        else:
            self._year_controls()
        if self._expired:
            for item in self.children:
                if isinstance(item, discord.ui.Select) or (
                    isinstance(item, discord.ui.Button) and item.url is None
                ):
                    item.disabled = True

    def _card_controls(self, episode: StoredEpisode) -> None:
        for link in link_buttons(episode):
            self.add_item(link)
        shared = episode.id in self._shared
        self.add_item(
            _Button(
                self._share,
                custom_id="episodes:share",
                label="Shared" if shared else self._share_label,
                emoji="📣",
                style=discord.ButtonStyle.primary,
                disabled=shared,
            )
        )
        if self._reroll is not None:
            self.add_item(
                _Button(
                    self._another,
                    custom_id="episodes:another",
                    label="Another one",
                    emoji="🎲",
                    disabled=not self._rerolls_left,
                )
            )
        if self._source is not None:
            self.add_item(_Button(self._back, custom_id="episodes:back", label="Back to the list", emoji="↩️"))

    def _list_controls(self) -> None:
        if self._page:
            options = [
                discord.SelectOption(
                    label=truncate_words(episode.title, OPTION_TEXT_LIMIT),
                    value=str(episode.id),
                    description=truncate_words(episode_facts(episode), OPTION_TEXT_LIMIT),
                )
                for episode in self._page
            ]
            self.add_item(
                _Select(self._pick, custom_id="episodes:pick", placeholder="Pick an episode", options=options)
            )
        if self._pages > 1:
            first, last = self._page_index == 0, self._page_index >= self._pages - 1
            self.add_item(
                _Button(
                    self._previous,
                    custom_id="episodes:previous",
                    label="Previous",
                    emoji="◀️",
                    disabled=first,
                    row=1,
                )
            )
            self.add_item(
                _Button(self._next, custom_id="episodes:next", label="Next", emoji="▶️", disabled=last, row=1)
            )
        if self._years is not None:
            self.add_item(_Button(self._all_years, custom_id="episodes:years", label="All years", row=1))

    def _year_controls(self) -> None:
        options = [
            discord.SelectOption(label=str(year), value=str(year), description=f"{count} episodes")
            for year, count in list((self._years or {}).items())[:25]  # Discord's cap on options
        ]
        if options:
            self.add_item(
                _Select(
                    self._pick_year, custom_id="episodes:year", placeholder="Choose a year", options=options
                )
            )

    # ---- controls -------------------------------------------------------------------------------

    async def interaction_check(self, interaction: Interaction, /) -> bool:
        if interaction.user.id == self._owner_id:
            # discord.py restarts the timeout with this value once the check passes, before the control
            # runs: unless the control moves the edit to this click's token, it must fit the current one.
            self._fit_timeout()
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    async def _update(self, interaction: Interaction) -> None:
        self._use_token_of(interaction)
        await interaction.response.edit_message(**self._message())

    def _use_token_of(self, interaction: Interaction) -> None:
        """Edit the message through `interaction`'s token from now on."""
        self._last = interaction
        self._fit_timeout()

    def _fit_timeout(self) -> None:
        """Expire no later than the token the expiry edit goes through."""
        if self._last is None:
            return
        used = (discord.utils.utcnow() - self._last.created_at).total_seconds()
        self.timeout = max(0.0, min(self._full_timeout, self._token_lifetime - used))

    async def _load(self, source: EpisodeSource, page_index: int) -> None:
        self._source = source
        self._page_index = min(max(page_index, 0), self._pages - 1)
        self._page = await source.page(self._page_index * PAGE_SIZE, PAGE_SIZE)

    async def _previous(self, interaction: Interaction) -> None:
        assert self._source is not None
        await self._load(self._source, self._page_index - 1)
        await self._update(interaction)

    async def _next(self, interaction: Interaction) -> None:
        assert self._source is not None
        await self._load(self._source, self._page_index + 1)
        await self._update(interaction)

    async def _pick(self, interaction: Interaction, value: str) -> None:
        chosen = next((episode for episode in self._page if str(episode.id) == value), None)
        if chosen is None:
            raise UserFacingError("That episode is no longer on this page: pick another one.")
        self._card, self._note = chosen, ""
        await self._update(interaction)
        if self._on_open is not None:
            self._on_open(chosen)

    async def _back(self, interaction: Interaction) -> None:
        self._card = None
        await self._update(interaction)

    async def _pick_year(self, interaction: Interaction, value: str) -> None:
        assert self._open_year is not None
        await self._load(self._open_year(int(value)), 0)
        await self._update(interaction)

    async def _all_years(self, interaction: Interaction) -> None:
        self._source, self._page = None, ()
        await self._update(interaction)

    async def _another(self, interaction: Interaction) -> None:
        assert self._reroll is not None
        assert self._card is not None
        self._seen.append(self._card.id)
        episode = await self._reroll(self._seen)
        if episode is None:
            self._rerolls_left = False
            self._note = "That was the last episode that fits: there is no other one to show."
        else:
            self._card, self._note = episode, ""
        await self._update(interaction)

    async def _share(self, interaction: Interaction) -> None:
        """Post the card publicly as the answer to the click, then mark it shared in the private message.

        The answer to the click is the only way to post: where only the listener added the bot to their
        account (a DM, a server without the bot) the bot cannot send to the channel itself."""
        episode = self._card
        assert episode is not None
        refusal = _share_refusal(interaction)
        if refusal is not None:
            raise UserFacingError(refusal)
        await interaction.response.send_message(
            f"{interaction.user.mention} shared an episode of {PODCAST_NAME}:",
            embed=episode_embed(episode, podcast_image=self._podcast_image),
            view=link_view(episode),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self._shared.add(episode.id)
        await self._edit_private()

    async def _edit_private(self) -> None:
        if self._last is None:
            return
        try:
            await self._last.edit_original_response(**self._message())
        except discord.HTTPException as error:
            # Dismissed by its reader, or the token outlived: nothing left to update.
            log.debug("Could not update an episode browser: %s", error)

    async def on_timeout(self) -> None:
        self._expired = True
        await self._edit_private()


class ExpiredBrowser(View):
    """Answers the controls of an EpisodeBrowser the bot no longer knows: one from before a restart, or
    one whose expiry edit did not reach its message. A live browser answers its own controls first
    (discord.py looks a control up by its message before falling back to this persistent view)."""

    BUTTONS = (
        "episodes:share",
        "episodes:another",
        "episodes:back",
        "episodes:previous",
        "episodes:next",
        "episodes:years",
    )
    SELECTS = ("episodes:pick", "episodes:year")

    def __init__(self) -> None:
        super().__init__(timeout=None)
        for custom_id in self.BUTTONS:
            self.add_item(_Button(self._expired, custom_id=custom_id))
        for custom_id in self.SELECTS:
            self.add_item(_Select(self._expired_choice, custom_id=custom_id, options=[]))

    async def _expired(self, interaction: Interaction) -> None:
        await interaction.response.send_message(EXPIRED_NOTE, ephemeral=True)

    async def _expired_choice(self, interaction: Interaction, value: str) -> None:
        await self._expired(interaction)
