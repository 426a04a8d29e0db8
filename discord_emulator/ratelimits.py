"""Discord's rate limits (developers/topics/rate-limits.mdx): per-route buckets, the global limit, the
invalid-request limit behind Cloudflare's temporary ban, and the responses each one sends."""

from __future__ import annotations

import hashlib
import json
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from aiohttp import web

from discord_emulator.clock import EmulatorClock

JSON = dict[str, Any]
RecordT = TypeVar("RecordT")
Scope = Literal["user", "global", "shared"]

# Set on a response whose headers are complete as built: the middleware adds no Via and no bucket
# headers (the global 429 has none in the docs' example; Cloudflare's answers never reach the API).
COMPLETE_HEADERS = web.ResponseKey("discord_complete_headers", bool)


@dataclass(frozen=True, slots=True)
class RouteLimit:
    """``limit`` requests per ``per`` seconds in one bucket."""

    limit: int
    per: float


# Discord documents no per-route numbers ("rate limits should not be hard coded"); these are what it
# sends in practice for the routes a community bot uses most, keyed "METHOD /path/template".
DISCORD_ROUTE_LIMITS: Mapping[str, RouteLimit] = {
    "POST /channels/{channel_id}/messages": RouteLimit(5, 5.0),
    "PATCH /channels/{channel_id}/messages/{message_id}": RouteLimit(5, 5.0),
    "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me": RouteLimit(1, 0.25),
    # Publishing: undocumented; MonitoRSS users and the discord.py community report 10 an hour per
    # channel (synzen/MonitoRSS#184).
    "POST /channels/{channel_id}/messages/{message_id}/crosspost": RouteLimit(10, 3600.0),
}
# The top-level resources a bucket is split by (rate-limits.mdx, "Per-route rate limits"). discord.py
# treats an interaction callback's id and token like a webhook's.
TOP_LEVEL_RESOURCES = (
    "channel_id",
    "guild_id",
    "webhook_id",
    "webhook_token",
    "interaction_id",
    "interaction_token",
)


@dataclass(frozen=True, slots=True)
class BucketHit:
    """One request counted in its bucket: the X-RateLimit headers, and how long to wait when over."""

    headers: dict[str, str]
    retry_after: float | None


