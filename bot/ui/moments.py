"""The answer to /episode moments: each moment's episode, where it starts and its words."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.db.documents import MATCH_END, MATCH_START
from bot.documents.moments import FoundMoment
from bot.ui.cards import EMBED_COLOUR, EMBED_FIELD_VALUE_LIMIT, EMBED_TOTAL_LIMIT, timestamp, truncate_words

_FIELD_NAME_LIMIT = 256
_SNIPPET_LENGTH = 600


def moments_embed(query: str, moments: Sequence[FoundMoment]) -> discord.Embed:
    shown_query = discord.utils.escape_markdown(truncate_words(query.strip(), 100))
    embed = discord.Embed(title=f"Moments for “{shown_query}”", colour=EMBED_COLOUR)
    embed.set_footer(text="A link starts the audio at the moment where the audio host allows it.")
    names = [_name(moment) for moment in moments]
    # Discord refuses an embed past 6,000 characters in all: the values share what names leave.
    room = EMBED_TOTAL_LIMIT - len(embed) - sum(len(name) for name in names)
    value_limit = min(EMBED_FIELD_VALUE_LIMIT, room // max(len(moments), 1))
    for name, moment in zip(names, moments, strict=True):
        embed.add_field(name=name, value=_value(moment, value_limit), inline=False)
    return embed


def _name(moment: FoundMoment) -> str:
    at = "" if moment.start_seconds is None else f" · {timestamp(moment.start_seconds)}"
    return truncate_words(moment.episode.title, _FIELD_NAME_LIMIT - len(at)) + at


def _value(moment: FoundMoment, limit: int) -> str:
    if moment.link is not None and moment.start_seconds is not None:
        where = f"[▶ Listen from {timestamp(moment.start_seconds)}]({moment.link})"
    elif moment.episode.number is not None:
        where = f"The episode: /episode number n:{moment.episode.number}"
    else:
        where = ""
    snippet = discord.utils.escape_markdown(truncate_words(moment.snippet, _SNIPPET_LENGTH))
    budget = limit - len(where) - len("\n")
    words = _quoted(snippet.replace("\n", " "), budget)
    return f"{words}\n{where}".strip()


def _quoted(snippet: str, budget: int) -> str:
    """The snippet as a quote of at most `budget` characters, its matches in bold: cut before the
    markers become "**" (one character each, two once shown), and a match the cut left open closed."""
    cut = budget
    while True:
        words = truncate_words("> " + snippet, cut)
        if words.count(MATCH_START) > words.count(MATCH_END):
            words += MATCH_END
        markers = words.count(MATCH_START) + words.count(MATCH_END)
        if len(words) + markers <= budget:
            return words.replace(MATCH_START, "**").replace(MATCH_END, "**")
        cut -= markers
