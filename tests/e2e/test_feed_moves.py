"""Feeds move (a new host, a new address): the bot follows a permanent redirect or the feed's
itunes:new-feed-url, keeps every episode's identity, announces only what is new, and tells the
moderators in /config status.

Apple's podcast spec: "<itunes:new-feed-url> ... Use this tag when you move your feed" and a 301
redirect on the old URL; RFC 9110 §15.4: 301 and 308 are permanent, 302 and 307 temporary.
"""

from __future__ import annotations

import pytest

from bot.demo.feed_server import FeedServer
from discord_emulator import DiscordEmulator
from tests.e2e.conftest import FEED, FEED_PREVIOUS, Server, StartBot, configure
from tests.e2e.feeds import moved_to, rehosted
from tests.e2e.test_announcements import EPISODE_89, EPISODE_90, titles


@pytest.mark.parametrize("status", [301, 308])
async def test_a_permanent_redirect_moves_the_feed_and_nothing_is_announced_twice(
    status: int, discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with FeedServer(FEED) as new_host, start_bot() as bot:
        await bot.services.announcer.poll()  # the catalogue, at the old address
        await configure(discord, server)
        feed_host.move_to(new_host.url, status=status)
        outcome = await bot.services.announcer.poll()
        assert outcome.queued == 2
        assert await bot.services.podcast.feed_url() == new_host.url
        await bot.services.announcer.poll()
        assert feed_host.stats.redirects == 1  # the next poll went straight to the new address
        assert new_host.stats.conditional_requests == 1
        status_reply = await discord.run_command(server.moderator, server.guild.general, "config status")
    assert titles(discord.messages(server.episodes_channel)) == [EPISODE_89, EPISODE_90]
    feed_field = next(f["value"] for f in status_reply.embed["fields"] if f["name"] == "Feed")
    assert f"URL: {new_host.url}" in feed_field
    assert f"Moved from {feed_host.url}" in feed_field
    assert "a permanent redirect" in feed_field


@pytest.mark.parametrize("status", [302, 307])
async def test_a_temporary_redirect_is_followed_but_the_feed_stays_where_it_was(
    status: int, discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with FeedServer(FEED) as elsewhere, start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        feed_host.move_to(elsewhere.url, status=status)
        outcome = await bot.services.announcer.poll()
        assert outcome.queued == 2
        assert await bot.services.podcast.feed_url() == feed_host.url
    assert titles(discord.messages(server.episodes_channel)) == [EPISODE_89, EPISODE_90]


async def test_a_feed_naming_its_new_address_moves_to_a_host_with_new_guids_and_nothing_is_lost(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    # The new host gives every episode a new guid and audio URL; the episode pages stay the same.
    async with FeedServer(rehosted(FEED_PREVIOUS)) as new_host, start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        feed_host.publish(moved_to(new_host.url, FEED_PREVIOUS))
        moving = await bot.services.announcer.poll()  # the old feed says where it went
        assert moving.queued == 0
        arriving = await bot.services.announcer.poll()  # the new host: the same 91 episodes
        assert arriving.result is not None
        assert arriving.result.new == ()
        assert arriving.queued == 0
        new_host.publish(rehosted(FEED))
        fresh = await bot.services.announcer.poll()
        assert fresh.queued == 2
        assert await bot.services.episodes.count() == 93  # the same episodes, under their new guids
    assert titles(discord.messages(server.episodes_channel)) == [EPISODE_89, EPISODE_90]


async def test_a_named_new_address_that_does_not_answer_yet_strands_no_one(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    """A typo in itunes:new-feed-url, or a new host not set up yet: the bot keeps polling the old
    address (and announcing from it) and moves once the new one answers with a feed."""
    async with FeedServer(rehosted(FEED)) as new_host, start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        new_host.fail_next(404, count=2)
        feed_host.publish(moved_to(new_host.url, FEED_PREVIOUS))
        not_yet = await bot.services.announcer.poll()
        assert not_yet.error is None
        assert await bot.services.podcast.feed_url() == feed_host.url
        feed_host.publish(moved_to(new_host.url, FEED))  # the old address still gets new episodes
        from_the_old_address = await bot.services.announcer.poll()
        assert from_the_old_address.queued == 2
        assert await bot.services.podcast.feed_url() == feed_host.url
        await bot.services.announcer.poll()  # the old feed unchanged; the new address answers now
        assert await bot.services.podcast.feed_url() == new_host.url
        arrived = await bot.services.announcer.poll()
    assert arrived.result is not None
    assert arrived.result.new == ()  # the same episodes, under the new host's guids
    assert titles(discord.messages(server.episodes_channel)) == [EPISODE_89, EPISODE_90]


async def test_after_a_restart_the_bot_polls_where_the_feed_moved(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with FeedServer(FEED_PREVIOUS) as new_host:
        async with start_bot() as bot:
            await bot.services.announcer.poll()
            await configure(discord, server)
            feed_host.move_to(new_host.url)
            await bot.services.announcer.poll()
        new_host.publish(FEED)
        async with start_bot() as bot:
            outcome = await bot.services.announcer.poll()
    assert outcome.queued == 2
    assert feed_host.stats.redirects == 1
    assert titles(discord.messages(server.episodes_channel)) == [EPISODE_89, EPISODE_90]


async def test_feeds_pointing_at_each_other_do_not_send_the_bot_in_circles(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with FeedServer(moved_to(feed_host.url, FEED_PREVIOUS)) as other, start_bot() as bot:
        feed_host.publish(moved_to(other.url, FEED_PREVIOUS))
        for _ in range(4):
            outcome = await bot.services.announcer.poll()
            assert outcome.error is None
        assert await bot.services.podcast.feed_url() in (feed_host.url, other.url)
