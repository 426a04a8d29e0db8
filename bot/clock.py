"""The bot's clock: what time it is, in UTC, to the second (the precision the database keeps)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
