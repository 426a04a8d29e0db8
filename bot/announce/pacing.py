"""Pacing: the announcements' requests spread under Discord's global rate limit instead of hitting it.

Discord allows a bot 50 requests per second in all (developers/topics/rate-limits.mdx) and answers
the 51st with a 429 that counts towards the invalid-request limit, past which Cloudflare bans the bot.
discord.py learns per-route limits from headers but only reacts to the global one, so a fan-out to a
thousand servers would hit it every second. Interaction answers are exempt from the global limit and
announcements are the bot's only bulk traffic, so pacing them leaves room for everything else.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# Discord's 50 per second, less headroom for the bot's other requests (command syncs, card edits).
DEFAULT_REQUESTS_PER_SECOND = 48.0


class RequestPacer:
    """Hands out request slots at least 1/`rate` seconds apart, in the order they are asked for.
    Each slot is timed from when the previous one was actually taken, so requests held up by a
    busy loop never go out in a burst afterwards."""

    def __init__(self, rate: float = DEFAULT_REQUESTS_PER_SECOND) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._next_slot = 0.0
        self._lock = asyncio.Lock()  # FIFO: slots go in the order they were asked for

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for the next free slot, then make one request inside the block."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            wait = self._next_slot - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_slot = loop.time() + self._interval
        yield
