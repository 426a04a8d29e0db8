"""Announcements in an announcement channel reach the servers that follow it (resources/message.mdx,
"Crosspost Message"; resources/channel.mdx, "Follow Announcement Channel"): each once, readable there
(no buttons, no role of ours), without ever holding up an announcement."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.app import PodcastBot
from bot.demo.feed_server import FeedServer
from discord_emulator import Channel, DiscordEmulator, Permission
from tests.e2e.conftest import FEED, Server, StartBot, later
from tests.e2e.feeds import without_newest

CROSSPOSTED = 1 << 0  # resources/message.mdx, Message Flags


@pytest.fixture
def news(discord: DiscordEmulator, server: Server) -> Channel:
    return discord.add_channel(server.guild, "episodes", type="announcement")


@pytest.fixture
def follower(discord: DiscordEmulator, news: Channel) -> Channel:
    """A channel in another server that follows the podcast's announcement channel."""
    other = discord.add_guild("A listeners' club")
    target = discord.add_channel(other, "podcast-news")
    discord.follow_channel(news, target)
    return target


async def set_up(discord: DiscordEmulator, server: Server, news: Channel, *, role: bool = True) -> str:
    general = server.guild.general
    result = await discord.run_command(server.moderator, general, "config channel set", channel=news)
    if role:
        await discord.run_command(server.moderator, general, "config role set", role=server.ping_role)
    return result.content


