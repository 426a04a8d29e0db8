from datetime import UTC, datetime

from bot.db import FeedRepository

URL = "https://example.com/feed.xml"
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


async def test_failures_count_up_and_a_success_resets_them(feeds: FeedRepository) -> None:
    feed = await feeds.get_or_create(URL)
    await feeds.record_failure(feed.id, checked_at=NOW, error="HTTP 500")
    state = await feeds.record_failure(feed.id, checked_at=NOW, error="timed out after 30 s")
    assert state.consecutive_failures == 2
    assert state.last_error == "timed out after 30 s"
    await feeds.record_success(
        feed.id,
        checked_at=NOW,
        title="Show",
        etag='"v1"',
        last_modified=None,
        body_hash="abc",
        settled_episode_id=None,
    )
    state = await feeds.get(URL)
    assert state is not None
    assert state.consecutive_failures == 0
    assert state.etag == '"v1"'
    assert state.last_success_at == NOW
    assert state.last_error == "timed out after 30 s"  # kept for moderators to read


async def test_get_or_create_returns_the_same_row(feeds: FeedRepository) -> None:
    first = await feeds.get_or_create(URL)
    second = await feeds.get_or_create(URL)
    assert first.id == second.id
