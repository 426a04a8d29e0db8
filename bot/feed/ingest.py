"""FeedIngestor: fetch, parse and store a feed, and say which episodes are new."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.clock import utc_now
from bot.db import EpisodeRepository, FeedRepository
from bot.feed.fetch import FeedFetcher, FeedFetchError, NotModified
from bot.feed.isolation import parse_feed_isolated
from bot.feed.parse import FeedParseError
from bot.models import ParsedFeed, StoredEpisode

log = logging.getLogger(__name__)

Parser = Callable[[bytes, str], Awaitable[ParsedFeed]]


class IngestError(Exception):
    """The feed could not be read this time; the message is short and meant for moderators."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    source: str
    changed: bool  # False: 304 or the same body as last time, nothing was parsed
    new: tuple[StoredEpisode, ...]  # oldest first
    updated: tuple[StoredEpisode, ...]
    episodes_in_feed: int
    # The catalogue was empty before this run: everything is "new", none of it is news.
    first_sync: bool


# Acts on an ingest's result before the ingest counts as completed (the announcer queues its
# announcements): if it fails, or the process dies first, the next ingest reports the same episodes.
BeforeCompleting = Callable[[IngestResult], Awaitable[None]]


async def _parse_isolated(body: bytes, base_url: str) -> ParsedFeed:
    return await parse_feed_isolated(body, base_url)


class FeedIngestor:
    def __init__(
        self,
        feeds: FeedRepository,
        episodes: EpisodeRepository,
        fetcher: FeedFetcher,
        *,
        parse: Parser = _parse_isolated,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._feeds = feeds
        self._episodes = episodes
        self._fetcher = fetcher
        self._parse = parse
        self._clock = clock

    async def ingest_url(
        self, url: str, *, before_completing: BeforeCompleting | None = None
    ) -> IngestResult:
        """Poll `url` once. Any failure is recorded on the feed's row and raised as IngestError;
        the stored episodes are untouched."""
        feed = await self._feeds.get_or_create(url)
        checked_at = self._clock()
        try:
            fetched = await self._fetcher.fetch(
                url, etag=feed.etag, last_modified=feed.last_modified, previous_hash=feed.body_hash
            )
            if isinstance(fetched, NotModified):
                await self._record_moves(feed.id, url, fetched.moved_to, None)
                await self._feeds.record_not_modified(
                    feed.id, checked_at=checked_at, etag=fetched.etag, last_modified=fetched.last_modified
                )
                return IngestResult(url, False, (), (), 0, first_sync=False)
            parsed = await self._parse_checked(fetched.body, url)
        except (FeedFetchError, FeedParseError, IngestError) as error:
            await self._feeds.record_failure(feed.id, checked_at=checked_at, error=str(error))
            log.warning("Feed %s failed: %s", url, error)
            raise IngestError(str(error)) from error
        result, last_id = await self._store(url, parsed, checked_at)
        if before_completing is not None:
            await before_completing(result)
        move_pending = await self._record_moves(feed.id, url, fetched.moved_to, parsed.new_feed_url)
        # While the feed names a new address that does not answer yet, its validators are not kept:
        # the next poll reads it whole again and tries the new address again, even if nothing changed.
        await self._feeds.record_success(
            feed.id,
            checked_at=checked_at,
            title=parsed.title or None,
            image=parsed.image,
            etag=None if move_pending else fetched.etag,
            last_modified=None if move_pending else fetched.last_modified,
            body_hash=None if move_pending else fetched.body_hash,
            settled_episode_id=last_id,
        )
        return result

    async def ingest_document(self, body: bytes, source: str) -> IngestResult:
        """Ingest a feed document already in hand (a file given on the command line). The same
        document as last time from the same source is not parsed again: its hash is kept on the
        source's feed row, as the poller keeps a fetched body's.
        """
        body_hash = hashlib.sha256(body).hexdigest()  # as FeedFetcher hashes a fetched body
        feed = await self._feeds.get_or_create(source)
        if feed.body_hash == body_hash:
            return IngestResult(source, False, (), (), 0, first_sync=False)
        try:
            parsed = await self._parse_checked(body, source)
        except FeedParseError as error:
            raise IngestError(str(error)) from error
        checked_at = self._clock()
        result, last_id = await self._store(source, parsed, checked_at)
        await self._feeds.record_success(
            feed.id,
            checked_at=checked_at,
            title=parsed.title or None,
            image=parsed.image,
            etag=None,
            last_modified=None,
            body_hash=body_hash,
            settled_episode_id=last_id,
        )
        return result

    async def _record_moves(
        self, feed_id: int, url: str, redirected_to: str | None, new_feed_url: str | None
    ) -> bool:
        """A permanent redirect, or the feed naming its new address (itunes:new-feed-url): the next
        polls go there, and episodes keep their identity (they are known by guid, not by feed).
        A named address is followed only once it answers with a feed, so a typo or a host not ready
        yet strands no one; returns True while such a move waits for its address to answer."""
        if redirected_to is not None and redirected_to != url:
            await self._move(feed_id, url, redirected_to, "a permanent redirect")
        elif new_feed_url is not None and new_feed_url != url:
            problem = await self._problem_reading(new_feed_url)
            if problem is not None:
                log.warning(
                    "Feed %s names %s as its new address, which does not answer yet (%s): polling %s still",
                    url,
                    new_feed_url,
                    problem,
                    url,
                )
                return True
            await self._move(feed_id, url, new_feed_url, "the feed's itunes:new-feed-url")
        return False

    async def _move(self, feed_id: int, url: str, target: str, because: str) -> None:
        log.info("Feed %s moved to %s (%s)", url, target, because)
        await self._feeds.record_move(feed_id, target, because=because, now=self._clock())

    async def _problem_reading(self, url: str) -> str | None:
        """Why `url` cannot be read as a feed with episodes now, or None if it can."""
        try:
            fetched = await self._fetcher.fetch(url)
            if not isinstance(fetched, NotModified):
                await self._parse_checked(fetched.body, url)
        except (FeedFetchError, FeedParseError, IngestError) as error:
            return str(error)
        return None

    async def _parse_checked(self, body: bytes, base_url: str) -> ParsedFeed:
        parsed = await self._parse(body, base_url)
        if not parsed.episodes:
            raise IngestError("the feed lists no episodes")
        return parsed

    async def _store(
        self, source: str, parsed: ParsedFeed, seen_at: datetime
    ) -> tuple[IngestResult, int | None]:
        """Store the episodes; the result, and the watermark completing this ingest will set."""
        # Episodes stay new until an ingest that stored them completes (a crash in between must not
        # lose their announcements); before any ingest ever completed, nothing is news.
        settled = await self._feeds.settled_episode_id()
        first_sync = settled is None or await self._episodes.count() == 0
        upserted = await self._episodes.upsert_many(parsed.episodes, seen_at=seen_at, new_after_id=settled)
        log.info(
            "Feed %s: %d episodes, %d new, %d updated%s",
            source,
            len(parsed.episodes),
            len(upserted.new),
            len(upserted.updated),
            " (first sync)" if first_sync else "",
        )
        result = IngestResult(
            source=source,
            changed=True,
            new=upserted.new,
            updated=upserted.updated,
            episodes_in_feed=len(parsed.episodes),
            first_sync=first_sync,
        )
        return result, upserted.last_id