class RouteBuckets:
    """Per-route windows keyed by route and top-level resource, on the emulator's clock."""

    def __init__(self, clock: EmulatorClock, default: RouteLimit, limits: Mapping[str, RouteLimit]) -> None:
        self._clock = clock
        self.default = default
        self.limits = dict(limits)
        self._windows: dict[str, tuple[float, int]] = {}

    def limit_for(self, route: str) -> RouteLimit:
        return self.limits.get(route, self.default)

    def hit(self, route: str, major: str) -> BucketHit:
        rule = self.limit_for(route)
        # The bucket id does not include the top-level resource (X-RateLimit-Bucket's definition).
        bucket = hashlib.sha256(route.encode()).hexdigest()[:32]
        key = f"{bucket}:{major}"
        now = self._clock.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= rule.per:
            started, count = now, 0
        count += 1
        self._windows[key] = (started, count)
        reset_after = max(rule.per - (now - started), 0.001)
        headers = {
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Remaining": str(max(rule.limit - count, 0)),
            "X-RateLimit-Reset": f"{self._clock.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }
        return BucketHit(headers, reset_after if count > rule.limit else None)


class GlobalLimit:
    """The global limit, "All bots can make up to 50 requests per second to our API" (rate-limits.mdx,
    "Global Rate Limit"), counted in one-second windows on the emulator's clock."""

    def __init__(self, clock: EmulatorClock, limit: int, per: float = 1.0) -> None:
        self._clock = clock
        self.limit = limit
        self.per = per
        self._started = -math.inf
        self._count = 0

    def hit(self) -> float | None:
        """Count one request; the seconds to wait if it is over the limit."""
        now = self._clock.monotonic()
        if now - self._started >= self.per:
            self._started, self._count = now, 0
        self._count += 1
        if self._count > self.limit:
            return max(self.per - (now - self._started), 0.001)
        return None


class InvalidRequests(Generic[RecordT]):
    """Responses with status 401, 403 or 429 (except shared-scope 429s), and the temporary ban that
    follows too many (rate-limits.mdx, "Invalid Request Limit aka Cloudflare bans")."""

    def __init__(self, clock: EmulatorClock, *, limit: int, window: float, ban_duration: float) -> None:
        self._clock = clock
        self.limit = limit
        self.window = window
        self.ban_duration = ban_duration
        self._counted: deque[tuple[float, RecordT]] = deque()
        self.banned_until: float | None = None

    @staticmethod
    def counts(response: web.StreamResponse) -> bool:
        """Whether Discord counts this answer against the limit. Cloudflare's own answers (no Via)
        never reached the API, so only the API's 401/403/429 count."""
        if response.status not in (401, 403, 429) or "Via" not in response.headers:
            return False
        return response.headers.get("X-RateLimit-Scope") != "shared"

    def _prune(self) -> None:
        horizon = self._clock.monotonic() - self.window
        while self._counted and self._counted[0][0] <= horizon:
            self._counted.popleft()

    def count(self, record: RecordT) -> None:
        self._counted.append((self._clock.monotonic(), record))
        self._prune()
        if len(self._counted) > self.limit:
            self.banned_until = self._clock.monotonic() + self.ban_duration
            self._counted.clear()

    @property
    def banned(self) -> bool:
        if self.banned_until is None:
            return False
        if self._clock.monotonic() >= self.banned_until:
            self.banned_until = None
            return False
        return True

    @property
    def requests(self) -> list[RecordT]:
        """The requests that count now (answered 401/403/429 within the window)."""
        self._prune()
        return [record for _, record in self._counted]


# ----------------------------------------------------------------------------- responses
def _json(data: Any, status: int) -> web.Response:
    # discord.py parses a body as JSON only when Content-Type is exactly "application/json".
    return web.Response(
        status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


def rate_limited_response(
    retry_after: float, scope: Scope, bucket_headers: Mapping[str, str]
) -> web.Response:
    """The API's 429, shaped like the three examples in rate-limits.mdx ("Exceeding A Rate Limit").

    Every one carries ``Via: 1.1 google``: discord.py treats a 429 without it as a Cloudflare ban and
    raises at once instead of waiting ``retry_after`` (http.py, "Banned by Cloudflare more than likely").
    """
    is_global = scope == "global"
    message = "The resource is being rate limited." if scope == "shared" else "You are being rate limited."
    response = _json({"message": message, "retry_after": retry_after, "global": is_global}, 429)
    if is_global:
        # The global example has no bucket headers: the limit is not a route's.
        response.headers["X-RateLimit-Global"] = "true"
        response[COMPLETE_HEADERS] = True
    else:
        response.headers.update(bucket_headers)
        if scope == "user":
            response.headers["X-RateLimit-Remaining"] = "0"
    response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    response.headers["X-RateLimit-Scope"] = scope
    response.headers["Via"] = "1.1 google"
    return response


CLOUDFLARE_1015 = """<!DOCTYPE html>
<html lang="en-US">
<head><title>Access denied | discord.com used Cloudflare to restrict access</title></head>
<body>
<div id="cf-error-details">
  <h1><span class="cf-error-type">Error</span> <span class="cf-error-code">1015</span></h1>
  <h2 class="cf-subheadline">You are being rate limited</h2>
  <p>The owner of this website (discord.com) has banned you temporarily from accessing this website.</p>
</div>
</body>
</html>
"""


def cloudflare_ban_response() -> web.Response:
    """Cloudflare's answer to a banned client: 429, an HTML "error code: 1015" page, no ``Via`` and no
    rate-limit headers. Discord does not document it; this is what bots have reported receiving
    (discord-api-docs #1771, #1463)."""
    response = web.Response(status=429, text=CLOUDFLARE_1015, content_type="text/html")
    response[COMPLETE_HEADERS] = True
    return response


def cloudflare_bad_gateway() -> web.Response:
    """Cloudflare's 502 page when Discord's servers do not answer it: HTML, no ``Via``."""
    response = web.Response(
        status=502, text="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
    )
    response[COMPLETE_HEADERS] = True
    return response


def server_error_response(status: int, code: int, message: str | None) -> web.Response:
    if status == 502:
        return cloudflare_bad_gateway()
    reason = message or {500: "500: Internal Server Error", 503: "503: Service Unavailable"}.get(
        status, "Error"
    )
    return _json({"message": reason, "code": code}, status)
