"""The /insights report as an embed, its charts drawn with Unicode blocks (no image, no dependency)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import discord

from bot.community.insights import InsightsReport, MissingTopic
from bot.db.suggestions import Suggestion
from bot.ui.cards import EMBED_COLOUR, EMBED_FIELD_VALUE_LIMIT, EMBED_TOTAL_LIMIT, truncate_words
from bot.ui.suggestions import card_url, shown, votes_text

BAR_WIDTH = 8
# A bar's last cell in eighths, so that 3 and 4 of 10 look different in 8 cells.
_EIGHTHS = " ▏▎▍▌▋▊▉"
_SPARKS = "▁▂▃▄▅▆▇█"
SPARK_CELLS = 31  # a month a cell a day; longer periods are summed a week a cell


def period_name(days: int | None) -> str:
    if days is None:
        return "all the time kept"
    return "the last day" if days == 1 else f"the last {days} days"


def bar(value: int, maximum: int, width: int = BAR_WIDTH) -> str:
    """`value` as a horizontal bar of `width` cells, the longest for `maximum`; at least a sliver."""
    if maximum <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / maximum * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def sparkline(counts: Sequence[int]) -> str:
    """Counts in a row as blocks of eight heights, the highest for the largest; empty as the lowest."""
    highest = max(counts, default=0)
    if highest == 0:
        return _SPARKS[0] * len(counts)
    return "".join(_SPARKS[round(count / highest * (len(_SPARKS) - 1))] for count in counts)


def searches_over_time(per_day: dict[date, int], since: datetime | None, today: date) -> tuple[str, str]:
    """A sparkline of the searches from `since` (or the first search) to `today`, and what a cell is."""
    first = since.date() if since is not None else min(per_day, default=today)
    days = [first + timedelta(days=offset) for offset in range((today - first).days + 1)]
    counts = [per_day.get(day, 0) for day in days]
    if len(counts) <= SPARK_CELLS:
        return sparkline(counts), "a day a block"
    weeks = [sum(counts[start : start + 7]) for start in range(0, len(counts), 7)]
    return sparkline(weeks), "a week a block"


def _fitted(lines: Sequence[str], empty: str, limit: int = EMBED_FIELD_VALUE_LIMIT) -> str:
    """As many lines as fit in `limit` characters, the rest counted on a last line."""
    room = limit - len("… and 99 more")
    kept: list[str] = []
    for line in lines:
        if sum(len(k) + 1 for k in kept) + len(line) > room:
            kept.append(f"… and {len(lines) - len(kept)} more")
            break
        kept.append(line)
    return "\n".join(kept) or empty


def _suggestion_link(suggestion: Suggestion) -> str:
    topic = shown(truncate_words(suggestion.topic, 60))
    url = card_url(suggestion)
    return f"#{suggestion.number} [{topic}]({url})" if url else f"#{suggestion.number} {topic}"


def _missing_line(rank: int, topic: MissingTopic, most: int) -> str:
    searched = f"{topic.searches} search{'es' if topic.searches != 1 else ''}"
    how = "nothing found" if topic.not_found == topic.searches else f"{topic.not_found} found nothing"
    if topic.not_found == 0:
        how = "no result opened"
    line = f"`{bar(topic.searches, most)}` **{rank}.** `{topic.query}` · {searched}, {how}"
    if topic.suggestion is not None:
        line += f" → {_suggestion_link(topic.suggestion)}"
    return line


def insights_embed(report: InsightsReport, *, today: date, retention_days: int) -> discord.Embed:
    spark, cell = searches_over_time(report.searches_per_day, report.since, today)
    description = [
        f"**{report.searches}** searches recorded in {period_name(report.days)}.",
        f"Searches over time ({cell}): `{spark}`",
    ]
    if not report.recording:
        description.append("Insights are **off** here: nothing is recorded (`/config insights on`).")
    embed = discord.Embed(
        title=f"What listeners look for · {period_name(report.days)}",
        description="\n".join(description),
        colour=EMBED_COLOUR,
    )
    most_missing = max((topic.searches for topic in report.missing), default=0)
    most_searched = max((query.searches for query in report.top_queries), default=0)
    most_recent = max((trend.recent_votes for trend in report.trending), default=0)
    busiest = max((thread.messages for thread in report.threads), default=0)
    sections = (
        (
            "Searched for, not found (the catalogue's gaps)",
            [_missing_line(rank, topic, most_missing) for rank, topic in enumerate(report.missing, 1)],
            "Every search found something that was opened.",
        ),
        (
            "Most searched",
            [
                f"`{bar(query.searches, most_searched)}` `{query.query}` · {query.searches}"
                for query in report.top_queries
            ],
            "No searches yet.",
        ),
        (
            "Episodes searches led to",
            [
                f"{shown(truncate_words(episode.title, 80))} · {episode.count} opened"
                for episode in report.opened
            ],
            "No episode opened from a search yet.",
        ),
        (
            "Trending suggestions (votes in the period)",
            [
                f"`{bar(trend.recent_votes, most_recent)}` {_suggestion_link(trend.suggestion)} · "
                f"+{trend.recent_votes} ({votes_text(trend.suggestion.votes)})"
                for trend in report.trending
            ],
            "No votes in the period.",
        ),
        (
            "Waiting longest, with support",
            [
                f"{_suggestion_link(waiting)} · {votes_text(waiting.votes)} · "
                f"since {discord.utils.format_dt(waiting.created_at, 'D')}"
                for waiting in report.waiting
            ],
            "No open suggestion has three votes yet.",
        ),
        (
            "Busiest episode discussions",
            [
                f"`{bar(thread.messages, busiest)}` <#{thread.thread_id}> "
                f"{shown(truncate_words(thread.title, 60))} · {thread.messages} messages"
                for thread in report.threads
            ],
            "No messages in episode threads in the period.",
        ),
    )
    footer = (
        "No one is named: searches are kept without who made them, for "
        f"{retention_days} days. Discussion counts are the messages the bot saw arrive in "
        "episode threads (their content is never read)."
    )
    # Six full fields would pass the embed's total: each gets its share of what is left.
    left = EMBED_TOTAL_LIMIT - len(embed.title or "") - len(embed.description or "") - len(footer)
    left -= sum(len(name) for name, _, _ in sections)
    for index, (name, lines, empty) in enumerate(sections):
        value = _fitted(lines, empty, min(EMBED_FIELD_VALUE_LIMIT, left // (len(sections) - index)))
        left -= len(value)
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text=footer)
    return embed
