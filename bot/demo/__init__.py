"""The bot on the Discord emulator: `python -m bot demo`, the harness the tests and benchmarks run the
real bot with, a local feed host, and the podcast's fixture feeds they all serve.

Everything here but the feed host and the feeds needs the `discord_emulator` package, which only the
`demo` and `dev` extras install: import `bot.demo.scene` or `bot.demo.harness` only where it is there.
"""

from __future__ import annotations

from pathlib import Path

FEEDS = Path(__file__).parent / "feeds"
# The podcast's feed (93 episodes) and a snapshot taken before its two newest were published.
FEED_FILE = FEEDS / "feed.xml"
PREVIOUS_FEED_FILE = FEEDS / "feed-previous.xml"
