"""Feed documents derived from the fixture feed, for the scenarios the end-to-end tests play."""

from __future__ import annotations

import re

from tests.e2e.conftest import FEED

_ITEM = re.compile(rb"\s*<item>.*?</item>", re.DOTALL)


def without_newest(count: int, feed: bytes = FEED) -> bytes:
    """The feed as it was before its `count` newest items were published."""
    items = list(_ITEM.finditer(feed))
    cut = items[count - 1].end()
    return feed[: items[0].start()] + feed[cut:]


def with_newest_item_changed(title: str, description: str, feed: bytes = FEED) -> bytes:
    """The feed whose newest item carries this (escaped) title and description."""
    first = _ITEM.search(feed)
    assert first is not None
    item = first.group(0)
    item = re.sub(rb"<title>.*?</title>", b"<title>" + _xml(title) + b"</title>", item, count=1)
    item = re.sub(
        rb"<description>.*?</description>",
        b"<description>" + _xml(description) + b"</description>",
        item,
        count=1,
        flags=re.DOTALL,
    )
    item = re.sub(rb"<content:encoded>.*?</content:encoded>", b"", item, flags=re.DOTALL)
    return feed[: first.start()] + item + feed[first.end() :]


def _xml(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


def moved_to(new_url: str, feed: bytes = FEED) -> bytes:
    """The feed naming its new address, as Apple's podcast spec has a moving feed do."""
    tag = b"<itunes:new-feed-url>" + _xml(new_url) + b"</itunes:new-feed-url>"
    return feed.replace(b"<channel>", b"<channel>\n    " + tag, 1)


def rehosted(feed: bytes = FEED) -> bytes:
    """The feed as a new host publishes it: new guids, audio files at the new host's address; only
    the episode pages on the podcast's website stay the same."""
    feed = re.sub(rb"<guid[^>]*>(.*?)</guid>", rb"<guid isPermaLink=\"false\">newhost-\1</guid>", feed)
    return re.sub(rb'url="https://[^/"]+/', b'url="https://media.newhost.example/', feed)
