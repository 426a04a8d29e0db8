"""New-episode announcements, end to end: the feed changes on a real HTTP server, the real bot polls
it and posts to the Discord emulator, and the tests read what a member of the server would see."""

from __future__ import annotations

from typing import Any

from bot.demo.feed_server import FeedServer
from discord_emulator import DiscordEmulator
from tests.e2e.conftest import FEED, Server, StartBot, add_server, configure
from tests.e2e.feeds import with_newest_item_changed, without_newest

EPISODE_89 = "The dark side of AI: social media and the optimization of addiction (Ep. 89)"
EPISODE_90 = "The dark side of AI: recommend and manipulate (Ep. 90)"


def titles(messages: list[dict[str, Any]]) -> list[str]:
    return [message["embeds"][0]["title"] for message in messages]


async def test_two_new_episodes_are_announced_once_oldest_first_with_only_the_role_pinged(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()  # first sync: 91 episodes, none of them news
        await configure(discord, server)
        feed_host.publish(FEED)
        outcome = await bot.services.announcer.poll()
        await bot.services.announcer.poll()  # nothing changed: nothing more
    assert outcome.queued == 2
    messages = discord.messages(server.episodes_channel)
    assert titles(messages) == [EPISODE_89, EPISODE_90]
    for message in messages:
        assert message["content"].startswith(f"<@&{server.ping_role.id}> New episode")
        assert message["mention_roles"] == [str(server.ping_role.id)]
        assert message["mentions"] == []
        assert message["mention_everyone"] is False
        listen = message["components"][0]["components"][0]
        assert listen["label"] == "Listen"
        assert listen["url"].startswith("https://datascienceathome.com/")
    assert discord.messages(server.guild.general) == []


async def test_first_run_on_the_whole_catalogue_announces_nothing(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    feed_host.publish(FEED)
    async with start_bot() as bot:
        await configure(discord, server)  # configured before the bot ever saw the feed
        outcome = await bot.services.announcer.poll()
    assert outcome.result is not None
    assert outcome.result.first_sync
    assert len(outcome.result.new) == 93
    assert discord.messages(server.episodes_channel) == []


async def test_a_restart_with_the_same_state_posts_nothing_new(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await bot.services.announcer.deliver_due()
    assert titles(discord.messages(server.episodes_channel)) == [EPISODE_89, EPISODE_90]


async def test_episodes_missed_while_down_are_caught_up_with_one_digest(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    feed_host.publish(without_newest(8))
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
    feed_host.publish(FEED)  # eight episodes came out while the bot was down
    async with start_bot() as bot:
        await bot.services.announcer.poll()
    messages = discord.messages(server.episodes_channel)
    assert len(messages) == 6
    digest, *announcements = messages
    assert digest["embeds"][0]["title"] == "3 more episodes were published while the bot was away"
    assert digest["embeds"][0]["description"].count("\n• ") == 2
    assert titles(announcements)[-2:] == [EPISODE_89, EPISODE_90]
    dates = [message["embeds"][0]["timestamp"] for message in announcements]
    assert dates == sorted(dates)


async def test_hostile_feed_text_pings_nobody_and_fits_discord_limits(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    title = (
        "@everyone **URGENT** <@123456789012345678> <@&" + str(server.ping_role.id) + "> @here " + "x" * 300
    )
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        feed_host.publish(with_newest_item_changed(title, "word " * 1000, feed=without_newest(1)))
        await bot.services.announcer.poll()
    (message,) = discord.messages(server.episodes_channel)
    assert message["mention_everyone"] is False
    assert message["mentions"] == []
    assert message["mention_roles"] == []
    embed = message["embeds"][0]
    assert len(embed["title"]) <= 256
    assert len(embed["description"]) <= 4096
    assert "\\*\\*URGENT\\*\\*" in message["content"]  # Markdown shown as typed, not rendered
    assert discord.api_errors() == []


async def test_a_custom_template_and_threads_shape_the_announcement(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        await discord.run_command(
            server.moderator,
            server.guild.general,
            "config template set",
            text="🎙️ #{number}: {title} ({duration}) {role}",
        )
        await discord.run_command(server.moderator, server.guild.general, "config threads", enabled=True)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
    messages = discord.messages(server.episodes_channel)
    assert messages[1]["content"] == f"🎙️ #90: {EPISODE_90} (21 min) <@&{server.ping_role.id}>"
    assert [thread.name for thread in discord.threads(server.episodes_channel)] == [EPISODE_89, EPISODE_90]


async def test_a_forum_channel_gets_one_post_per_episode(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    forum = discord.add_channel(server.guild, "episodes-forum", type="forum")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await discord.run_command(server.moderator, server.guild.general, "config channel set", channel=forum)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
    posts = discord.threads(forum)
    assert [post.name for post in posts] == [EPISODE_89, EPISODE_90]
    assert titles(discord.messages(posts[1])) == [EPISODE_90]


async def test_each_server_gets_its_own_announcements_only(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    other = add_server(discord, "Another community")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)
        await configure(discord, other, role=False)
        await discord.run_command(
            other.moderator, other.guild.general, "config template set", text="New: {title}"
        )
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
    (here,) = discord.messages(server.episodes_channel)
    (there,) = discord.messages(other.episodes_channel)
    assert here["content"].startswith(f"<@&{server.ping_role.id}> New episode")
    assert there["content"] == f"New: {EPISODE_89}"
    assert there["mention_roles"] == []


async def test_a_hundred_servers_each_get_exactly_one_announcement_per_episode(
    discord: DiscordEmulator, feed_host: FeedServer, start_bot: StartBot
) -> None:
    servers = [add_server(discord, f"Community {n}") for n in range(100)]
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        for each in servers:  # seeded directly: this test is about delivery, not the commands
            await bot.services.guilds.update(
                each.guild.id,
                now=bot.services.announcer.clock(),
                announce_channel_id=each.episodes_channel.id,
            )
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        await bot.services.announcer.poll()
    for each in servers:
        assert titles(discord.messages(each.episodes_channel)) == [EPISODE_89, EPISODE_90]


async def test_a_forum_catch_up_lists_every_missed_episode_in_a_post_of_its_own(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    forum = discord.add_channel(server.guild, "episodes-forum", type="forum")
    feed_host.publish(without_newest(7))
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await discord.run_command(server.moderator, server.guild.general, "config channel set", channel=forum)
        feed_host.publish(FEED)
        outcome = await bot.services.announcer.poll()
    assert outcome.result is not None
    posts = discord.threads(forum)
    assert posts[0].name == "2 more episodes were published while the bot was away"
    assert len(posts) == 6
    digest = discord.messages(posts[0])[0]["embeds"][0]["description"]
    for missed in outcome.result.new[:2]:
        assert missed.title[:40] in digest


async def test_announce_latest_tries_again_after_a_failure_and_never_posts_twice(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        feed_host.publish(without_newest(1))
    discord.delete_channel(server.episodes_channel)  # deleted while the bot was down
    fresh = discord.add_channel(server.guild, "episodes-v2")
    async with start_bot() as bot:
        await bot.services.announcer.poll()  # the new episode fails: its channel is gone
        moved = await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=fresh, announce_latest=True
        )
        again = await discord.run_command(server.moderator, server.guild.general, "config announce-latest")
    assert f"I announced the newest episode in <#{fresh.id}>" in moved.content
    assert "already announced" in again.content
    assert len(discord.messages(fresh)) == 1
