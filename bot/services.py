"""The bot's resources (the database, one HTTP session), opened and closed in one place; the services
built on them (see bot.assembly); and the typed accessor through which Discord callbacks reach them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import aiohttp
import discord

from bot.announce.announcer import Announcer
from bot.announce.publishing import Publisher
from bot.community.discussions import Discussions
from bot.community.insights import Insights
from bot.community.suggestions import SuggestionService
from bot.db import BotStateRepository, Database, EpisodeRepository, FeedRepository
from bot.db.announcements import AnnouncementRepository
from bot.db.config_history import ConfigHistoryRepository
from bot.db.documents import DocumentRepository
from bot.db.guilds import GuildSettingsRepository
from bot.db.incidents import IncidentRepository
from bot.documents.chapters import ChapterPoster
from bot.documents.fetching import DocumentFetcher
from bot.documents.moments import MomentSearch
from bot.feed.ingest import FeedIngestor
from bot.feed.isolation import shutdown_parser_workers
from bot.podcast import Podcast
from bot.search import EpisodeSearch


@dataclass(frozen=True, slots=True)
class Resources:
    """What the services share and somebody must close: opened by `open_resources`."""

    database: Database
    http: aiohttp.ClientSession


@asynccontextmanager
async def open_resources(database_path: Path | str) -> AsyncIterator[Resources]:
    database = await Database.open(database_path)
    try:
        async with aiohttp.ClientSession() as http:
            try:
                yield Resources(database, http)
            finally:
                await shutdown_parser_workers()
    finally:
        await database.close()


@dataclass(frozen=True, slots=True)
class Services:
    """Every service of the bot, each built once by bot.assembly.build_services."""

    database: Database
    bot_state: BotStateRepository
    feeds: FeedRepository
    episodes: EpisodeRepository
    guilds: GuildSettingsRepository
    outbox: AnnouncementRepository
    config_history: ConfigHistoryRepository
    incidents: IncidentRepository
    podcast: Podcast
    search: EpisodeSearch
    ingestor: FeedIngestor
    announcer: Announcer
    publisher: Publisher
    discussions: Discussions
    suggestions: SuggestionService
    documents: DocumentRepository
    document_fetcher: DocumentFetcher
    chapter_poster: ChapterPoster
    moments: MomentSearch
    insights: Insights


@runtime_checkable
class ServiceHost(Protocol):
    """A client that carries the services (PodcastBot)."""

    services: Services


def services_of(interaction: discord.Interaction[Any]) -> Services:
    """The services, from what discord.py hands a persistent button or menu: only the interaction."""
    client = interaction.client
    if not isinstance(client, ServiceHost):
        raise TypeError(f"{type(client).__name__} carries no services; the bot runs as PodcastBot")
    return client.services
