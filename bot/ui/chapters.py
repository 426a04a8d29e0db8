"""An episode's chapters as a discussion thread shows them: "HH:MM:SS title" lines, split into messages
within Discord's limit."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.documents.formats import Chapter
from bot.ui.cards import CONTENT_LIMIT, timestamp, truncate_words

CHAPTERS_HEADING = "**Chapters**"
_TITLE_LENGTH = 150


def chapter_messages(chapters: Sequence[Chapter]) -> list[str]:
    """The chapter list, one "HH:MM:SS title" line each, in as few messages as Discord's 2,000
    characters allow; the first starts with a heading."""
    messages: list[str] = []
    current = CHAPTERS_HEADING
    for chapter in chapters:
        title = discord.utils.escape_markdown(truncate_words(chapter.title, _TITLE_LENGTH))
        line = f"`{timestamp(chapter.start_seconds)}` {title}"
        if len(current) + 1 + len(line) > CONTENT_LIMIT:
            messages.append(current)
            current = line
        else:
            current = f"{current}\n{line}"
    messages.append(current)
    return messages
