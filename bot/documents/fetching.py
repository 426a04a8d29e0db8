"""DocumentFetcher: fetches the transcripts and chapters episodes link to, in the background, with
the limits of a feed (size, time, redirects; parsed in the worker process) and retries with back-off.
Announcements never wait for it: it runs on its own schedule, after the episodes are stored."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.clock import utc_now
from bot.db.documents import DocumentRepository, DueDocument
from bot.documents.formats import Chapter, Moment, parse_chapters, parse_transcript
from bot.feed.fetch import FeedFetcher, FeedFetchError, FetchedFeed
from bot.feed.isolation import parse_document_isolated
from bot.feed.parse import FeedParseError

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=5)
RETRY_CAP = timedelta(hours=6)
MAX_ATTEMPTS = 8  # about a day and a half of tries
BATCH = 10  # documents per run: a back catalogue that gains transcripts is fetched over a few runs

TranscriptParser = Callable[[bytes, str], Awaitable[tuple[Moment, ...]]]
ChaptersParser = Callable[[bytes, str], Awaitable[tuple[Chapter, ...]]]
ChaptersStored = Callable[[], Awaitable[object]]


async def _transcript_in_worker(body: bytes, url: str) -> tuple[Moment, ...]:
    return await parse_document_isolated(parse_transcript, body, url)


async def _chapters_in_worker(body: bytes, url: str) -> tuple[Chapter, ...]:
    return await parse_document_isolated(parse_chapters, body, url)


class DocumentFetcher:
    def __init__(
        self,
        documents: DocumentRepository,
        fetcher: FeedFetcher,
        *,
        parse_transcript: TranscriptParser = _transcript_in_worker,
        parse_chapters: ChaptersParser = _chapters_in_worker,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._documents = documents
        self._fetcher = fetcher
        self._parse_transcript = parse_transcript
        self._parse_chapters = parse_chapters
        self.clock = clock
        self._lock = asyncio.Lock()
        # Called after a run that stored chapters (the chapter poster subscribes); a failing hook is
        # logged and does not affect fetching.
        self.on_chapters_stored: list[ChaptersStored] = []

    async def refresh(self) -> int:
        """Follow the episodes' links, and fetch what is due; returns how many documents were stored."""
        async with self._lock:
            await self._documents.plan()
            stored = 0
            chapters = False
            for document in await self._documents.due(self.clock(), BATCH):
                if await self._fetch(document):
                    stored += 1
                    chapters = chapters or document.kind == "chapters"
        if chapters:
            for hook in self.on_chapters_stored:
                try:
                    await hook()
                except Exception:
                    log.exception("Chapters hook %r failed", hook)
        return stored

    async def _fetch(self, document: DueDocument) -> bool:
        try:
            fetched = await self._fetcher.fetch(document.url)
            assert isinstance(fetched, FetchedFeed)  # no validators were sent: never NotModified
            if document.kind == "transcript":
                moments = await self._parse_transcript(fetched.body, fetched.url)
                return await self._documents.store_moments(document, moments, self.clock())
            chapters = await self._parse_chapters(fetched.body, fetched.url)
            return await self._documents.store_chapters(document, chapters, self.clock())
        except (FeedFetchError, FeedParseError) as error:
            attempts = document.attempts + 1
            retry_at = None
            if attempts < MAX_ATTEMPTS:
                retry_at = self.clock() + min(FIRST_RETRY * 2 ** (attempts - 1), RETRY_CAP)
            log.info(
                "The %s of episode %s (%s) failed: %s%s",
                document.kind,
                document.episode_id,
                document.url,
                error,
                "" if retry_at else "; given up until its URL changes",
            )
            await self._documents.record_failure(document, str(error), retry_at)
            return False
