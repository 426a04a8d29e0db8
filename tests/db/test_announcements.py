from datetime import UTC, datetime, timedelta

import pytest

from bot.db import Database, EpisodeRepository
from bot.db.announcements import AnnouncementRepository, PlannedAnnouncement
from bot.db.guilds import GuildSettingsRepository
from tests.conftest import make_episode

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
GUILD = 1001
CHANNEL = 2001


@pytest.fixture
def outbox(database: Database) -> AnnouncementRepository:
    return AnnouncementRepository(database)


@pytest.fixture
def guilds(database: Database) -> GuildSettingsRepository:
    return GuildSettingsRepository(database)


async def _two_episodes(episodes: EpisodeRepository) -> list[int]:
    result = await episodes.upsert_many([make_episode(1), make_episode(2)], seen_at=NOW)
    return [episode.id for episode in result.new]


async def _queue_two(
    outbox: AnnouncementRepository, guilds: GuildSettingsRepository, episodes: EpisodeRepository
) -> list[int]:
    """A configured server with two episodes queued for it; returns the episode ids, oldest first."""
    await guilds.update(GUILD, now=NOW, announce_channel_id=CHANNEL)
    ids = await _two_episodes(episodes)
    planned = [PlannedAnnouncement(GUILD, CHANNEL, episode_id, "full") for episode_id in ids]
    await outbox.enqueue(planned, now=NOW)
    return ids


async def test_the_same_server_and_episode_is_queued_once(
    outbox: AnnouncementRepository, guilds: GuildSettingsRepository, episodes: EpisodeRepository
) -> None:
    await guilds.update(GUILD, now=NOW, announce_channel_id=CHANNEL)
    first, _ = await _two_episodes(episodes)
    planned = [PlannedAnnouncement(GUILD, CHANNEL, first, "full")]
    assert await outbox.enqueue(planned, now=NOW) == 1
    assert await outbox.enqueue(planned, now=NOW) == 0
    assert len(await outbox.due(NOW)) == 1


async def test_due_keeps_each_server_in_order_behind_a_retry_and_skips_paused_servers(
    outbox: AnnouncementRepository, guilds: GuildSettingsRepository, episodes: EpisodeRepository
) -> None:
    first, second = await _queue_two(outbox, guilds, episodes)
    due = await outbox.due(NOW)
    await outbox.mark_retry([due[0].id], error="HTTP 500", next_attempt_at=NOW + timedelta(minutes=1))
    assert await outbox.due(NOW) == []  # the second waits behind the first's retry
    assert [a.episode_id for a in await outbox.due(NOW + timedelta(minutes=2))] == [first, second]
    await guilds.pause(GUILD, "missing permissions", kind="permissions", now=NOW)
    assert await outbox.due(NOW + timedelta(minutes=2)) == []
    await guilds.resume(GUILD)
    assert len(await outbox.due(NOW + timedelta(minutes=2))) == 2


async def test_giving_up_marks_failed_and_the_summary_counts_it(
    outbox: AnnouncementRepository, guilds: GuildSettingsRepository, episodes: EpisodeRepository
) -> None:
    await _queue_two(outbox, guilds, episodes)
    due = await outbox.due(NOW)
    await outbox.mark_sent([due[0].id], message_id=5, thread_id=None, now=NOW)
    await outbox.mark_retry([due[1].id], error="HTTP 503: gave up", next_attempt_at=None)
    summary = await outbox.summary(GUILD)
    assert (summary.pending, summary.sent, summary.failed) == (0, 1, 1)
    assert summary.recent_failures[0].last_error == "HTTP 503: gave up"


async def test_settings_are_isolated_per_server(guilds: GuildSettingsRepository) -> None:
    await guilds.update(1, now=NOW, announce_channel_id=11, template="{title}")
    await guilds.update(2, now=NOW, announce_channel_id=22)
    assert (await guilds.get(1)).template == "{title}"
    assert (await guilds.get(2)).template is None
    assert [g.guild_id for g in await guilds.announcing()] == [1, 2]


async def test_unknown_setting_is_refused(guilds: GuildSettingsRepository) -> None:
    with pytest.raises(ValueError, match="cannot set"):
        await guilds.update(1, now=NOW, paused_reason="x")


async def test_deleted_channel_is_forgotten_with_a_reason(guilds: GuildSettingsRepository) -> None:
    await guilds.update(GUILD, now=NOW, announce_channel_id=CHANNEL)
    assert not await guilds.channel_deleted(GUILD, 999, now=NOW)
    assert await guilds.channel_deleted(GUILD, CHANNEL, now=NOW)
    settings = await guilds.get(GUILD)
    assert settings.announce_channel_id is None
    assert settings.paused_reason is not None
    assert "deleted" in settings.paused_reason
    assert await guilds.announcing() == []


async def test_setting_a_new_channel_lifts_a_pause(guilds: GuildSettingsRepository) -> None:
    await guilds.update(GUILD, now=NOW, announce_channel_id=CHANNEL)
    await guilds.pause(GUILD, "The bot lacks Send Messages", kind="permissions", now=NOW)
    settings = await guilds.update(GUILD, now=NOW, announce_channel_id=CHANNEL + 1)
    assert settings.paused_reason is None


async def test_a_server_the_bot_left_is_not_announced_to(guilds: GuildSettingsRepository) -> None:
    await guilds.update(GUILD, now=NOW, announce_channel_id=CHANNEL)
    await guilds.left(GUILD, now=NOW)
    assert await guilds.announcing() == []
    await guilds.rejoined(GUILD)
    assert [g.guild_id for g in await guilds.announcing()] == [GUILD]
