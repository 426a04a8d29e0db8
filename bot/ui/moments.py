"""The answer to /episode moments: each moment's episode, where it starts and its words."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.db.documents import MATCH_END, MATCH_START
from bot.documents.moments import FoundMoment
from bot.ui.cards import EMBED_COLOUR, EMBED_FIELD_VALUE_LIMIT, timestamp, truncate_words

_FIELD_NAME_LIMIT = 256
_SNIPPET_LENGTH = 600


def moments_embed(query: str, moments: Sequence[FoundMoment]) -> discord.Embed:
    shown_query = discord.utils.escape_markdown(truncate_words(query.strip(), 100))
    embed = discord.Embed(title=f"Moments for “{shown_query}”", colour=EMBED_COLOUR)
    for moment in moments:
        at = "" if moment.start_seconds is None else f" · {timestamp(moment.start_seconds)}"
        name = truncate_words(moment.episode.title, _FIELD_NAME_LIMIT - len(at)) + at
        embed.add_field(name=name, value=_value(moment), inline=False)
    embed.set_footer(text="A link starts the audio at the moment where the audio host allows it.")
    return embed


def _value(moment: FoundMoment) -> str:
    snippet = discord.utils.escape_markdown(truncate_words(moment.snippet, _SNIPPET_LENGTH))
    words = "> " + snippet.replace(MATCH_START, "**").replace(MATCH_END, "**").replace("\n", " ")
    if moment.link is not None and moment.start_seconds is not None:
        where = f"[▶ Listen from {timestamp(moment.start_seconds)}]({moment.link})"
    elif moment.episode.number is not None:
        where = f"The episode: /episode number n:{moment.episode.number}"
    else:
        where = ""
    room = EMBED_FIELD_VALUE_LIMIT - len(where) - 1
    return f"{truncate_words(words, room)}\n{where}".strip()
