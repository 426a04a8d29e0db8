"""Download a feed over HTTP with conditional requests, hard time and size limits and typed errors."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from typing import Literal

import aiohttp
from yarl import URL

from bot import USER_AGENT

log = logging.getLogger(__name__)

_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
_CHUNK_BYTES = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})


class FeedFetchError(Exception):
    """The feed could not be downloaded; the message says why in a few words."""


@dataclass(frozen=True, slots=True)
class FetchedFeed:
    """A feed document that is new since the last poll."""

    url: str  # after redirects
    body: bytes
    etag: str | None
    last_modified: str | None
    body_hash: str  # sha256, hex
    # Where the feed moved: the final URL when every redirect on the way was permanent (301, 308).
    moved_to: str | None = None


@dataclass(frozen=True, slots=True)
class NotModified:
    """The feed has not changed since the last poll."""

    reason: Literal["304", "unchanged body hash"]
    # New validators sent with an unchanged body: kept, so the next request can be conditional.
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None  # as FetchedFeed's: an unchanged feed can have moved too


class FeedFetcher:
    """Fetches feeds through an injected aiohttp session (its owner closes it)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        max_bytes: int = 20_000_000,
        connect_timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_redirects: int = 5,
        user_agent: str = USER_AGENT,
    ) -> None:
        self._session = session
        self._max_bytes = max_bytes
        self._connect_timeout = connect_timeout
        self._total_timeout = total_timeout
        self._max_redirects = max_redirects
        self._user_agent = user_agent

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        previous_hash: str | None = None,
    ) -> FetchedFeed | NotModified:
        """Download ``url``; NotModified on a 304 or when the body hashes to ``previous_hash``."""
        target = _checked_url(url)
        headers = {"User-Agent": self._user_agent, "Accept": _ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            # asyncio.timeout bounds the whole exchange, body included, even if the server drips it.
            async with asyncio.timeout(self._total_timeout):
                result = await self._request(target, headers)
        except TimeoutError as exc:
            raise FeedFetchError(f"timed out after {self._total_timeout:g} s") from exc
        except aiohttp.TooManyRedirects as exc:
            raise FeedFetchError(f"too many redirects (more than {self._max_redirects})") from exc
        except aiohttp.ClientConnectorDNSError as exc:
            raise FeedFetchError(f"cannot resolve host {exc.host}") from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise FeedFetchError(f"invalid TLS certificate for {exc.host}") from exc
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, ConnectionRefusedError):
                raise FeedFetchError("connection refused") from exc
            raise FeedFetchError(f"cannot connect to {exc.host}: {exc.os_error.strerror or exc}") from exc
        except aiohttp.RedirectClientError as exc:
            raise FeedFetchError("redirected to an invalid or non-HTTP URL") from exc
        except aiohttp.InvalidURL as exc:
            raise FeedFetchError(f"invalid URL: {exc.url}") from exc
        except aiohttp.ClientPayloadError as exc:
            raise FeedFetchError("connection broken while reading the feed") from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise FeedFetchError("server closed the connection") from exc
        except aiohttp.ClientError as exc:
            raise FeedFetchError(f"request failed: {type(exc).__name__}") from exc
        if isinstance(result, FetchedFeed) and result.body_hash == previous_hash:
            return NotModified("unchanged body hash", result.etag, result.last_modified, result.moved_to)
        return result

    async def _request(self, url: URL, headers: dict[str, str]) -> FetchedFeed | NotModified:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout)
        async with self._session.get(
            url,
            headers=headers,
            timeout=timeout,
            allow_redirects=self._max_redirects > 0,
            # aiohttp gives up on its Nth redirect response; we follow N redirects.
            max_redirects=self._max_redirects + 1,
        ) as response:
            moved_to = _moved_to(response)
            if response.status == 304:
                return NotModified("304", moved_to=moved_to)
            if response.status in _REDIRECTS:
                raise FeedFetchError(f"too many redirects (more than {self._max_redirects})")
            if response.status >= 300:
                raise FeedFetchError(f"HTTP {response.status} from {response.url}")
            if response.content_length is not None and response.content_length > self._max_bytes:
                response.close()
                raise FeedFetchError(self._too_large())
            body = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
                body += chunk
                if len(body) > self._max_bytes:
                    # Drop the connection rather than drain it: the rest may be endless.
                    response.close()
                    raise FeedFetchError(self._too_large())
            log.debug("Fetched %s: %d bytes, HTTP %d", response.url, len(body), response.status)
            return FetchedFeed(
                url=str(response.url),
                body=bytes(body),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                body_hash=hashlib.sha256(body).hexdigest(),
                moved_to=moved_to,
            )

    def _too_large(self) -> str:
        return f"feed larger than {self._max_bytes / 1_000_000:g} MB"


def _checked_url(url: str) -> URL:
    try:
        parsed = URL(url.strip())
    except (ValueError, TypeError) as exc:
        raise FeedFetchError(f"invalid URL: {url!r}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FeedFetchError(f"invalid URL: {url!r} (need http:// or https://)")
    return parsed


def _moved_to(response: aiohttp.ClientResponse) -> str | None:
    """The feed's new address, if it was reached only through permanent redirects."""
    if response.history and all(hop.status in _PERMANENT for hop in response.history):
        return str(response.url)
    return None
