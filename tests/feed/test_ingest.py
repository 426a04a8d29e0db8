"""Ingestion end to end: a real HTTP server on 127.0.0.1, the real fetcher, parser and database."""

import inspect
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.__main__ import main
from bot.db import EpisodeRepository, FeedRepository
from bot.demo import FEED_FILE, PREVIOUS_FEED_FILE
from bot.demo.feed_server import FeedServer
from bot.feed import ingest
from bot.feed.fetch import FeedFetcher
from bot.feed.ingest import FeedIngestor, IngestError
from bot.feed.isolation import parse_feed_isolated
from bot.feed.parse import parse_feed
from bot.models import ParsedFeed

FEED = FEED_FILE.read_bytes()
FEED_PREVIOUS = PREVIOUS_FEED_FILE.read_bytes()


class CountingParser:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, body: bytes, base_url: str) -> ParsedFeed:
        self.calls += 1
        return await parse_feed_isolated(body, base_url)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def parser() -> CountingParser:
    return CountingParser()


@pytest.fixture
def ingestor(
    feeds: FeedRepository, episodes: EpisodeRepository, http: aiohttp.ClientSession, parser: CountingParser
) -> FeedIngestor:
    return FeedIngestor(feeds, episodes, FeedFetcher(http), parse=parser)


async def test_new_episodes_are_reported_once_and_a_304_parses_nothing(
    ingestor: FeedIngestor, feeds: FeedRepository, parser: CountingParser
) -> None:
    async with FeedServer(FEED_PREVIOUS) as server:
        first = await ingestor.ingest_url(server.url)
        assert first.first_sync
        assert len(first.new) == 91

        server.publish(FEED)
        second = await ingestor.ingest_url(server.url)
        assert not second.first_sync
        assert [episode.guid for episode in second.new] == ["dsh-ep-089", "dsh-ep-090"]  # oldest first

        third = await ingestor.ingest_url(server.url)
        assert not third.changed
        assert third.new == ()
        assert server.stats.not_modified == 1
        assert parser.calls == 2
    state = await feeds.get(server.url)
    assert state is not None
    assert state.title == "Data Science at Home"
    assert state.consecutive_failures == 0


async def test_bot_identifies_itself_to_the_feed_host(ingestor: FeedIngestor) -> None:
    async with FeedServer(FEED) as server:
        await ingestor.ingest_url(server.url)
    assert server.stats.user_agents[0].startswith("DataScienceAtHomeBot/")


async def test_a_failing_feed_is_recorded_and_the_episodes_are_untouched(
    ingestor: FeedIngestor, feeds: FeedRepository, episodes: EpisodeRepository
) -> None:
    async with FeedServer(FEED) as server:
        await ingestor.ingest_url(server.url)
        server.fail_next(503)
        with pytest.raises(IngestError, match="503"):
            await ingestor.ingest_url(server.url)
        server.publish(b"<html><body>Site under maintenance</body></html>")
        with pytest.raises(IngestError):
            await ingestor.ingest_url(server.url)
    state = await feeds.get(server.url)
    assert state is not None
    assert state.consecutive_failures == 2
    assert state.last_error
    assert await episodes.count() == 93


async def test_a_feed_without_items_is_a_failure_not_an_empty_catalogue(
    ingestor: FeedIngestor, episodes: EpisodeRepository
) -> None:
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Show</title></channel></rss>'
    async with FeedServer(empty) as server:
        with pytest.raises(IngestError, match="no episodes"):
            await ingestor.ingest_url(server.url)
    assert await episodes.count() == 0


async def test_a_moved_feed_does_not_turn_the_catalogue_into_new_episodes(ingestor: FeedIngestor) -> None:
    async with FeedServer(FEED) as old_host, FeedServer(FEED) as new_host:
        await ingestor.ingest_url(old_host.url)
        moved = await ingestor.ingest_url(new_host.url)
    assert moved.new == ()
    assert not moved.first_sync


