"""A podcast feed host on 127.0.0.1 for tests and the demo: serves a document tests can change,
with ETag / Last-Modified validators and 304s like a real web server, and injectable failures; and
beside it the files a feed links to (transcripts, chapters)."""

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
    file_requests: dict[str, int] = field(default_factory=dict)  # per path of a hosted file
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
        self._files: dict[str, tuple[bytes, str]] = {}
        self.publish(body)

    def publish(self, body: bytes) -> None:
        """Replace the document; its validators change with it."""
        self._body = body
        self._etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        self._last_modified = format_datetime(datetime.now(UTC), usegmt=True)

    def host(self, path: str, body: bytes, *, content_type: str = "text/plain") -> str:
        """Serve `body` at `path` (replacing what was there) beside the feed; returns its URL."""
        self._files[path] = (body, content_type)
        return self.url_of(path)

    def url_of(self, path: str) -> str:
        return f"http://127.0.0.1:{self._port}{path}"

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
        return self.url_of(FEED_PATH)

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_get(FEED_PATH, self._serve)
        app.router.add_get("/{path:.+}", self._serve_file)
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

    async def _serve_file(self, request: web.Request) -> web.Response:
        path = request.path
        self.stats.file_requests[path] = self.stats.file_requests.get(path, 0) + 1
        if path not in self._files:
            return web.Response(status=404, text="Not found")
        body, content_type = self._files[path]
        return web.Response(body=body, headers={"Content-Type": content_type})

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
