"""Podcasting 2.0 tags for feeds the local host serves: the podcast's feed carries none yet, so the
demo (and the tests) add them to an item, with the files they link to hosted beside the feed."""

from __future__ import annotations

import re
from xml.sax.saxutils import quoteattr

from bot.demo import FEEDS
from bot.demo.feed_server import FeedServer

# Made for the demo from episode 90's published notes (its real transcript is not published); the
# times and chapters are illustrative.
EPISODE_90_GUID = "dsh-ep-090"
EPISODE_90_TRANSCRIPT = FEEDS / "ep90-transcript.vtt"
EPISODE_90_CHAPTERS = FEEDS / "ep90-chapters.json"


def with_item_tags(feed: bytes, guid: str, tags: str) -> bytes:
    """The feed whose item with this guid also carries `tags` (podcast: elements, as XML)."""
    guid_element = re.compile(rb"<guid[^>]*>" + re.escape(guid.encode()) + rb"</guid>")
    found = guid_element.search(feed)
    if found is None:
        raise ValueError(f"no item with guid {guid!r}")
    return feed[: found.end()] + b"\n      " + tags.encode() + feed[found.end() :]


def transcript_tag(url: str, mime_type: str) -> str:
    return f"<podcast:transcript url={quoteattr(url)} type={quoteattr(mime_type)}/>"


def chapters_tag(url: str) -> str:
    return f'<podcast:chapters url={quoteattr(url)} type="application/json+chapters"/>'


def with_episode_90_documents(feed: bytes, host: FeedServer) -> bytes:
    """The feed whose episode 90 links a transcript and chapters, which `host` serves."""
    transcript = host.host(
        "/ep90/transcript.vtt", EPISODE_90_TRANSCRIPT.read_bytes(), content_type="text/vtt"
    )
    chapters = host.host(
        "/ep90/chapters.json", EPISODE_90_CHAPTERS.read_bytes(), content_type="application/json+chapters"
    )
    return with_item_tags(
        feed, EPISODE_90_GUID, transcript_tag(transcript, "text/vtt") + chapters_tag(chapters)
    )
