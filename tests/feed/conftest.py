"""Fixtures for the feed tests: HTTP session and servers on 127.0.0.1, parser workers, generated feeds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.demo import FEED_FILE
from bot.feed.isolation import ParserWorker, shutdown_parser_workers

FIXTURES = Path(__file__).parent.parent / "fixtures"

StartServer = Callable[[web.Application], Awaitable[TestServer]]


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """Start an aiohttp app on 127.0.0.1 (random port); every server is closed after the test."""
    servers: list[TestServer] = []

    async def start(app: web.Application) -> TestServer:
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.close()


@pytest.fixture(scope="session")
def dsh_feed() -> bytes:
    return FEED_FILE.read_bytes()


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_parser_worker() -> Iterator[None]:
    """Whatever test started the shared parser process (parse_feed_isolated), it ends with the run."""
    yield
    asyncio.run(shutdown_parser_workers())


@pytest.fixture
async def parser_worker() -> AsyncIterator[ParserWorker]:
    worker = ParserWorker()
    yield worker
    await worker.aclose()


def many_attributes_feed(count: int) -> bytes:
    """Valid XML that xml.sax needs quadratic time for: ~30 s at 60,000 attributes."""
    attributes = " ".join(f'a{i}="x"' for i in range(count))
    return (
        f"<rss><channel><title>T</title><item><guid>g</guid><enclosure {attributes}/></item></channel></rss>"
    ).encode()


def simple_feed(items: int, *, notes: str = "<p>Show notes.</p>") -> bytes:
    entries = "".join(
        f"<item><title>Episode {i}: topic</title><guid>ep-{i}</guid>"
        f"<enclosure url='https://cdn.example.com/{i}.mp3' type='audio/mpeg'/>"
        f"<description><![CDATA[{notes}]]></description></item>"
        for i in range(items, 0, -1)
    )
    return f"<rss version='2.0'><channel><title>Show</title>{entries}</channel></rss>".encode()
