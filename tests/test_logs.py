"""Log lines: discord.py's format, colours only on a terminal, one line per event, no secret."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import REDACTED, configure_logging, redact

BOT_TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAx.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A logger that reaches only the handler under test; the root logger is left as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield logging.getLogger("bot.test_logs")
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_log_line_is_discord_pys_plain_format_without_colours_when_not_a_terminal(
    logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("discord.utils.is_docker", lambda: True)  # discord.py colours a container's logs
    stream = io.StringIO()
    configure_logging(logging.INFO, stream=stream)
    logger.info("Connected as %s", "DSH Bot")
    line = stream.getvalue()
    assert "\x1b[" not in line
    assert line.endswith("] [INFO    ] bot.test_logs: Connected as DSH Bot\n")


def test_a_terminal_gets_discord_pys_colours_unless_no_color(
    logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    terminal = Terminal()
    configure_logging(logging.INFO, stream=terminal)
    logger.info("hello")
    assert "\x1b[" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    terminal = Terminal()
    configure_logging(logging.INFO, stream=terminal)
    logger.info("hello")
    assert "\x1b[" not in terminal.getvalue()


def test_each_event_is_one_line_even_with_a_traceback(logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging(logging.INFO, stream=stream)
    try:
        raise RuntimeError("database on fire")
    except RuntimeError:
        logger.exception("Poll failed\nunexpectedly")
    output = stream.getvalue()
    assert output.count("\n") == 1
    assert "Poll failed\\nunexpectedly\\nTraceback (most recent call last):\\n" in output
    assert output.endswith("RuntimeError: database on fire\n")


def test_configuring_again_replaces_the_handler_instead_of_adding_one(logger: logging.Logger) -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(logging.INFO, stream=first)
    configure_logging(logging.INFO, stream=second)
    logger.info("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


def test_the_bot_token_is_redacted_at_every_level(logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging(logging.DEBUG, secrets=[BOT_TOKEN], stream=stream)
    logger.debug("token is %s", BOT_TOKEN)
    logger.error("header Bot %s", BOT_TOKEN[:-1] + "X")  # shaped like a token, not the token
    assert BOT_TOKEN[:30] not in stream.getvalue()
    assert stream.getvalue().count(REDACTED) == 2


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (
            "POST http://127.0.0.1:5/api/v10/interactions/123/aW50ZXJhY3Rpb24/callback with {} returned 204",
            "/interactions/123/[redacted]/callback with {}",
        ),
        (
            "Webhook ID 9 with PATCH https://discord.com/api/v10/webhooks/9/aW50ZXJhY3Rpb24/messages/@original",
            "/webhooks/9/[redacted]/messages/@original",
        ),
        (
            "Event: {'t': 'INTERACTION_CREATE', 'd': {'id': '1', 'token': 'aW50ZXJhY3Rpb24', 'type': 2}}",
            "'token': '[redacted]', 'type': 2",
        ),
        ('{"token": "aW50ZXJhY3Rpb24"}', '{"token": "[redacted]"}'),
        ("Feed https://listener:hunter2@example.com/feed failed", "Feed https://[redacted]@example.com/feed"),
    ],
)
def test_interaction_tokens_webhook_urls_and_url_passwords_are_redacted(line: str, kept: str) -> None:
    redacted = redact(line)
    assert kept in redacted
    assert "aW50ZXJhY3Rpb24" not in redacted
    assert "hunter2" not in redacted
