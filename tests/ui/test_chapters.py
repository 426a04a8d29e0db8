"""Chapters as a discussion thread shows them."""

from __future__ import annotations

from bot.documents.formats import Chapter
from bot.ui.chapters import chapter_messages


def test_chapters_read_as_timestamps_with_their_titles_escaped() -> None:
    assert chapter_messages([Chapter(0, "Intro"), Chapter(3723.9, "*Bold* claims")]) == [
        "**Chapters**\n`00:00:00` Intro\n`01:02:03` \\*Bold\\* claims"
    ]


def test_every_message_stays_within_discords_limit() -> None:
    messages = chapter_messages([Chapter(n, "t" * 140) for n in range(100)])
    assert all(len(message) <= 2000 for message in messages)
    lines = [line for message in messages for line in message.splitlines()]
    assert lines[0] == "**Chapters**"
    assert len(lines) == 101
