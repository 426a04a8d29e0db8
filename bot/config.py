"""Settings: the bot's configuration, read once from the environment and `.env`."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import find_dotenv, load_dotenv

DEFAULT_FEED_URL = "https://datascienceathome.com/feed.xml"
DEFAULT_DATABASE_PATH = Path("data/bot.sqlite3")
DEFAULT_POLL_INTERVAL_SECONDS = 600
MIN_POLL_INTERVAL_SECONDS = 60
MAX_POLL_INTERVAL_SECONDS = 7 * 24 * 3600
# Searches and discussion counts are kept a quarter: long enough to compare months and see a topic
# come back, short enough that a server's search history is not kept for good.
DEFAULT_INSIGHTS_RETENTION_DAYS = 90
MIN_INSIGHTS_RETENTION_DAYS = 7
MAX_INSIGHTS_RETENTION_DAYS = 730
MAX_SNOWFLAKE = 2**63 - 1  # Discord ids are signed 64-bit integers
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the variable and what is allowed."""


@dataclass(frozen=True, slots=True)
class Settings:
    discord_token: str | None = field(repr=False)
    feed_url: str = DEFAULT_FEED_URL
    database_path: Path = DEFAULT_DATABASE_PATH
    poll_interval_seconds: int = DEFAULT_POLL_INTERVAL_SECONDS
    discord_api_base: str | None = None
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    insights_retention_days: int = DEFAULT_INSIGHTS_RETENTION_DAYS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default: the process environment after loading `.env`)."""
        if environ is None:
            # The one load_dotenv() call: `.env` in the working directory (scripts/bot runs from the
            # repository root), never one found by walking up from the installed package.
            # Real environment variables win over it.
            load_dotenv(find_dotenv(usecwd=True), override=False)
            environ = os.environ

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        return cls(
            discord_token=get("DISCORD_TOKEN"),
            feed_url=_http_url("FEED_URL", get("FEED_URL") or DEFAULT_FEED_URL),
            database_path=Path(get("DATABASE_PATH") or DEFAULT_DATABASE_PATH),
            poll_interval_seconds=_poll_interval(get("POLL_INTERVAL_SECONDS")),
            discord_api_base=_optional_url("DISCORD_API_BASE", get("DISCORD_API_BASE")),
            dev_guild_id=_snowflake("DEV_GUILD_ID", get("DEV_GUILD_ID")),
            log_level=_log_level(get("LOG_LEVEL")),
            insights_retention_days=_insights_retention(get("INSIGHTS_RETENTION_DAYS")),
        )

    def require_token(self) -> str:
        if not self.discord_token:
            raise ConfigError(
                "DISCORD_TOKEN is not set: put the bot token from the Discord developer portal in .env"
            )
        return self.discord_token

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http:// or https:// URL, got {shown(value)}")
    return value


def _optional_url(name: str, value: str | None) -> str | None:
    return None if value is None else _http_url(name, value).rstrip("/")


def _poll_interval(value: str | None) -> int:
    return _whole_number(
        "POLL_INTERVAL_SECONDS",
        value,
        DEFAULT_POLL_INTERVAL_SECONDS,
        range(MIN_POLL_INTERVAL_SECONDS, MAX_POLL_INTERVAL_SECONDS + 1),
        f"a whole number of seconds from {MIN_POLL_INTERVAL_SECONDS} (a minute) to "
        f"{MAX_POLL_INTERVAL_SECONDS} (a week)",
    )


def _insights_retention(value: str | None) -> int:
    return _whole_number(
        "INSIGHTS_RETENTION_DAYS",
        value,
        DEFAULT_INSIGHTS_RETENTION_DAYS,
        range(MIN_INSIGHTS_RETENTION_DAYS, MAX_INSIGHTS_RETENTION_DAYS + 1),
        f"a whole number of days from {MIN_INSIGHTS_RETENTION_DAYS} to {MAX_INSIGHTS_RETENTION_DAYS}",
    )


def _whole_number(name: str, value: str | None, default: int, allowed: range, described: str) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:  # not a number, or more digits than Python converts
        number = allowed.start - 1
    if number not in allowed:
        raise ConfigError(f"{name} must be {described}, got {shown(value)}")
    return number


def _snowflake(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    # Checked in this order: int() of thousands of digits raises, and isdigit() accepts "²".
    if not (value.isascii() and value.isdigit() and len(value) < 20 and 0 < int(value) <= MAX_SNOWFLAKE):
        raise ConfigError(f"{name} must be a Discord server id (a positive number), got {shown(value)}")
    return int(value)


def shown(value: str, limit: int = 40) -> str:
    """`value` quoted for an error line, cut short if it is long."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _log_level(value: str | None) -> str:
    level = (value or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {shown(value or '')}")
    return level
