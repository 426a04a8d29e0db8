"""The podcast itself: its name, website and feed, and its cover image as the feed last gave it."""

from __future__ import annotations

from bot.db import FeedRepository
from bot.db.feeds import FeedState

PODCAST_NAME = "Data Science at Home"
PODCAST_WEBSITE = "https://datascienceathome.com"


class Podcast:
    """The one place the cards, /about, /config status and the announcements ask what the podcast
    looks like and where its feed is."""

    name = PODCAST_NAME
    website = PODCAST_WEBSITE

    def __init__(self, feeds: FeedRepository, feed_url: str) -> None:
        self._feeds = feeds
        self.configured_feed_url = feed_url

    async def feed(self) -> FeedState | None:
        """The feed's state where it lives now (after any moves); None before the first poll."""
        return await self._feeds.current(self.configured_feed_url)

    async def feed_url(self) -> str:
        """Where to poll: the configured URL, or where the feed moved (a permanent redirect or
        itunes:new-feed-url), however many times."""
        state = await self.feed()
        if state is None:
            return self.configured_feed_url
        return state.moved_to or state.url

    async def move(self) -> FeedState | None:
        """The configured feed's state if it moved (its moved_to, moved_at and moved_because say where,
        when and why); None while it lives where the configuration says."""
        state = await self._feeds.get(self.configured_feed_url)
        return state if state is not None and state.moved_to else None

    async def image(self) -> str | None:
        """The show's cover, from the last successful read of the feed."""
        state = await self.feed()
        return state.image if state else None
