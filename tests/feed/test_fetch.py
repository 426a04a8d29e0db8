"""FeedFetcher against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import time
import tracemalloc

import aiohttp
import pytest
from aiohttp import web

from bot import USER_AGENT
from bot.feed.fetch import FeedFetcher, FeedFetchError, FetchedFeed, NotModified
from tests.feed.conftest import StartServer

pytestmark = pytest.mark.timeout(15)

ETAG = '"v1"'
LAST_MODIFIED = "Wed, 11 Dec 2019 12:00:00 GMT"


def _app(**routes: web.RouteDef | None) -> web.Application:
    app = web.Application()
    app.add_routes([route for route in routes.values() if route is not None])
    return app


async def test_fetch_returns_body_validators_and_hash(
    http_session: aiohttp.ClientSession, start_server: StartServer, dsh_feed: bytes
) -> None:
    seen: list[str] = []

    async def feed(request: web.Request) -> web.Response:
        seen.append(request.headers["User-Agent"])
        return web.Response(
            body=dsh_feed,
            content_type="application/rss+xml",
            headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED},
        )

    server = await start_server(_app(feed=web.get("/feed", feed)))
    result = await FeedFetcher(http_session).fetch(str(server.make_url("/feed")))

    assert result == FetchedFeed(
        url=str(server.make_url("/feed")),
        body=dsh_feed,
        etag=ETAG,
        last_modified=LAST_MODIFIED,
        body_hash=hashlib.sha256(dsh_feed).hexdigest(),
    )
    assert seen == [USER_AGENT]


async def test_etag_round_trip_gives_not_modified(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    conditions: list[str | None] = []

    async def feed(request: web.Request) -> web.Response:
        conditions.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == ETAG:
            return web.Response(status=304, headers={"ETag": ETAG})
        return web.Response(body=b"<rss/>", headers={"ETag": ETAG})

    server = await start_server(_app(feed=web.get("/feed", feed)))
    fetcher = FeedFetcher(http_session)
    first = await fetcher.fetch(str(server.make_url("/feed")))
    assert isinstance(first, FetchedFeed)
    second = await fetcher.fetch(str(server.make_url("/feed")), etag=first.etag)

    assert second == NotModified("304")
    assert conditions == [None, ETAG]


async def test_last_modified_round_trip_gives_not_modified(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    async def feed(request: web.Request) -> web.Response:
        if request.headers.get("If-Modified-Since") == LAST_MODIFIED:
            return web.Response(status=304)
        return web.Response(body=b"<rss/>", headers={"Last-Modified": LAST_MODIFIED})

    server = await start_server(_app(feed=web.get("/feed", feed)))
    fetcher = FeedFetcher(http_session)
    first = await fetcher.fetch(str(server.make_url("/feed")))
    assert isinstance(first, FetchedFeed)
    assert first.etag is None
    second = await fetcher.fetch(str(server.make_url("/feed")), last_modified=first.last_modified)

    assert second == NotModified("304")


async def test_same_body_hash_gives_not_modified_and_a_new_body_does_not(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    bodies = [b"<rss>one</rss>", b"<rss>one</rss>", b"<rss>two</rss>"]

    async def feed(request: web.Request) -> web.Response:
        return web.Response(body=bodies.pop(0))

    server = await start_server(_app(feed=web.get("/feed", feed)))
    fetcher = FeedFetcher(http_session)
    url = str(server.make_url("/feed"))
    first = await fetcher.fetch(url)
    assert isinstance(first, FetchedFeed)

    assert await fetcher.fetch(url, previous_hash=first.body_hash) == NotModified("unchanged body hash")
    third = await fetcher.fetch(url, previous_hash=first.body_hash)
    assert isinstance(third, FetchedFeed)
    assert third.body == b"<rss>two</rss>"


@pytest.mark.parametrize("status", [404, 410, 500, 503])
async def test_http_error_status_is_a_fetch_error(
    http_session: aiohttp.ClientSession, start_server: StartServer, status: int
) -> None:
    async def feed(request: web.Request) -> web.Response:
        return web.Response(status=status, text="nope")

    server = await start_server(_app(feed=web.get("/feed", feed)))
    url = str(server.make_url("/feed"))

    with pytest.raises(FeedFetchError, match=f"^HTTP {status} from {re.escape(url)}$"):
        await FeedFetcher(http_session).fetch(url)


async def test_server_that_never_answers_times_out(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    async def feed(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(body=b"<rss/>")

    server = await start_server(_app(feed=web.get("/feed", feed)))
    started = time.monotonic()

    with pytest.raises(FeedFetchError, match=r"^timed out after 0\.3 s$"):
        await FeedFetcher(http_session, total_timeout=0.3).fetch(str(server.make_url("/feed")))
    assert time.monotonic() - started < 2


async def test_body_dripping_slowly_times_out(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    async def feed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(300):
            await response.write(b"<")
            await asyncio.sleep(0.05)
        return response

    server = await start_server(_app(feed=web.get("/feed", feed)))
    started = time.monotonic()

    with pytest.raises(FeedFetchError, match=r"^timed out after 0\.5 s$"):
        await FeedFetcher(http_session, total_timeout=0.5).fetch(str(server.make_url("/feed")))
    assert time.monotonic() - started < 2


async def test_closed_port_is_connection_refused(http_session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(FeedFetchError, match=r"^connection refused$"):
        await FeedFetcher(http_session).fetch(f"http://127.0.0.1:{port}/feed")


async def test_endless_body_is_refused_early_with_bounded_memory(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    sent: list[int] = []
    chunk = b"<item>" + b"x" * (64 * 1024 - 6)

    async def feed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked, no Content-Length to refuse on
        await response.prepare(request)
        try:
            for _ in range(50 * 16):  # 50 MB
                await response.write(chunk)
                sent.append(len(chunk))
        except (ConnectionError, aiohttp.ClientConnectionResetError):
            pass
        return response

    server = await start_server(_app(feed=web.get("/feed", feed)))
    fetcher = FeedFetcher(http_session, max_bytes=1_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(FeedFetchError, match=r"^feed larger than 1 MB$"):
            await fetcher.fetch(str(server.make_url("/feed")))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await asyncio.sleep(0.2)  # let the server notice the closed connection

    assert peak < 8_000_000
    assert sum(sent) < 20_000_000


async def test_declared_oversized_body_is_refused_before_reading(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    async def feed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "50000000"})
        await response.prepare(request)
        await response.write(b"<rss>")
        await asyncio.sleep(30)
        return response

    server = await start_server(_app(feed=web.get("/feed", feed)))
    started = time.monotonic()

    with pytest.raises(FeedFetchError, match=r"^feed larger than 20 MB$"):
        await FeedFetcher(http_session).fetch(str(server.make_url("/feed")))
    assert time.monotonic() - started < 2


async def test_redirect_loop_is_too_many_redirects(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    hops: list[str] = []

    async def loop(request: web.Request) -> web.Response:
        hops.append(request.path)
        raise web.HTTPFound("/a" if request.path == "/b" else "/b")

    server = await start_server(_app(a=web.get("/a", loop), b=web.get("/b", loop)))

    with pytest.raises(FeedFetchError, match=r"^too many redirects \(more than 3\)$"):
        await FeedFetcher(http_session, max_redirects=3).fetch(str(server.make_url("/a")))
    assert len(hops) == 4  # the first request and the three redirects it was allowed


async def test_redirect_refused_when_redirects_are_disabled(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    async def old(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/feed")

    server = await start_server(_app(old=web.get("/old", old)))

    with pytest.raises(FeedFetchError, match=r"^too many redirects \(more than 0\)$"):
        await FeedFetcher(http_session, max_redirects=0).fetch(str(server.make_url("/old")))


async def test_five_redirects_are_followed_and_the_final_url_reported(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    async def hop(request: web.Request) -> web.Response:
        left = int(request.match_info["left"])
        raise web.HTTPMovedPermanently("/feed" if left == 1 else f"/hop/{left - 1}")

    async def feed(request: web.Request) -> web.Response:
        return web.Response(body=b"<rss/>")

    server = await start_server(_app(hop=web.get("/hop/{left}", hop), feed=web.get("/feed", feed)))
    result = await FeedFetcher(http_session, max_redirects=5).fetch(str(server.make_url("/hop/5")))

    assert isinstance(result, FetchedFeed)
    assert result.url == str(server.make_url("/feed"))


async def test_redirect_to_a_local_file_is_refused(
    http_session: aiohttp.ClientSession, start_server: StartServer
) -> None:
    async def feed(request: web.Request) -> web.Response:
        raise web.HTTPFound("file:///etc/passwd")

    server = await start_server(_app(feed=web.get("/feed", feed)))

    with pytest.raises(FeedFetchError, match=r"^redirected to an invalid or non-HTTP URL$"):
        await FeedFetcher(http_session).fetch(str(server.make_url("/feed")))


@pytest.mark.parametrize(
    "url", ["", "not a url", "ftp://example.com/feed.xml", "file:///etc/passwd", "http://", "//example.com/"]
)
async def test_invalid_url_is_a_fetch_error(http_session: aiohttp.ClientSession, url: str) -> None:
    with pytest.raises(FeedFetchError, match=r"^invalid URL"):
        await FeedFetcher(http_session).fetch(url)
