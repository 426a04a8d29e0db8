"""The /insights embed within Discord's limits, however much a busy server recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.community.insights import InsightsReport, MissingTopic, TrendingSuggestion
from bot.db.insights import EpisodeCount, QueryCount, ThreadCount
from bot.db.suggestions import Suggestion
from bot.ui.cards import EMBED_FIELD_VALUE_LIMIT
from bot.ui.insights import insights_embed
from tests.ui.test_cards import embed_text_length

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
GUILD = 123456789012345678


def suggestion(number: int) -> Suggestion:
    return Suggestion(
        id=number,
        guild_id=GUILD,
        number=1000 + number,
        author_id=1,
        topic=f"An episode on retrieval augmented generation in production, part {number}",
        details=None,
        status="open",
        status_reason=None,
        episode_number=None,
        channel_id=223456789012345678,
        message_id=323456789012345678 + number,
        votes=150,
        created_at=NOW,
        updated_at=NOW,
        notified_at=None,
    )


def test_a_full_report_stays_within_discords_embed_total() -> None:
    query = "federated learning on mobile phones"
    long_query = f"{query} and edge devices without sending raw data to a server"
    episode = "Why large language models hallucinate, and what retrieval can do about it, part two"
    thread = "Federated learning on phones: privacy without the cloud, with a guest"
    report = InsightsReport(
        guild_id=GUILD,
        days=30,
        since=NOW,
        recording=True,
        searches_per_day={NOW.date(): 500},
        missing=[MissingTopic(f"{query} {rank}", 1400, 1200, suggestion(rank)) for rank in range(10)],
        top_queries=[QueryCount(f"{long_query} {rank}", 1500, 1200) for rank in range(10)],
        opened=[EpisodeCount(rank, episode, 1300) for rank in range(10)],
        trending=[TrendingSuggestion(suggestion(rank), 120) for rank in range(5)],
        waiting=[suggestion(rank) for rank in range(5)],
        threads=[ThreadCount(423456789012345678 + rank, rank, thread, 12000) for rank in range(10)],
    )

    embed = insights_embed(report, today=date(2026, 3, 1), retention_days=90)

    assert all(len(field.value or "") <= EMBED_FIELD_VALUE_LIMIT for field in embed.fields)
    assert embed_text_length(embed) <= 6000