async def test_episodes_an_ingest_stored_but_did_not_complete_are_new_for_the_next(
    ingestor: FeedIngestor,
) -> None:
    """The process dies after storing the new episodes, before their announcements are queued: the
    next ingest reports them again, however soon it comes (two ingests in the same second)."""

    async def killed(result: ingest.IngestResult) -> None:
        raise RuntimeError("killed before queueing")

    async with FeedServer(FEED_PREVIOUS) as server:
        await ingestor.ingest_url(server.url)
        server.publish(FEED)
        with pytest.raises(RuntimeError):
            await ingestor.ingest_url(server.url, before_completing=killed)
        again = await ingestor.ingest_url(server.url)
        after = await ingestor.ingest_url(server.url)
    assert [episode.guid for episode in again.new] == ["dsh-ep-089", "dsh-ep-090"]
    assert after.new == ()


async def test_an_ingest_cut_short_between_write_batches_loses_no_news(
    ingestor: FeedIngestor, episodes: EpisodeRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Episodes are written in short transactions (so nobody waits behind a large feed): a crash
    between two of them leaves some stored, and they are still news for the next ingest."""
    async with FeedServer(FEED_PREVIOUS) as server:
        await ingestor.ingest_url(server.url)
        monkeypatch.setattr("bot.db.episodes.WRITE_CHUNK", 1)
        transaction = episodes.database.transaction
        batches = 0

        def dying_after_one_batch() -> object:
            nonlocal batches
            if inspect.stack()[1].function == "upsert_many":
                batches += 1
                if batches == 2:
                    raise RuntimeError("killed between batches")
            return transaction()

        monkeypatch.setattr(episodes.database, "transaction", dying_after_one_batch)
        server.publish(FEED)
        with pytest.raises(RuntimeError):
            await ingestor.ingest_url(server.url)
        assert await episodes.count() == 92  # one of the two new episodes got stored
        monkeypatch.undo()
        again = await ingestor.ingest_url(server.url)
    assert [episode.guid for episode in again.new] == ["dsh-ep-089", "dsh-ep-090"]


async def test_new_validators_sent_with_an_unchanged_body_are_kept(
    ingestor: FeedIngestor, feeds: FeedRepository, parser: CountingParser
) -> None:
    """A host that changes its ETag without changing the feed: the body is not parsed again, and
    the next request is conditional on the newest ETag."""
    seen_conditions: list[str | None] = []

    async def serve(request: web.Request) -> web.Response:
        seen_conditions.append(request.headers.get("If-None-Match"))
        return web.Response(body=FEED, headers={"ETag": f'"v{len(seen_conditions)}"'})

    app = web.Application()
    app.router.add_get("/feed.xml", serve)
    async with TestServer(app, host="127.0.0.1") as server:
        url = str(server.make_url("/feed.xml"))
        await ingestor.ingest_url(url)
        unchanged = await ingestor.ingest_url(url)
        await ingestor.ingest_url(url)
    assert not unchanged.changed
    assert parser.calls == 1
    assert seen_conditions == [None, '"v1"', '"v2"']
    state = await feeds.get(url)
    assert state is not None
    assert state.etag == '"v3"'


async def test_the_same_document_ingested_again_is_not_parsed(
    ingestor: FeedIngestor, feeds: FeedRepository, parser: CountingParser
) -> None:
    first = await ingestor.ingest_document(FEED_PREVIOUS, "file:///feeds/dsh.xml")
    assert first.changed
    assert len(first.new) == 91
    again = await ingestor.ingest_document(FEED_PREVIOUS, "file:///feeds/dsh.xml")
    assert not again.changed
    assert again.new == ()
    assert parser.calls == 1
    changed = await ingestor.ingest_document(FEED, "file:///feeds/dsh.xml")
    assert [episode.guid for episode in changed.new] == ["dsh-ep-089", "dsh-ep-090"]
    assert parser.calls == 2
    state = await feeds.get("file:///feeds/dsh.xml")
    assert state is not None
    assert state.body_hash is not None


def test_the_command_line_does_not_parse_a_file_it_ingested_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parses = 0

    async def counting(body: bytes, base_url: str = "") -> ParsedFeed:
        nonlocal parses
        parses += 1
        return parse_feed(body, base_url)

    monkeypatch.setattr(ingest, "parse_feed_isolated", counting)
    feed = tmp_path / "feed.xml"
    feed.write_bytes(FEED)
    database = str(tmp_path / "cli.sqlite3")
    assert main(["--db", database, "ingest", str(feed)]) == 0
    assert main(["--db", database, "ingest", str(feed)]) == 0
    assert parses == 1
    assert "unchanged since it was last ingested, 0 new" in capsys.readouterr().out.splitlines()[-1]
