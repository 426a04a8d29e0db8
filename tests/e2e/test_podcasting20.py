"""Podcasting 2.0, end to end: what a feed's podcast: tags say shows on the card, transcripts become
moments a listener can search, and chapters go into discussion threads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import PodcastBot
from bot.demo.feed_server import FeedServer
from bot.demo.podcasting20 import (
    EPISODE_90_GUID,
    chapters_tag,
    transcript_tag,
    with_episode_90_documents,
    with_item_tags,
)
from bot.documents.fetching import MAX_ATTEMPTS
from discord_emulator import DiscordEmulator
from tests.e2e.conftest import FEED, Server, StartBot, configure

FIXTURES = Path(__file__).parents[1] / "fixtures" / "podcast_namespace"
EPISODE_90 = "The dark side of AI: recommend and manipulate (Ep. 90)"
EPISODE_59 = "Episode 59: How to fool a smart camera with deep learning"


@pytest.fixture(autouse=True)
def nothing_refused(discord: DiscordEmulator) -> Iterator[None]:
    """Discord refused nothing the bot sent."""
    yield
    assert discord.api_errors() == []


async def poll_and_fetch(bot: PodcastBot) -> None:
    """A poll, then the background job that fetches transcripts and chapters (run now, not in 5 min)."""
    await bot.services.announcer.poll()
    await bot.services.document_fetcher.refresh()


def later(bot: PodcastBot, by: timedelta) -> None:
    now = bot.services.document_fetcher.clock()
    bot.services.document_fetcher.clock = lambda: now + by


# ---- moments ----------------------------------------------------------------------------------------


async def test_a_listener_finds_the_moment_they_talk_about_something_with_a_link_that_starts_there(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    feed_host.publish(with_episode_90_documents(FEED, feed_host))
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        result = await discord.run_command(
            server.listener, server.guild.general, "episode moments", query="Heisenberg uncertainty"
        )
    assert result.ephemeral
    (moment,) = result.embed["fields"]
    assert moment["name"] == f"{EPISODE_90} · 00:03:13"
    assert "**Heisenberg**" in moment["value"]
    assert "**uncertainty**" in moment["value"]
    # The podcast's audio host serves the file itself: the browser's player starts at the moment.
    assert "[▶ Listen from 00:03:13](https://mcdn.podbean.com/" in moment["value"]
    assert moment["value"].endswith("#t=193)")


async def test_moments_work_where_the_bot_is_installed_to_the_listener_only(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    feed_host.publish(with_episode_90_documents(FEED, feed_host))
    elsewhere = discord.add_guild("Another community", bot_installed=False)
    visitor = discord.add_member(elsewhere, "visitor")
    discord.add_user_install(visitor)
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        result = await discord.run_command(visitor, elsewhere.general, "episode moments", query="flat earth")
    assert result.ephemeral
    assert result.embed["title"] == "Moments for “flat earth”"
    assert all(field["name"].startswith(EPISODE_90) for field in result.embed["fields"])


async def test_transcripts_stay_out_of_ordinary_search(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    """Words only a transcript has find the moment, and leave episode search as it was."""
    url = feed_host.host("/ep59.vtt", (FIXTURES / "transcript.vtt").read_bytes())
    feed_host.publish(with_item_tags(FEED, "dsh-ep-059", transcript_tag(url, "text/vtt")))
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        search = await discord.run_command(
            server.listener, server.guild.general, "episode search", query="Gillian Buzzsprout"
        )
        moments = await discord.run_command(
            server.listener, server.guild.general, "episode moments", query="Gillian Buzzsprout"
        )
    assert EPISODE_59 not in str(search.messages)
    assert moments.embed["fields"][0]["name"] == f"{EPISODE_59} · 00:00:00"


async def test_moments_without_any_transcript_say_so_in_one_line(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    feed_host.publish(FEED)
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        result = await discord.run_command(
            server.listener, server.guild.general, "episode moments", query="gan"
        )
    assert result.ephemeral
    assert result.content == (
        "No episode has a transcript yet, so there are no moments to search. "
        "Try /episode search to find episodes."
    )


@pytest.mark.parametrize(
    ("name", "mime_type", "query", "starts_at"),
    [
        ("transcript.srt", "application/x-subrip", "rookie mistakes", "00:00:00"),
        ("transcript.json", "application/json", "father", "00:00:00"),
        ("transcript.html", "text/html", "Joe Rogan", "00:03:39"),
    ],
)
async def test_moments_come_from_every_transcript_format_of_the_namespace(
    discord: DiscordEmulator,
    server: Server,
    feed_host: FeedServer,
    start_bot: StartBot,
    name: str,
    mime_type: str,
    query: str,
    starts_at: str,
) -> None:
    # Hosts often send every format as text/plain: the bot tells them apart by their content.
    url = feed_host.host(f"/ep59/{name}", (FIXTURES / name).read_bytes(), content_type="text/plain")
    feed_host.publish(with_item_tags(FEED, "dsh-ep-059", transcript_tag(url, mime_type)))
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        result = await discord.run_command(
            server.listener, server.guild.general, "episode moments", query=query
        )
    assert result.embed["fields"][0]["name"] == f"{EPISODE_59} · {starts_at}"


# ---- fetching ------------------------------------------------------------------------------------


async def test_a_missing_transcript_is_retried_with_back_off_and_its_error_kept(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    url = feed_host.url_of("/ep90/transcript.vtt")  # not hosted yet: 404
    feed_host.publish(with_item_tags(FEED, EPISODE_90_GUID, transcript_tag(url, "text/vtt")))
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        episode = await bot.services.episodes.by_guid(EPISODE_90_GUID)
        assert episode is not None
        (failed,) = await bot.services.documents.states(episode.id)
        await bot.services.document_fetcher.refresh()  # too early for the retry: no new request
        requests_before_retry = feed_host.stats.file_requests["/ep90/transcript.vtt"]
        feed_host.host("/ep90/transcript.vtt", (FIXTURES / "transcript.vtt").read_bytes())
        later(bot, timedelta(minutes=6))
        await bot.services.document_fetcher.refresh()
        (fetched,) = await bot.services.documents.states(episode.id)
        result = await discord.run_command(
            server.listener, server.guild.general, "episode moments", query="podcast trailer"
        )
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert failed.last_error == f"HTTP 404 from {url}"
    assert requests_before_retry == 1
    assert (fetched.status, fetched.last_error) == ("fetched", None)
    assert result.embed["fields"][0]["name"] == f"{EPISODE_90} · 00:00:00"


async def test_a_transcript_that_never_comes_is_given_up_with_its_reason(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    url = feed_host.url_of("/ep90/transcript.vtt")
    feed_host.publish(with_item_tags(FEED, EPISODE_90_GUID, transcript_tag(url, "text/vtt")))
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        for attempt in range(MAX_ATTEMPTS):
            later(bot, timedelta(days=attempt))
            await bot.services.document_fetcher.refresh()
        episode = await bot.services.episodes.by_guid(EPISODE_90_GUID)
        assert episode is not None
        (given_up,) = await bot.services.documents.states(episode.id)
        status = await discord.run_command(server.moderator, server.guild.general, "config status")
    assert (given_up.status, given_up.attempts) == ("failed", MAX_ATTEMPTS)
    assert feed_host.stats.file_requests["/ep90/transcript.vtt"] == MAX_ATTEMPTS
    feed = next(field["value"] for field in status.embed["fields"] if field["name"] == "Feed")
    assert "Transcripts and chapters: 0 fetched · 0 waiting · 1 given up" in feed.splitlines()
    assert f"⚠️ Not fetched: HTTP 404 from {url}" in feed.splitlines()


async def test_hostile_transcripts_are_refused_and_the_bot_carries_on(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    huge = feed_host.host("/huge.vtt", b"WEBVTT\n\n" + b"00:00:01.000 --> 00:00:02.000\nla\n\n" * 200_000)
    junk = feed_host.host("/junk.json", b"{" * 100_000)
    feed = with_item_tags(FEED, EPISODE_90_GUID, transcript_tag(huge, "text/vtt"))
    feed_host.publish(with_item_tags(feed, "dsh-ep-059", transcript_tag(junk, "application/json")))
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        errors = {
            guid: (await bot.services.documents.states(episode.id))[0].last_error
            for guid in (EPISODE_90_GUID, "dsh-ep-059")
            if (episode := await bot.services.episodes.by_guid(guid)) is not None
        }
        latest = await discord.run_command(server.listener, server.guild.general, "episode latest")
    assert errors == {EPISODE_90_GUID: "document larger than 5 MB", "dsh-ep-059": "not valid JSON"}
    assert latest.embed["title"] == EPISODE_90


async def test_a_transcript_is_fetched_again_only_when_its_url_changes(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    first = feed_host.host("/v1.vtt", (FIXTURES / "transcript.vtt").read_bytes())
    second = feed_host.host("/v2.srt", (FIXTURES / "transcript.srt").read_bytes())
    feed_host.publish(with_item_tags(FEED, EPISODE_90_GUID, transcript_tag(first, "text/vtt")))
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        await poll_and_fetch(bot)
        feed_host.publish(with_item_tags(FEED, EPISODE_90_GUID, transcript_tag(second, "application/srt")))
        await poll_and_fetch(bot)
        await poll_and_fetch(bot)
        old_words = await bot.services.moments.search("podcast trailer")
        new_words = await bot.services.moments.search("rookie mistakes")
    assert feed_host.stats.file_requests == {"/v1.vtt": 1, "/v2.srt": 1}
    assert old_words == []
    assert [moment.episode.title for moment in new_words] == [EPISODE_90]


# ---- chapters in discussion threads ----------------------------------------------------------------


async def test_chapters_arriving_after_the_announcement_thread_are_posted_there_once(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        await discord.run_command(server.moderator, server.guild.general, "config threads", enabled=True)
        feed_host.publish(with_episode_90_documents(FEED, feed_host))
        await bot.services.announcer.poll()  # announced with its thread; the chapters are not fetched yet
        thread = next(t for t in discord.threads(server.episodes_channel) if t.name == EPISODE_90)
        before_fetching = discord.messages(thread)
        await bot.services.document_fetcher.refresh()
        await poll_and_fetch(bot)
    assert before_fetching == []
    (chapters,) = discord.messages(thread)
    assert chapters["content"].splitlines() == [
        "**Chapters**",
        "`00:00:00` Russian accounts in the Black Lives Matter debate",
        "`00:02:17` How recommender systems work",
        "`00:04:13` Filter bubbles and escalating content",
        "`00:06:18` Polarisation of the whole conversation",
        "`00:07:28` Flat Earth, global warming and legitimacy",
        "`00:12:21` What can be done",
    ]


async def test_chapters_for_a_thread_moderators_locked_are_not_tried_again_and_again(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    """A locked thread takes messages only from members who may manage threads (topics/threads.mdx,
    "Locked Threads"; 160005 otherwise): moderators closed the discussion, which no retry changes."""
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        await discord.run_command(server.moderator, server.guild.general, "config threads", enabled=True)
        feed_host.publish(with_episode_90_documents(FEED, feed_host))
        await bot.services.announcer.poll()
        thread = next(t for t in discord.threads(server.episodes_channel) if t.name == EPISODE_90)
        discord.lock_thread(thread)
        await poll_and_fetch(bot)  # the chapters arrive: refused in the locked thread
        still_waiting = await bot.services.documents.threads_without_chapters()
    assert discord.messages(thread) == []
    assert still_waiting == []


async def test_a_discussion_opened_after_the_chapters_arrived_gets_them_at_once(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    feed_host.publish(with_episode_90_documents(FEED, feed_host))
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        opened = await discord.run_command(server.listener, server.guild.general, "discuss", n=90)
        await discord.run_command(server.listener, server.guild.general, "discuss", n=90)
        await poll_and_fetch(bot)
    assert "I opened a discussion thread" in opened.content
    (thread,) = discord.threads(server.guild.general)
    (chapters,) = discord.messages(thread)
    assert chapters["content"].startswith("**Chapters**\n`00:00:00` Russian accounts")
    assert chapters["mentions"] == []


async def test_a_long_chapter_list_is_split_within_discords_message_limit(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    entries = ",".join(f'{{"startTime": {60 * n}, "title": "Part {n}: {"x" * 80}"}}' for n in range(60))
    url = feed_host.host("/many.json", f'{{"version": "1.2.0", "chapters": [{entries}]}}'.encode())
    feed_host.publish(with_item_tags(FEED, EPISODE_90_GUID, chapters_tag(url)))
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        await discord.run_command(server.listener, server.guild.general, "discuss", n=90)
    (thread,) = discord.threads(server.guild.general)
    messages = [message["content"] for message in discord.messages(thread)]
    assert len(messages) == 4
    assert all(len(content) <= 2000 for content in messages)
    lines = [line for content in messages for line in content.splitlines()]
    assert lines[0] == "**Chapters**"
    assert lines[1].startswith("`00:00:00` Part 0: x")
    assert lines[-1].startswith("`00:59:00` Part 59: x")
    assert len(lines) == 61


async def test_chapters_whose_answer_was_lost_are_not_posted_twice(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    """Discord posts the chapters but its answer never arrives: the next try finds them there."""
    entries = ",".join(f'{{"startTime": {60 * n}, "title": "Part {n}: {"x" * 80}"}}' for n in range(30))
    url = feed_host.host("/many.json", f'{{"version": "1.2.0", "chapters": [{entries}]}}'.encode())
    feed_host.publish(with_item_tags(FEED, EPISODE_90_GUID, chapters_tag(url)))
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await discord.run_command(server.listener, server.guild.general, "discuss", n=90)
        (thread,) = discord.threads(server.guild.general)
        lost = discord.lose_response_next("POST", f"/channels/{thread.id}/messages")
        await bot.services.document_fetcher.refresh()
        await bot.services.chapter_poster.post_missing()
    assert lost.hits
    messages = [message["content"] for message in discord.messages(thread)]
    assert len(messages) == 2
    lines = [line for content in messages for line in content.splitlines()]
    assert lines[0] == "**Chapters**"
    assert len(lines) == 31


# ---- the card -------------------------------------------------------------------------------------


async def test_the_card_shows_season_guests_highlight_and_a_transcript_button(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    tags = (
        '<podcast:season name="Dark side">2</podcast:season>'
        '<podcast:person role="guest" href="https://example.org/marta">Marta Kowalczyk</podcast:person>'
        "<podcast:person>Francesco Gadaleta</podcast:person>"
        '<podcast:soundbite startTime="137.5" duration="30">Recommenders, explained</podcast:soundbite>'
        + transcript_tag("https://datascienceathome.com/ep90.vtt", "text/vtt")
        + transcript_tag("https://datascienceathome.com/ep90-transcript.html", "text/html")
    )
    feed_host.publish(with_item_tags(FEED, EPISODE_90_GUID, tags))
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        card = await discord.run_command(server.listener, server.guild.general, "episode number", n=90)
        by_guest = await discord.run_command(
            server.listener, server.guild.general, "episode search", query="Marta Kowalczyk"
        )
    fields = {field["name"]: field["value"] for field in card.embed["fields"]}
    assert fields["Episode"] == "Season 2 (Dark side) · Episode 90"
    assert fields["Guests"] == "Marta Kowalczyk"  # the host is not a guest
    assert fields["Highlight"].startswith("[Listen from 00:02:17](https://mcdn.podbean.com/")
    assert fields["Highlight"].endswith(".mp3#t=137): Recommenders, explained")
    # The page written for people, rather than the captions file.
    assert card.component(label="Transcript")["url"] == "https://datascienceathome.com/ep90-transcript.html"
    assert card.component(label="Listen")["url"].startswith("https://datascienceathome.com/")
    assert by_guest.embed["title"] == EPISODE_90


async def test_the_podcasting20_example_feed_reads_as_its_tags_say(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    feed_host.publish((FIXTURES / "example.xml").read_bytes())
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        card = await discord.run_command(server.listener, server.guild.general, "episode number", n=3)
    fields = {field["name"]: field["value"] for field in card.embed["fields"]}
    assert card.embed["title"] == "Episode 3 - The Future"
    assert fields["Episode"] == "Season 1 (Podcasting 2.0) · Episode 3"
    assert fields["Guests"] == "Dave Jones"
    assert fields["Highlight"].startswith("Listen from 00:00:33")
    assert card.component(label="Transcript")["url"] == "https://example.com/ep3/transcript.txt"


async def test_a_feed_without_the_tags_gives_the_card_of_today(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    feed_host.publish(FEED)
    async with start_bot() as bot:
        await poll_and_fetch(bot)
        card = await discord.run_command(server.listener, server.guild.general, "episode number", n=90)
    assert [field["name"] for field in card.embed["fields"]] == ["Episode", "Duration", "Published"]
    assert card.embed["fields"][0]["value"] == "#90"
    assert [button.get("label") for row in card.components for button in row["components"]] == [
        "Listen",
        "Share in channel",
    ]
    assert feed_host.stats.file_requests == {}
