"""Logging: discord.py's set-up (colours only on a terminal), one line per event, no secret in any."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import TextIO

import discord

REDACTED = "[redacted]"

# What discord.py (and aiohttp's errors) may print that works as a credential.
_SECRET_SHAPES = (
    # Interaction callbacks and follow-ups carry the interaction token in the URL:
    # /interactions/{id}/{token}/callback, /webhooks/{application id}/{token}/messages/@original.
    (re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/\s?#'\"]+"), rf"\g<1>{REDACTED}"),
    # INTERACTION_CREATE as discord.py prints it at DEBUG: {..., 'token': '...'}.
    (re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]*"""), rf"\g<1>{REDACTED}"),
    # Credentials inside a URL, such as a feed behind basic authentication.
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@", re.IGNORECASE), rf"\g<1>{REDACTED}@"),
    # Anything shaped like a Discord bot token: base64 user id, timestamp, HMAC.
    (re.compile(r"\b[A-Za-z\d_-]{23,28}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,40}\b"), REDACTED),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret, and whatever is shaped like one, replaced by [redacted]."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for shape, replacement in _SECRET_SHAPES:
        text = shape.sub(replacement, text)
    return text


class SafeFormatter(logging.Formatter):
    """Wraps the formatter discord.py chose: the same line, with secrets redacted and line breaks
    (a traceback's, a multi-line message's) written as \\n, so that every event is one line."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = tuple(secret for secret in secrets if secret)

    def format(self, record: logging.LogRecord) -> str:
        text = redact(self._inner.format(record), self._secrets)
        return text.replace("\r\n", "\n").replace("\n", "\\n")


def plain_formatter() -> logging.Formatter:
    """discord.py's own format for a stream without colours."""
    return logging.Formatter("[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{")


def wants_colour(stream: TextIO) -> bool:
    """Colours only on a terminal that supports them (discord.py alone also colours a container's
    logs, where they end up as escape codes in a file), and never when NO_COLOR is set."""
    is_terminal = hasattr(stream, "isatty") and stream.isatty()
    return is_terminal and not os.environ.get("NO_COLOR") and discord.utils.stream_supports_colour(stream)


class _BotLogHandler(logging.StreamHandler[TextIO]):
    """The handler configure_logging installs; calling it again replaces it instead of adding one."""


def configure_logging(
    level: int, *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """The one logging set-up: discord.py's `setup_logging` on the root logger (its colour formatter
    on a terminal, its plain one elsewhere), wrapped by SafeFormatter. Returns the handler."""
    root = logging.getLogger()
    for previous in [handler for handler in root.handlers if isinstance(handler, _BotLogHandler)]:
        root.removeHandler(previous)
    handler = _BotLogHandler(stream)
    if wants_colour(handler.stream):
        discord.utils.setup_logging(handler=handler, level=level, root=True)  # its colour formatter
    else:
        discord.utils.setup_logging(handler=handler, formatter=plain_formatter(), level=level, root=True)
    handler.setFormatter(SafeFormatter(handler.formatter or plain_formatter(), secrets))
    # APScheduler logs every run of every job at INFO: two lines every 15 seconds, for years.
    logging.getLogger("apscheduler").setLevel(logging.WARNING if level > logging.DEBUG else logging.NOTSET)
    return handler