async def test_followers_get_each_announcement_once_readable_in_their_server(
    discord: DiscordEmulator,
    server: Server,
    news: Channel,
    follower: Channel,
    feed_host: FeedServer,
    start_bot: StartBot,
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        reply = await set_up(discord, server, news)
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
        await bot.services.publisher.publish_due()
    assert "published to the servers that follow it" in reply
    card, ping = discord.messages(news)
    (copy,) = discord.messages(follower)
    assert copy["embeds"] == card["embeds"]
    assert copy["components"] == []  # followers get no buttons...
    listen = next(field for field in copy["embeds"][0]["fields"] if field["name"] == "Listen")
    assert listen["value"].startswith("[🎧 Listen to the episode](https://")  # ...so the link is in the card
    assert "<@&" not in copy["content"]  # our role would be an unknown role there
    assert ping["content"] == server.ping_role.mention  # our server is still pinged
    assert ping["mention_roles"] == [str(server.ping_role.id)]
    assert discord.messages(follower) == [copy]


async def test_a_publish_whose_answer_was_lost_is_not_published_twice(
    discord: DiscordEmulator,
    server: Server,
    news: Channel,
    follower: Channel,
    feed_host: FeedServer,
    start_bot: StartBot,
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await set_up(discord, server, news, role=False)
        lost = discord.lose_response_next("POST", f"/channels/{news.id}/messages/*/crosspost")
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
        await bot.services.publisher.publish_due()  # Discord published; the bot never heard
        await later_by_minutes(discord, bot, 5)
        await bot.services.publisher.publish_due()  # "already crossposted": done
        summary = await bot.services.outbox.summary(server.guild.id)
    assert lost.hits
    assert len(discord.messages(follower)) == 1
    assert (summary.published, summary.to_publish) == (1, 0)


async def test_a_publish_waiting_out_a_long_rate_limit_holds_up_no_announcement(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        news = discord.add_channel(server.guild, "episodes", type="announcement")
        await set_up(discord, server, news, role=False)
        # Discord answers the next publish with a rate limit that outlasts discord.py's patience.
        discord.fail_next("POST", f"/channels/{news.id}/messages/*/crosspost", count=5, retry_after=0.05)
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
        await bot.services.publisher.publish_due()
        feed_host.publish(FEED)
        await bot.services.announcer.poll()  # the next episode is announced all the same
        waiting = await bot.services.outbox.summary(server.guild.id)
        await later_by_minutes(discord, bot, 10)
        await bot.services.publisher.publish_due()
        done = await bot.services.outbox.summary(server.guild.id)
    assert len(discord.messages(news)) == 2
    assert waiting.to_publish >= 1
    assert (done.published, done.to_publish) == (2, 0)


async def test_a_long_wait_in_one_channel_holds_up_neither_announcements_nor_other_channels(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    news = discord.add_channel(server.guild, "episodes", type="announcement")
    other_server = discord.add_guild("Another podcast community")
    other_news = discord.add_channel(other_server, "episodes", type="announcement")
    moderator = discord.add_member(other_server, "mod", permissions=Permission.MANAGE_GUILD)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await set_up(discord, server, news, role=False)
        await discord.run_command(moderator, other_server.general, "config channel set", channel=other_news)
        # The first channel's publish is told to wait an hour, which discord.py does, in its task.
        discord.fail_next("POST", f"/channels/{news.id}/messages/*/crosspost", retry_after=3600)
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
        await discord.wait_for(lambda: discord.messages(other_news)[0]["flags"] & CROSSPOSTED, timeout=5)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        waiting = await bot.services.outbox.summary(server.guild.id)
    assert len(discord.messages(news)) == 2  # announcements went on
    assert len(discord.messages(other_news)) == 2
    assert waiting.published == 0


async def test_a_moderators_test_and_a_server_that_opts_out_are_not_published(
    discord: DiscordEmulator,
    server: Server,
    news: Channel,
    follower: Channel,
    feed_host: FeedServer,
    start_bot: StartBot,
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await set_up(discord, server, news, role=False)
        await discord.run_command(server.moderator, server.guild.general, "config announce-latest")
        await bot.services.publisher.publish_due()
        tested = list(discord.messages(follower))
        await discord.run_command(server.moderator, server.guild.general, "config publish", enabled=False)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        await bot.services.publisher.publish_due()
    assert tested == []
    assert len(discord.messages(news)) == 3  # the test, then the two new episodes
    assert discord.messages(follower) == []


async def test_a_catch_up_digest_is_published(
    discord: DiscordEmulator,
    server: Server,
    news: Channel,
    follower: Channel,
    feed_host: FeedServer,
    start_bot: StartBot,
) -> None:
    async with start_bot() as bot:
        feed_host.publish(without_newest(8))
        await bot.services.announcer.poll()
        await set_up(discord, server, news, role=False)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()  # eight new: a digest of three, then five on their own
        await bot.services.publisher.publish_due()
    titles = [message["embeds"][0]["title"] for message in discord.messages(follower)]
    assert len(titles) == 6
    assert titles[0] == "3 more episodes were published while the bot was away"


async def later_by_minutes(discord: DiscordEmulator, bot: PodcastBot, minutes: int) -> None:
    await later(discord, bot, timedelta(minutes=minutes))


async def test_status_says_when_the_channel_cannot_be_followed(
    discord: DiscordEmulator, server: Server, news: Channel, start_bot: StartBot
) -> None:
    general = server.guild.general
    async with start_bot():
        await discord.run_command(server.moderator, general, "config channel set", channel=general)
        in_text_channel = await discord.run_command(server.moderator, general, "config status")
        await discord.run_command(server.moderator, general, "config channel set", channel=news)
        in_news_channel = await discord.run_command(server.moderator, general, "config status")
    assert _publishing_line(in_text_channel.embed) == (
        "Publishing to followers: on (only an announcement channel can be followed; this one is not)"
    )
    assert _publishing_line(in_news_channel.embed) == "Publishing to followers: on"
    feed = next(field["value"] for field in in_news_channel.embed["fields"] if field["name"] == "Feed")
    assert "Transcripts" not in feed  # a feed that links no transcript or chapters: nothing to say


def _publishing_line(status: dict[str, Any]) -> str:
    settings = next(field["value"] for field in status["fields"] if field["name"] == "Settings")
    return next(line for line in settings.splitlines() if line.startswith("Publishing"))


async def test_an_announcement_whose_channel_was_deleted_is_not_published_for_days(
    discord: DiscordEmulator, server: Server, news: Channel, feed_host: FeedServer, start_bot: StartBot
) -> None:
    """A deleted channel answers 10003 (topics/opcodes-and-status-codes.mdx, "Unknown channel") to
    every later request: no retry brings it back."""
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await set_up(discord, server, news, role=False)
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
        discord.delete_channel(news)
        await bot.services.publisher.publish_due()
        summary = await bot.services.outbox.summary(server.guild.id)
    assert summary.to_publish == 0
    assert [error.code for error in discord.api_errors()] == [10003]
