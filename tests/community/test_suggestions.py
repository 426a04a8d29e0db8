"""The suggestion service against a real database: submitting, the rate limit, votes, the top list,
moderation and telling the voters when the episode that covers a suggestion is announced."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.community.suggestions import RateLimited, SuggestionError, SuggestionService
from bot.db import Database, EpisodeRepository
from bot.db.announcements import AnnouncementRepository, PlannedAnnouncement
from bot.db.guilds import GuildSettingsRepository
from bot.db.suggestions import Suggestion
from bot.models import StoredEpisode
from tests.community.conftest import START, Clock
from tests.conftest import make_episode
from tests.search.conftest import catalogue_episodes

GUILD, OTHER_GUILD = 1001, 1002
AUTHOR, FAN, SECOND_FAN = 11, 12, 13
CHANNEL, THREAD, MESSAGE, CARD_CHANNEL, CARD = 2001, 2002, 2003, 2004, 2005


async def submit(
    service: SuggestionService, topic: str, *, guild: int = GUILD, author: int = AUTHOR
) -> Suggestion:
    return await service.submit(service.draft(guild, author, topic, None))


async def publish(episodes: EpisodeRepository, number: int) -> StoredEpisode:
    result = await episodes.upsert_many([make_episode(number)], seen_at=START)
    return result.new[0]


async def announce(
    guilds: GuildSettingsRepository,
    outbox: AnnouncementRepository,
    episode: StoredEpisode,
    *,
    thread_id: int | None,
    sent: bool = True,
) -> None:
    await guilds.update(GUILD, now=START, announce_channel_id=CHANNEL)
    await outbox.enqueue([PlannedAnnouncement(GUILD, CHANNEL, episode.id, "full")], now=START)
    if sent:
        (announcement,) = await outbox.due(START)
        await outbox.mark_sent([announcement.id], message_id=MESSAGE, thread_id=thread_id, now=START)


@pytest.fixture
def guilds(database: Database) -> GuildSettingsRepository:
    return GuildSettingsRepository(database)


async def test_a_suggestion_counts_as_its_authors_vote_and_is_numbered_per_server(
    service: SuggestionService,
) -> None:
    first = await submit(service, "Causal inference")
    second = await submit(service, "Bayesian optimisation")
    elsewhere = await submit(service, "Causal inference", guild=OTHER_GUILD)
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    assert first.votes == 1
    assert first.status == "open"
    assert (await service.get(GUILD, 1)).topic == "Causal inference"


async def test_a_member_votes_once_and_can_take_the_vote_back(service: SuggestionService) -> None:
    await submit(service, "Causal inference")
    first = await service.vote(GUILD, 1, FAN)
    again = await service.vote(GUILD, 1, FAN)
    by_author = await service.vote(GUILD, 1, AUTHOR)
    removed = await service.unvote(GUILD, 1, FAN)
    removed_again = await service.unvote(GUILD, 1, FAN)
    assert (first.changed, first.suggestion.votes) == (True, 2)
    assert (again.changed, again.suggestion.votes) == (False, 2)
    assert not by_author.changed
    assert (removed.changed, removed.suggestion.votes) == (True, 1)
    assert not removed_again.changed
    with pytest.raises(SuggestionError, match="no suggestion #1"):
        await service.vote(OTHER_GUILD, 1, FAN)  # another server's #1 does not exist


async def test_done_and_declined_suggestions_take_no_votes(service: SuggestionService) -> None:
    await submit(service, "Causal inference")
    await submit(service, "Bayesian optimisation")
    await service.mark(GUILD, 1, "declined", reason="Covered elsewhere")
    await service.mark(GUILD, 2, "planned")
    with pytest.raises(SuggestionError, match="closed: it is declined"):
        await service.vote(GUILD, 1, FAN)
    assert (await service.vote(GUILD, 2, FAN)).suggestion.votes == 2


async def test_the_fourth_suggestion_in_an_hour_is_refused_until_the_oldest_ages_out(
    service: SuggestionService, clock: Clock
) -> None:
    await submit(service, "Causal inference")
    clock.advance(timedelta(minutes=10))
    await submit(service, "Bayesian optimisation")
    await submit(service, "Federated learning")
    draft = service.draft(GUILD, AUTHOR, "Tabular foundation models", None)
    with pytest.raises(RateLimited) as refused:
        await service.review(draft)
    assert refused.value.retry_at == START + timedelta(hours=1)
    with pytest.raises(RateLimited):
        await service.submit(draft)  # submitting anyway is limited too
    clock.advance(timedelta(minutes=50, seconds=1))
    assert (await service.submit(draft)).number == 4


async def test_the_rate_limit_is_per_member_and_per_server(service: SuggestionService) -> None:
    for topic in ("Causal inference", "Bayesian optimisation", "Federated learning"):
        await submit(service, topic)
    assert (await submit(service, "Tabular foundation models", author=FAN)).number == 4
    assert (await submit(service, "Tabular foundation models", guild=OTHER_GUILD)).number == 1


async def test_review_shows_similar_open_suggestions_of_the_same_server_only(
    service: SuggestionService,
) -> None:
    await submit(service, "Interview with Yann LeCun")
    await submit(service, "Yann LeCun on world models")
    await submit(service, "Yann LeCun interview", author=FAN)
    await service.mark(GUILD, 3, "declined")
    await submit(service, "Interview with Yann LeCun", guild=OTHER_GUILD)
    review = await service.review(service.draft(GUILD, SECOND_FAN, "yann lecunn interview!", None))
    assert [match.suggestion.number for match in review.similar] == [1]
    assert review.similar[0].suggestion.guild_id == GUILD
    fresh = await service.review(service.draft(GUILD, SECOND_FAN, "Tabular foundation models", None))
    assert fresh.clear


async def test_review_names_the_episodes_that_already_cover_the_topic(
    service: SuggestionService, episodes: EpisodeRepository
) -> None:
    await episodes.upsert_many(catalogue_episodes(), seen_at=START)
    covered = await service.review(service.draft(GUILD, AUTHOR, "Attacking deep learning models", None))
    guest = await service.review(service.draft(GUILD, AUTHOR, "Sebastian Raschka interview", None))
    broad = await service.review(service.draft(GUILD, AUTHOR, "Deep learning", None))
    assert [match.episode.number for match in covered.episodes] == [35]  # its rebroadcast is folded in
    assert [(match.episode.number, match.guest) for match in guest.episodes] == [(7, "Sebastian Raschka")]
    assert broad.clear


async def test_top_ranks_open_suggestions_by_votes_within_the_period(
    service: SuggestionService, clock: Clock
) -> None:
    old = await submit(service, "Causal inference")
    for voter in range(20, 25):
        await service.vote(GUILD, old.number, voter)
    clock.advance(timedelta(days=10))
    await submit(service, "Bayesian optimisation", author=FAN)
    await submit(service, "Federated learning", author=FAN)
    await submit(service, "Tabular foundation models", author=FAN)
    await service.vote(GUILD, 3, AUTHOR)
    await service.mark(GUILD, 4, "declined")
    assert [s.number for s in await service.top(GUILD, "week")] == [3, 2]
    assert [s.number for s in await service.top(GUILD, "month")] == [1, 3, 2]
    assert [s.number for s in await service.top(GUILD, "all", limit=1)] == [1]
    assert await service.top(OTHER_GUILD) == []
    assert [s.number for s in await service.mine(GUILD, FAN)] == [4, 3, 2]


async def test_drafts_are_tidied_and_checked(service: SuggestionService) -> None:
    draft = service.draft(GUILD, AUTHOR, "  Causal\n  inference  ", "  \n ")
    assert (draft.topic, draft.details) == ("Causal inference", None)
    with pytest.raises(SuggestionError, match="5 to 150 characters; yours has 3"):
        service.draft(GUILD, AUTHOR, "  abc   ", None)
    with pytest.raises(SuggestionError, match="at most 1000"):
        service.draft(GUILD, AUTHOR, "Causal inference", "x" * 1001)


@pytest.mark.parametrize(
    "topic",
    [
        "\u200b\u200b\u200b\u200b\u200b\u200b",
        "\u2800\u2800\u2800\u2800\u2800",
        "\x07\x1b\u202e\u2066\ufeff\u00ad x",
    ],
)
async def test_a_topic_of_invisible_characters_is_refused(service: SuggestionService, topic: str) -> None:
    # U+2800 (the braille blank) is a symbol that shows as nothing, like the zero-width space
    with pytest.raises(SuggestionError, match=r"needs words|characters; yours has"):
        service.draft(GUILD, AUTHOR, topic, None)


async def test_invisible_characters_are_taken_out_of_what_people_type(service: SuggestionService) -> None:
    draft = service.draft(GUILD, AUTHOR, "Causal\u200b inference\u202e", "Judea\u00ad Pearl\n\u200b")

    assert (draft.topic, draft.details) == ("Causal inference", "Judea Pearl")


async def test_only_a_done_suggestion_links_an_episode(service: SuggestionService) -> None:
    await submit(service, "Causal inference")
    with pytest.raises(SuggestionError, match="Only a done suggestion"):
        await service.mark(GUILD, 1, "planned", episode_number=90)
    with pytest.raises(SuggestionError, match="no suggestion #2"):
        await service.mark(GUILD, 2, "done")
    assert (await service.get(GUILD, 1)).status == "open"


async def test_voters_of_a_suggestion_linked_to_a_future_episode_are_told_once_when_it_is_announced(
    service: SuggestionService,
    episodes: EpisodeRepository,
    guilds: GuildSettingsRepository,
    outbox: AnnouncementRepository,
) -> None:
    await submit(service, "Causal inference")
    await submit(service, "Causal inference for marketing", author=FAN)
    await service.vote(GUILD, 1, SECOND_FAN)
    await service.vote(GUILD, 2, SECOND_FAN)
    await service.vote(GUILD, 2, AUTHOR)
    first = await service.mark(GUILD, 1, "done", episode_number=90)
    await service.mark(GUILD, 2, "done", episode_number=90)
    assert first.waiting_for_announcement
    assert first.notification is None
    episode = await publish(episodes, 90)
    await announce(guilds, outbox, episode, thread_id=THREAD)
    announcement = await outbox.for_episode(GUILD, episode.id)
    assert announcement is not None
    notification = await service.on_announced(announcement, episode)
    assert notification is not None
    assert (notification.channel_id, notification.reply_to) == (THREAD, None)
    assert [s.number for s in notification.suggestions] == [1, 2]
    assert notification.user_ids == (AUTHOR, FAN, SECOND_FAN)
    await service.notified(notification)
    assert await service.on_announced(announcement, episode) is None


async def test_marking_done_with_an_announced_episode_notifies_at_once_as_a_reply_without_threads(
    service: SuggestionService,
    episodes: EpisodeRepository,
    guilds: GuildSettingsRepository,
    outbox: AnnouncementRepository,
) -> None:
    episode = await publish(episodes, 89)
    await announce(guilds, outbox, episode, thread_id=None)
    await submit(service, "Social media and addiction")
    await service.vote(GUILD, 1, FAN)
    outcome = await service.mark(GUILD, 1, "done", episode_number=89)
    assert outcome.episode == episode
    assert not outcome.waiting_for_announcement
    assert outcome.notification is not None
    assert (outcome.notification.channel_id, outcome.notification.reply_to) == (CHANNEL, MESSAGE)
    assert outcome.notification.user_ids == (AUTHOR, FAN)


async def test_an_announcement_still_pending_is_waited_for(
    service: SuggestionService,
    episodes: EpisodeRepository,
    guilds: GuildSettingsRepository,
    outbox: AnnouncementRepository,
) -> None:
    episode = await publish(episodes, 89)
    await announce(guilds, outbox, episode, thread_id=None, sent=False)
    await submit(service, "Social media and addiction")
    outcome = await service.mark(GUILD, 1, "done", episode_number=89)
    assert outcome.waiting_for_announcement
    assert outcome.notification is None


async def test_an_episode_out_before_announcements_is_answered_on_the_card(
    service: SuggestionService, episodes: EpisodeRepository
) -> None:
    await publish(episodes, 12)
    carded = await submit(service, "EU regulations and data hijackers")
    await service.attach_card(carded, channel_id=CARD_CHANNEL, message_id=CARD)
    await submit(service, "Data hijackers", author=FAN)
    on_card = await service.mark(GUILD, 1, "done", episode_number=12)
    private = await service.mark(GUILD, 2, "done", episode_number=12)
    assert on_card.notification is not None
    assert (on_card.notification.channel_id, on_card.notification.reply_to) == (CARD_CHANNEL, CARD)
    assert private.notification is None
    assert not private.waiting_for_announcement
    assert private.episode is not None


async def test_linking_another_episode_tells_the_voters_again_but_remarking_does_not(
    service: SuggestionService,
    episodes: EpisodeRepository,
    guilds: GuildSettingsRepository,
    outbox: AnnouncementRepository,
) -> None:
    episode = await publish(episodes, 89)
    await announce(guilds, outbox, episode, thread_id=THREAD)
    await submit(service, "Social media and addiction")
    outcome = await service.mark(GUILD, 1, "done", episode_number=89)
    assert outcome.notification is not None
    await service.notified(outcome.notification)
    again = await service.mark(GUILD, 1, "done", reason="Typo fixed", episode_number=89)
    assert again.notification is None
    assert not again.waiting_for_announcement
    relinked = await service.mark(GUILD, 1, "done", episode_number=95)
    assert relinked.waiting_for_announcement
    assert relinked.suggestion.notified_at is None


async def test_two_deletions_at_once_report_each_suggestion_once(service: SuggestionService) -> None:
    """/privacy delete confirmed twice (two clicks, two devices): what each says it deleted, and so
    the cards it takes down, are what it deleted itself."""
    await submit(service, "Causal inference")
    await submit(service, "Bayesian optimisation")
    first, second = await asyncio.gather(
        service.forget_member(GUILD, AUTHOR), service.forget_member(GUILD, AUTHOR)
    )
    reported = [suggestion.number for suggestion in first[0] + second[0]]
    assert sorted(reported) == [1, 2]
