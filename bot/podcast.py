"""The podcast itself: its name, website and feed, and its cover image as the feed last gave it."""

from __future__ import annotations

from bot.db import FeedRepository

PODCAST_NAME = "Data Science at Home"
PODCAST_WEBSITE = "https://datascienceathome.com"


class Podcast:
    """The one place the cards, /about and the announcements ask what the podcast looks like."""

    name = PODCAST_NAME
    website = PODCAST_WEBSITE

    def __init__(self, feeds: FeedRepository, feed_url: str) -> None:
        self._feeds = feeds
        self.feed_url = feed_url

    async def image(self) -> str | None:
        """The show's cover, from the last successful read of the feed."""
        feed = await self._feeds.get(self.feed_url)
        return feed.image if feed else None
