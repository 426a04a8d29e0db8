"""The emulator's clock: real time plus an offset that tests move forward with ``advance``."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class EmulatorClock:
    """Monotonic seconds and wall-clock UTC, both real time shifted by the same ``offset``.

    Everything time-based in the emulated Discord (rate-limit windows, the interaction response
    window, nonce deduplication, thread auto-archiving, identify pacing, the invalid-request ban...)
    reads this clock, so a test can jump an hour ahead without waiting an hour. The clock never goes
    back. The gateway's heartbeat deadline is the exception: it guards a real connection and uses
    real time.
    """

    def __init__(self) -> None:
        self._offset = 0.0

    @property
    def offset(self) -> float:
        """Seconds the clock is ahead of real time."""
        return self._offset

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (``time.monotonic()`` plus the offset), for durations."""
        return time.monotonic() + self._offset

    def time(self) -> float:
        """Seconds since the Unix epoch (``time.time()`` plus the offset), for wall-clock values."""
        return time.time() + self._offset

    def now(self) -> datetime:
        """The current UTC date and time on the emulator's clock."""
        return datetime.fromtimestamp(self.time(), UTC)

    def move_forward(self, seconds: float) -> None:
        """Jump ``seconds`` ahead; use ``DiscordEmulator.advance`` so that what time triggers runs."""
        if seconds < 0:
            raise ValueError("the emulator's clock only moves forward")
        self._offset += seconds
