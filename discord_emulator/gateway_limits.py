"""The gateway's identify limits (developers/events/gateway.mdx), on the emulator's clock: at most
``max_concurrency`` IDENTIFYs per 5 seconds, and a number of session starts per 24 hours."""

from __future__ import annotations

from collections import deque
from typing import Any

from discord_emulator.clock import EmulatorClock

JSON = dict[str, Any]

# "Number of identify requests allowed per 5 seconds" (Session Start Limit Object), and "Clients are
# limited to 1000 IDENTIFY calls to the websocket in a 24-hour period" ("Session Start Limit").
IDENTIFY_WINDOW = 5.0
SESSION_START_WINDOW = 24 * 60 * 60.0


class IdentifyLimits:
    """Counts IDENTIFYs; RESUMEs do not count ("does not include RESUME calls")."""

    def __init__(self, clock: EmulatorClock, *, max_concurrency: int, session_start_limit: int) -> None:
        self._clock = clock
        self.max_concurrency = max_concurrency
        self.total = session_start_limit
        self._recent: deque[float] = deque()
        self._window_began: float | None = None
        self._starts = 0

    def starts_left(self) -> int:
        """Session starts left in the current 24-hour window, which opens at the first IDENTIFY."""
        began = self._window_began
        if began is not None and self._clock.monotonic() - began >= SESSION_START_WINDOW:
            self._window_began = None
            self._starts = 0
        return max(self.total - self._starts, 0)

    def identify_allowed_now(self) -> bool:
        """Whether an IDENTIFY now keeps within ``max_concurrency`` per 5 seconds; if so, count it."""
        now = self._clock.monotonic()
        while self._recent and now - self._recent[0] >= IDENTIFY_WINDOW:
            self._recent.popleft()
        if len(self._recent) >= self.max_concurrency:
            return False
        self._recent.append(now)
        return True

    def count_start(self) -> None:
        if self._window_began is None:
            self._window_began = self._clock.monotonic()
        self._starts += 1

    def session_start_limit(self) -> JSON:
        """The session start limit object of ``GET /gateway/bot`` (``reset_after`` in milliseconds)."""
        remaining = self.starts_left()
        began = self._window_began
        elapsed = 0.0 if began is None else self._clock.monotonic() - began
        return {
            "total": self.total,
            "remaining": remaining,
            "reset_after": round((SESSION_START_WINDOW - elapsed) * 1000),
            "max_concurrency": self.max_concurrency,
        }
