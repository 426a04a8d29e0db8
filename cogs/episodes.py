"""/episode: listeners find episodes (search, random, latest, by number, by year) and share them, in the
server or anywhere they chat once they have added the bot to their own account."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Sequence

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PodcastBot, available_anywhere
from bot.community.insights import Insights, RecordedSearch
from bot.db import EpisodeRepository
from bot.documents.moments import MomentSearch
from bot.errors import UserFacingError
from bot.models import StoredEpisode
from bot.podcast import Podcast
from bot.search import EpisodeSearch
from bot.ui.cards import truncate_words
from bot.ui.episode_browser import (
    DEFAULT_TIMEOUT,
    TOKEN_LIFETIME,
    EpisodeBrowser,
    ExpiredBrowser,
    ListedEpisodes,
    Reroll,
    YearEpisodes,
    episode_facts,
)
from bot.ui.moments import moments_embed

log = logging.getLogger(__name__)

SEARCH_LIMIT = 30
MOMENTS_LIMIT = 5
RANDOM_POOL = 50  # topic matches a random pick is drawn from
AUTOCOMPLETE_LIMIT = 25  # Discord's cap on suggestions
CHOICE_NAME_LIMIT = 100
AUTOCOMPLETE_BUDGET = 2.0  # seconds: Discord drops suggestions that come after 3
EMPTY_CATALOGUE = (
    "The episode list is still empty: the feed has not been read yet. Try again in a few minutes."
)

Interaction = discord.Interaction[PodcastBot]
_EPISODE_TOKEN = re.compile(r"^episode-id:(\d{1,19})$")


def episode_token(episode_id: int) -> str:
    """The value an autocomplete suggestion submits: names one episode, unlike a title or a number."""
    return f"episode-id:{episode_id}"


def episode_id_in(value: str) -> int | None:
    """The episode id of a submitted suggestion; None for text the user typed themselves."""
    match = _EPISODE_TOKEN.match(value.strip())
    return int(match.group(1)) if match else None


def _quoted(text: str) -> str:
    return f"“{discord.utils.escape_markdown(truncate_words(text.strip(), 100))}”"


def _title(episode: StoredEpisode) -> str:
    return f"**{discord.utils.escape_markdown(truncate_words(episode.title, 150))}**"


async def numbered_episodes(episodes: EpisodeRepository, n: int) -> list[StoredEpisode]:
    """Episodes numbered `n`, originals first; a clear error naming the valid range if none is."""
    found = await episodes.by_number(n)
    if found:
        return found
    numbers = [episode.number for episode in await episodes.all() if episode.number is not None]
    if not numbers:
        raise UserFacingError(EMPTY_CATALOGUE)
    raise UserFacingError(
        f"There is no episode #{n}: episodes are numbered {min(numbers)} to {max(numbers)}. "
        "Use /episode search to find one by topic."
    )


async def _defer(interaction: Interaction) -> None:
    """Answer at once, privately: the database or Discord may take longer than the 3 s allowed."""
    await interaction.response.defer(ephemeral=True, thinking=True)


@available_anywhere
class EpisodeCog(
    commands.GroupCog, group_name="episode", group_description="Find and share podcast episodes"
):
    def __init__(
        self,
        search: EpisodeSearch,
        episodes: EpisodeRepository,
        podcast: Podcast,
        moments: MomentSearch,
        insights: Insights,
        *,
        view_timeout: float = DEFAULT_TIMEOUT,
        token_lifetime: float = TOKEN_LIFETIME,
    ) -> None:
        self._search = search
        self._episodes = episodes
        self._podcast = podcast
        self._moments = moments
        self._insights = insights
        self.view_timeout = view_timeout  # how long buttons answer; tests shorten it
        self.token_lifetime = token_lifetime  # how long an interaction's token is safe to use; tests too
        super().__init__()

    async def _browser(
        self, interaction: Interaction, reroll: Reroll | None = None, recorded: RecordedSearch | None = None
    ) -> EpisodeBrowser:
        return EpisodeBrowser(
            owner_id=interaction.user.id,
            podcast_image=await self._podcast.image(),
            timeout=self.view_timeout,
            reroll=reroll,
            token_lifetime=self.token_lifetime,
            on_open=None if recorded is None else lambda episode: recorded.opened(episode.id),
        )

    def _record_search(self, interaction: Interaction, query: str, results: int) -> RecordedSearch | None:
        """Record a submitted search for /insights, in a server that added the bot only: where a listener
        uses their own installation of it, no server agreed to anything."""
        if interaction.guild_id is None or not interaction.is_guild_integration():
            return None
        return self._insights.record_search(interaction.guild_id, query, results)

    # ---- search -------------------------------------------------------------------------------

    @app_commands.command(name="search", description="Find episodes by topic, guest, title or number")
    @app_commands.describe(
        query="Words, a guest's name or an episode number: pick a suggestion or press Enter"
    )
    async def search(self, interaction: Interaction, query: app_commands.Range[str, 1, 200]) -> None:
        await _defer(interaction)
        suggested = episode_id_in(query)
        if suggested is not None:
            # Autocomplete only suggests: the submitted token is checked like anything typed. It is not
            # recorded for /insights: what the listener typed before picking it never reaches the bot.
            episode = await self._episodes.get(suggested)
            if episode is None:
                raise UserFacingError("That episode is no longer in the catalogue: search again.")
            await (await self._browser(interaction)).show_card(interaction, episode)
            return
        hits = await self._search.search(query, limit=SEARCH_LIMIT)
        recorded = self._record_search(interaction, query, len(hits))
        browser = await self._browser(interaction, recorded=recorded)
        if not hits:
            raise UserFacingError(
                f"Nothing matches {_quoted(query)}. Try fewer or different words, "
                "or look through the catalogue with /episode browse."
            )
        if len(hits) == 1:
            if recorded is not None:
                recorded.opened(hits[0].episode.id)  # shown at once: the search led to it
            await browser.show_card(interaction, hits[0].episode)
            return
        heading = f"Episodes for {_quoted(query)}"
        await browser.show_list(interaction, ListedEpisodes(heading, tuple(hit.episode for hit in hits)))

    @search.autocomplete("query")
    async def query_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            async with asyncio.timeout(AUTOCOMPLETE_BUDGET):
                suggested = await self._search.autocomplete(current, limit=AUTOCOMPLETE_LIMIT)
        except TimeoutError:
            log.warning("Autocomplete for %r took too long; no suggestions sent", current[:50])
            return []
        return [
            app_commands.Choice(
                name=truncate_words(entry.title, CHOICE_NAME_LIMIT), value=episode_token(entry.id)
            )
            for entry in suggested[:AUTOCOMPLETE_LIMIT]
        ]

    # ---- moments ----------------------------------------------------------------------------------

    @app_commands.command(
        name="moments", description="Find the moment in an episode where they talk about something"
    )
    @app_commands.describe(query="What was said: a few words, a name, a topic")
    async def moments(self, interaction: Interaction, query: app_commands.Range[str, 1, 200]) -> None:
        await _defer(interaction)
        found = await self._moments.search(query, limit=MOMENTS_LIMIT)
        if not found:
            if not await self._moments.has_transcripts():
                raise UserFacingError(
                    "No episode has a transcript yet, so there are no moments to search. "
                    "Try /episode search to find episodes."
                )
            raise UserFacingError(
                f"No transcript mentions {_quoted(query)}. Try other words, or /episode search."
            )
        await interaction.followup.send(embed=moments_embed(query, found), ephemeral=True)

    # ---- random, latest, number -----------------------------------------------------------------

    @app_commands.command(
        name="random", description="A random episode, optionally about a topic or from a year"
    )
    @app_commands.describe(
        topic="Only episodes about this (words, a guest's name)",
        year="Only episodes published in this year",
        include_rebroadcasts="Also pick rebroadcasts of earlier episodes (default: no)",
    )
    async def random_episode(
        self,
        interaction: Interaction,
        topic: app_commands.Range[str, 1, 200] | None = None,
        year: app_commands.Range[int, 1, 9999] | None = None,
        include_rebroadcasts: bool = False,
    ) -> None:
        await _defer(interaction)
        if year is not None:
            await self._check_year(year)
        reroll: Reroll
        recorded: RecordedSearch | None = None
        if topic:
            hits = await self._search.search(
                topic, limit=RANDOM_POOL, include_rebroadcasts=include_rebroadcasts
            )
            pool = [
                hit.episode
                for hit in hits
                if year is None or (hit.episode.published and hit.episode.published.year == year)
            ]
            recorded = self._record_search(interaction, topic, len(pool))

            async def reroll(seen: Sequence[int]) -> StoredEpisode | None:
                left = [episode for episode in pool if episode.id not in seen]
                return secrets.choice(left) if left else None

        else:

            async def reroll(seen: Sequence[int]) -> StoredEpisode | None:
                return await self._episodes.random(
                    year=year, include_rebroadcasts=include_rebroadcasts, exclude_ids=seen
                )

        episode = await reroll(())
        if episode is None and not topic and year is None:
            raise UserFacingError(EMPTY_CATALOGUE)
        if episode is None:
            about = f" about {_quoted(topic)}" if topic else ""
            when = f" from {year}" if year is not None else ""
            kind = "episode" if include_rebroadcasts else "episode (rebroadcasts left out)"
            raise UserFacingError(
                f"No {kind}{about}{when} was found. Try fewer words"
                + (", another year" if year is not None else "")
                + ", or look through /episode browse."
            )
        if recorded is not None:
            recorded.opened(episode.id)  # the card shown is where the topic led
        await (await self._browser(interaction, reroll)).show_card(interaction, episode)

    @app_commands.command(name="latest", description="The newest episode")
    async def latest(self, interaction: Interaction) -> None:
        await _defer(interaction)
        newest = await self._episodes.latest(1)
        if not newest:
            raise UserFacingError(EMPTY_CATALOGUE)
        await (await self._browser(interaction)).show_card(interaction, newest[0])

    @app_commands.command(name="number", description="The episode with this number")
    @app_commands.describe(n="The episode number, as in “Ep. 59”")
    async def number(self, interaction: Interaction, n: app_commands.Range[int, 1, 99999]) -> None:
        await _defer(interaction)
        first, *others = await numbered_episodes(self._episodes, n)
        note = ""
        if others:
            also = "; ".join(f"{_title(other)} ({episode_facts(other)})" for other in others)
            note = f"Also numbered #{n}: {also}"  # the browser cuts it to fit
        await (await self._browser(interaction)).show_card(interaction, first, note=note)

    # ---- browse -----------------------------------------------------------------------------------

    @app_commands.command(name="browse", description="Browse the episodes year by year")
    @app_commands.describe(year="A year to list; leave it out for a summary of every year")
    async def browse(
        self, interaction: Interaction, year: app_commands.Range[int, 1, 9999] | None = None
    ) -> None:
        await _defer(interaction)
        years = await self._years()
        browser = await self._browser(interaction)
        if year is None:
            await browser.show_years(
                interaction, years, lambda chosen: YearEpisodes(self._episodes, chosen, years[chosen])
            )
            return
        await self._check_year(year, years)
        await browser.show_list(interaction, YearEpisodes(self._episodes, year, years[year]))

    async def _years(self) -> dict[int, int]:
        years = await self._episodes.years()
        if not years:
            raise UserFacingError(EMPTY_CATALOGUE)
        return years

    async def _check_year(self, year: int, years: dict[int, int] | None = None) -> None:
        known = years if years is not None else await self._years()
        if year not in known:
            raise UserFacingError(
                f"No episode was published in {year}: the catalogue runs from {min(known)} to {max(known)}. "
                "See /episode browse for the years."
            )

    @random_episode.autocomplete("year")
    @browse.autocomplete("year")
    async def year_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        typed = str(current).strip()
        return [
            app_commands.Choice(name=f"{year} ({count} episodes)", value=year)
            for year, count in (await self._episodes.years()).items()
            if str(year).startswith(typed)
        ][:AUTOCOMPLETE_LIMIT]


async def setup(bot: PodcastBot) -> None:
    services = bot.services
    await bot.add_cog(
        EpisodeCog(services.search, services.episodes, services.podcast, services.moments, services.insights)
    )
    bot.add_view(ExpiredBrowser())
