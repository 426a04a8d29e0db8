"""Insights over a real SQLite database: recording in the background, retention, opt-out, the report."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from bot.community.insights import Insights, matching_suggestion
from bot.db import Database, EpisodeRepository
from bot.db.insights import InsightsRepository
from bot.db.suggestions import NewSuggestion, Suggestion, SuggestionRepository
from tests.community.conftest import Clock
from tests.conftest import make_episode

GUILD = 1
OTHER_GUILD = 2


@pytest.fixture
def insights(database: Database, clock: Clock) -> Insights:
    return Insights(
        InsightsRepository(database),
        SuggestionRepository(database),
        retention=timedelta(days=90),
        clock=clock,
    )


async def suggest(database: Database, clock: Clock, topic: str, author: int = 7) -> Suggestion:
    stored = await SuggestionRepository(database).add(
        NewSuggestion(GUILD, author, topic, None),
        now=clock(),
        at_most=100,
        since=clock() - timedelta(hours=1),
    )
    assert stored is not None
    return stored


async def test_searches_are_ranked_by_how_often_nothing_was_found_or_opened(
    insights: Insights, episodes: EpisodeRepository, clock: Clock
) -> None:
    await episodes.upsert_many([make_episode(1)], seen_at=clock())
    (episode,) = await episodes.all()
    for query in ["Quantum knitting", "quantum KNITTING", "zymurgy"]:
        insights.record_search(GUILD, query, 0)
    insights.record_search(GUILD, "a topic", 3).opened(episode.id)
    insights.record_search(GUILD, "a topic", 3)
    insights.record_search(OTHER_GUILD, "zymurgy", 0)
    report = await insights.report(GUILD, 7)
    assert [(topic.query, topic.searches, topic.not_found) for topic in report.missing] == [
        ("quantum knitting", 2, 2),
        ("zymurgy", 1, 1),  # found nothing: before a search whose results nobody opened
        ("a topic", 1, 0),
    ]
    assert [(query.query, query.searches) for query in report.top_queries] == [
        ("a topic", 2),
        ("quantum knitting", 2),
        ("zymurgy", 1),
    ]
    assert [(opened.title, opened.count) for opened in report.opened] == [(episode.title, 1)]
    assert report.searches == 5


async def test_an_episode_opened_twice_from_one_search_counts_once(
    insights: Insights, episodes: EpisodeRepository, clock: Clock
) -> None:
    await episodes.upsert_many([make_episode(1)], seen_at=clock())
    (episode,) = await episodes.all()
    recorded = insights.record_search(GUILD, "a topic", 2)
    recorded.opened(episode.id)
    recorded.opened(episode.id)
    report = await insights.report(GUILD, None)
    assert [opened.count for opened in report.opened] == [1]


async def test_a_failed_write_is_logged_and_never_reaches_the_search(
    insights: Insights, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    await database.connection.execute("DROP TABLE search_opens")
    await database.connection.execute("DROP TABLE searches")
    recorded = insights.record_search(GUILD, "quantum knitting", 0)  # returns at once, raises nothing
    recorded.opened(1)
    await insights.settle()
    assert "Recording a search for insights failed" in caplog.text
    with pytest.raises(sqlite3.OperationalError):
        await insights.report(GUILD, 7)


async def test_records_older_than_the_retention_time_are_deleted(insights: Insights, clock: Clock) -> None:
    insights.record_search(GUILD, "old news", 0)
    await insights.settle()
    clock.advance(timedelta(days=89))
    insights.record_search(GUILD, "recent", 0)
    await insights.settle()
    clock.advance(timedelta(days=2))
    assert await insights.delete_expired() == 1
    assert [topic.query for topic in (await insights.report(GUILD, None)).missing] == ["recent"]


async def test_turning_insights_off_deletes_the_servers_records_and_stops_recording(
    insights: Insights,
) -> None:
    insights.record_search(GUILD, "quantum knitting", 0)
    insights.record_search(OTHER_GUILD, "quantum knitting", 0)
    await insights.set_recording(GUILD, False)
    insights.record_search(GUILD, "zymurgy", 0)
    off = await insights.report(GUILD, None)
    other = await insights.report(OTHER_GUILD, None)
    await insights.set_recording(GUILD, True)
    insights.record_search(GUILD, "zymurgy", 0)
    on_again = await insights.report(GUILD, None)
    assert (off.recording, off.searches, off.missing) == (False, 0, [])
    assert other.searches == 1
    assert [topic.query for topic in on_again.missing] == ["zymurgy"]


async def test_suggestions_trend_by_votes_in_the_period_and_wait_with_support(
    insights: Insights, database: Database, clock: Clock
) -> None:
    repository = SuggestionRepository(database)
    old = await suggest(database, clock, "Causal inference in practice")
    for voter in (100, 101):
        await repository.add_vote(old.id, voter, now=clock())
    clock.advance(timedelta(days=20))
    new = await suggest(database, clock, "Interview with Yann LeCun", author=8)
    await repository.add_vote(new.id, 102, now=clock())
    report = await insights.report(GUILD, 7)
    assert [(trend.suggestion.number, trend.recent_votes) for trend in report.trending] == [(2, 2)]
    assert [waiting.number for waiting in report.waiting] == [1]


async def test_a_search_topic_is_linked_to_the_open_suggestion_that_asks_for_it(
    database: Database, clock: Clock
) -> None:
    causal = await suggest(database, clock, "Causal inference in practice")
    lecun = await suggest(database, clock, "An interview with Yann LeCun")
    assert matching_suggestion("causal inference", [causal, lecun]) == causal
    assert matching_suggestion("yann lecunn", [causal, lecun]) == lecun  # a typo
    assert matching_suggestion("causal", [causal, lecun]) == causal  # every word searched is in it
    assert matching_suggestion("quantum knitting", [causal, lecun]) is None
