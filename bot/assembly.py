"""Builds every service of the bot once, in order, each handed what it needs (and nothing more)."""

from __future__ import annotations

from datetime import timedelta

import discord

from bot.announce.alerts import ModeratorAlerts
from bot.announce.announcer import Announcer
from bot.announce.pacing import RequestPacer
from bot.announce.publishing import Publisher
from bot.community.discussions import Discussions
from bot.community.insights import Insights
from bot.community.suggestions import SuggestionService
from bot.config import Settings
from bot.db import BotStateRepository, EpisodeRepository, FeedRepository
from bot.db.announcements import AnnouncementRepository
from bot.db.config_history import ConfigHistoryRepository
from bot.db.discussions import DiscussionRepository
from bot.db.documents import DocumentRepository
from bot.db.guilds import GuildSettingsRepository
from bot.db.incidents import IncidentRepository
from bot.db.insights import InsightsRepository
from bot.db.suggestions import SuggestionRepository
from bot.documents.chapters import ChapterPoster
from bot.documents.fetching import DocumentFetcher
from bot.documents.formats import MAX_DOCUMENT_BYTES
from bot.documents.moments import MomentSearch
from bot.feed.fetch import FeedFetcher
from bot.feed.ingest import FeedIngestor
from bot.podcast import Podcast
from bot.search import EpisodeSearch
from bot.services import Resources, Services
from bot.ui.cards import AnnouncementCards
from bot.ui.chapters import chapter_messages


def build_services(resources: Resources, settings: Settings, client: discord.Client) -> Services:
    """The services of a bot that talks to Discord through `client` (the Announcer posts with it;
    nothing else holds it). The command line's offline commands pass a client that never connects."""
    database = resources.database
    feeds = FeedRepository(database)
    episodes = EpisodeRepository(database)
    guilds = GuildSettingsRepository(database)
    outbox = AnnouncementRepository(database)
    incidents = IncidentRepository(database)
    podcast = Podcast(feeds, settings.feed_url)
    search = EpisodeSearch(episodes)
    ingestor = FeedIngestor(feeds, episodes, FeedFetcher(resources.http))
    suggestions = SuggestionRepository(database)
    pacer = RequestPacer()  # one budget under Discord's global limit for delivering and publishing
    publisher = Publisher(client, outbox, guilds, pacer)
    documents = DocumentRepository(database)
    # Transcripts and chapters: fetched as feeds are (redirects, a time limit), with a smaller size cap.
    document_fetcher = DocumentFetcher(
        documents, FeedFetcher(resources.http, max_bytes=MAX_DOCUMENT_BYTES, what="document")
    )
    chapter_poster = ChapterPoster(client, documents, chapter_messages)
    document_fetcher.on_chapters_stored.append(chapter_poster.post_missing)
    announcer = Announcer(
        client,
        podcast=podcast,
        poll_interval=timedelta(seconds=settings.poll_interval_seconds),
        feeds=feeds,
        episodes=episodes,
        guilds=guilds,
        outbox=outbox,
        ingestor=ingestor,
        cards=AnnouncementCards(),
        alerts=ModeratorAlerts(client, guilds, incidents),
        publisher=publisher,
        pacer=pacer,
    )
    announcer.on_announced.append(chapter_poster.on_announced)
    return Services(
        database=database,
        bot_state=BotStateRepository(database),
        feeds=feeds,
        episodes=episodes,
        guilds=guilds,
        outbox=outbox,
        config_history=ConfigHistoryRepository(database),
        incidents=incidents,
        podcast=podcast,
        search=search,
        ingestor=ingestor,
        announcer=announcer,
        publisher=publisher,
        discussions=Discussions(outbox, DiscussionRepository(database), guilds),
        suggestions=SuggestionService(suggestions, search=search, episodes=episodes, outbox=outbox),
        insights=Insights(
            InsightsRepository(database),
            suggestions,
            retention=timedelta(days=settings.insights_retention_days),
        ),
        documents=documents,
        document_fetcher=document_fetcher,
        chapter_poster=chapter_poster,
        moments=MomentSearch(documents, episodes),
    )
