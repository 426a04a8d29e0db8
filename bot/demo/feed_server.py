"""A podcast feed host on 127.0.0.1 for tests and the demo: serves a document tests can change,
with ETag / Last-Modified validators and 304s like a real web server, and injectable failures."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from types import TracebackType

from aiohttp import web

FEED_PATH = "/feed.xml"


@dataclass
class FeedServerStats:
    requests: int = 0
    not_modified: int = 0
    full_responses: int = 0
    conditional_requests: int = 0
    redirects: int = 0
    user_agents: list[str] = field(default_factory=list)


class FeedServer:
    """`async with FeedServer(body) as server:` then fetch `server.url`."""

    def __init__(self, body: bytes = b"", *, content_type: str = "application/rss+xml") -> None:
        self.stats = FeedServerStats()
        self._content_type = content_type
        self._failures: list[int] = []
        self._moved: tuple[int, str] | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0
        self.publish(body)

    def publish(self, body: bytes) -> None:
        """Replace the document; its validators change with it."""
        self._body = body
        self._etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        self._last_modified = format_datetime(datetime.now(UTC), usegmt=True)

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next `count` requests with `status` and an error page."""
        self._failures.extend([status] * count)

    def move_to(self, url: str, *, status: int = 301) -> None:
        """The feed moved: every request is redirected to `url` (301 and 308 say for good, 302 and
        307 for now)."""
        self._moved = (status, url)

    def clear_failures(self) -> None:
        """The host works again: no more error pages."""
        self._failures.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}{FEED_PATH}"

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_get(FEED_PATH, self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        self.stats.user_agents.append(request.headers.get("User-Agent", ""))
        if self._failures:
            status = self._failures.pop(0)
            return web.Response(status=status, text=f"<html><body>Error {status}</body></html>")
        if self._moved is not None:
            self.stats.redirects += 1
            status, location = self._moved
            return web.Response(status=status, headers={"Location": location})
        validators = {"ETag": self._etag, "Last-Modified": self._last_modified}
        if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
            self.stats.conditional_requests += 1
        if request.headers.get("If-None-Match") == self._etag:
            self.stats.not_modified += 1
            return web.Response(status=304, headers=validators)
        self.stats.full_responses += 1
        return web.Response(body=self._body, content_type=self._content_type, headers=validators)
