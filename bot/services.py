"""Opens the bot's resources (database, HTTP session) in one place and builds its services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.db import BotStateRepository, Database, EpisodeRepository, FeedRepository
from bot.db.announcements import AnnouncementRepository
from bot.db.config_history import ConfigHistoryRepository
from bot.db.discussions import DiscussionRepository
from bot.db.guilds import GuildSettingsRepository
from bot.feed.fetch import FeedFetcher
from bot.feed.ingest import FeedIngestor
from bot.feed.isolation import shutdown_parser_workers
from bot.search import EpisodeSearch


@dataclass(frozen=True, slots=True)
class Services:
    database: Database
    http: aiohttp.ClientSession
    bot_state: BotStateRepository
    feeds: FeedRepository
    episodes: EpisodeRepository
    guilds: GuildSettingsRepository
    outbox: AnnouncementRepository
    config_history: ConfigHistoryRepository
    discussions: DiscussionRepository
    search: EpisodeSearch
    ingestor: FeedIngestor


@asynccontextmanager
async def open_services(database_path: Path | str) -> AsyncIterator[Services]:
    database = await Database.open(database_path)
    try:
        async with aiohttp.ClientSession() as http:
            feeds = FeedRepository(database)
            episodes = EpisodeRepository(database)
            try:
                yield Services(
                    database=database,
                    http=http,
                    bot_state=BotStateRepository(database),
                    feeds=feeds,
                    episodes=episodes,
                    guilds=GuildSettingsRepository(database),
                    outbox=AnnouncementRepository(database),
                    config_history=ConfigHistoryRepository(database),
                    discussions=DiscussionRepository(database),
                    search=EpisodeSearch(episodes),
                    ingestor=FeedIngestor(feeds, episodes, FeedFetcher(http)),
                )
            finally:
                await shutdown_parser_workers()
    finally:
        await database.close()
