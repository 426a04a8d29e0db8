"""Announcements when Discord says no: rate limits, outages, missing permissions, deleted channels.
Nothing is lost, nothing is doubled, and moderators can see why."""

from __future__ import annotations

from datetime import timedelta

from bot.announce.announcer import DELIVERY_RETRY_HORIZON
from bot.app import PodcastBot
from bot.demo.feed_server import FeedServer
from discord_emulator import DiscordEmulator, Permission
from tests.e2e.conftest import FEED, Server, StartBot, configure, later
from tests.e2e.feeds import with_newest_item_changed, without_newest


def messages_path(server: Server) -> str:
    return f"/channels/{server.episodes_channel.id}/messages"


async def publish_one(
    bot: PodcastBot, discord: DiscordEmulator, server: Server, feed_host: FeedServer
) -> None:
    await bot.services.announcer.poll()
    await configure(discord, server, role=False)
    feed_host.publish(without_newest(1))


async def test_a_rate_limit_is_waited_out_and_the_message_posted_once(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
        discord.fail_next("POST", messages_path(server), status=429, retry_after=0.3)
        await bot.services.announcer.poll()
    assert len(discord.messages(server.episodes_channel)) == 1
    assert len(discord.requests_to("POST", messages_path(server))) == 2


async def test_an_outage_is_retried_later_and_the_announcement_arrives(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
        discord.fail_next("POST", messages_path(server), status=503)
        await bot.services.announcer.poll()
        assert discord.messages(server.episodes_channel) == []
        summary = await bot.services.outbox.summary(server.guild.id)
        assert summary.pending == 1
        await bot.services.announcer.deliver_due()  # not due yet: waits for its back-off
        assert discord.messages(server.episodes_channel) == []
        await later(discord, bot, timedelta(minutes=1))
        await bot.services.announcer.deliver_due()
    assert len(discord.messages(server.episodes_channel)) == 1


async def test_an_outage_of_a_day_loses_nothing(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
        outage = discord.fail_next("POST", messages_path(server), status=503, count=24)
        await bot.services.announcer.poll()
        for _ in range(24):  # Discord answers 503 for a day; the bot keeps trying, backing off
            await later(discord, bot, timedelta(hours=1))
            await bot.services.announcer.deliver_due()
        summary = await bot.services.outbox.summary(server.guild.id)
    assert outage.exhausted
    assert len(discord.messages(server.episodes_channel)) == 1
    assert (summary.sent, summary.pending, summary.failed) == (1, 0, 0)


async def test_after_a_week_of_failures_the_bot_gives_up_and_says_why(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
        discord.fail_next("POST", messages_path(server), status=503, count=1000)
        await bot.services.announcer.poll()
        for _ in range(DELIVERY_RETRY_HORIZON.days * 2 + 1):
            await later(discord, bot, timedelta(hours=12))
            await bot.services.announcer.deliver_due()
        status = await discord.run_command(server.moderator, server.guild.general, "config status")
    assert discord.messages(server.episodes_channel) == []
    announcements = next(f["value"] for f in status.embed["fields"] if f["name"] == "Announcements")
    assert "Failed: 1" in announcements
    assert "Discord kept failing for 7 days" in announcements
    assert "HTTP 503" in announcements


async def test_missing_permission_pauses_with_a_reason_and_resumes_once_fixed(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
        discord.set_bot_channel_permissions(server.episodes_channel, deny=Permission.SEND_MESSAGES)
        await discord.flush_gateway()
        await bot.services.announcer.poll()
        status = await discord.run_command(server.moderator, server.guild.general, "config status")
        announcements = next(f["value"] for f in status.embed["fields"] if f["name"] == "Announcements")
        assert "Paused: The bot lacks Send Messages" in announcements
        assert discord.messages(server.episodes_channel) == []

        discord.set_bot_channel_permissions(server.episodes_channel)  # a moderator fixes it
        await discord.flush_gateway()
        await discord.wait_for(lambda: discord.messages(server.episodes_channel), timeout=5)
        settings = await bot.services.guilds.get(server.guild.id)
    assert settings.paused_reason is None
    assert len(discord.messages(server.episodes_channel)) == 1


async def test_a_deleted_channel_is_forgotten_and_not_tried_every_poll(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
        discord.delete_channel(server.episodes_channel)
        await discord.flush_gateway()
        await bot.services.announcer.poll()
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        settings = await bot.services.guilds.get(server.guild.id)
    assert settings.announce_channel_id is None
    assert settings.paused_reason is not None
    assert "deleted" in settings.paused_reason
    assert discord.requests_to("POST", messages_path(server)) == []


async def test_a_channel_deleted_while_the_bot_was_down_is_noticed_on_the_first_send(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
    discord.delete_channel(server.episodes_channel)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await bot.services.announcer.poll()
        settings = await bot.services.guilds.get(server.guild.id)
        summary = await bot.services.outbox.summary(server.guild.id)
    assert settings.announce_channel_id is None
    assert summary.failed == 1
    assert summary.pending == 0


async def test_removed_from_a_server_the_bot_stops_announcing_there(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
        discord.remove_guild(server.guild)
        await discord.flush_gateway()
        await bot.services.announcer.poll()
        settings = await bot.services.guilds.get(server.guild.id)
    assert settings.left_at is not None
    assert discord.requests_to("POST", messages_path(server)) == []


async def test_a_failing_feed_backs_off_then_recovers_by_itself(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:  # polls every 600 s
        await bot.services.announcer.poll()
        feed_host.fail_next(503, count=2)
        first = await bot.services.announcer.poll()  # failure 1: next attempt in 600 s
        at_once = await bot.services.announcer.poll()
        await later(discord, bot, timedelta(seconds=580))  # the next tick, a little early (jitter): it polls
        second = await bot.services.announcer.poll()  # failure 2: next attempt in 1,200 s
        await later(discord, bot, timedelta(seconds=600))  # (later moves the clocks on from where they are)
        one_interval_later = await bot.services.announcer.poll()  # still backing off: no request
        requests_while_backing_off = feed_host.stats.requests
        await later(discord, bot, timedelta(seconds=590))
        recovered = await bot.services.announcer.poll()
        state = await bot.services.feeds.get(feed_host.url)
    assert first.error is not None
    assert "503" in first.error
    assert not at_once.checked
    assert second.checked
    assert second.error is not None
    assert not one_interval_later.checked
    assert requests_while_backing_off == 3
    assert recovered.error is None
    assert state is not None
    assert state.consecutive_failures == 0


async def test_an_edited_episode_is_updated_and_not_announced_again(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()  # episodes 89 and 90 announced
        feed_host.publish(
            with_newest_item_changed("The dark side of AI, part 2 (Ep. 90)", "Fixed show notes.")
        )
        outcome = await bot.services.announcer.poll()
        edited = await bot.services.episodes.by_guid("dsh-ep-090")
    assert outcome.result is not None
    assert [episode.guid for episode in outcome.result.updated] == ["dsh-ep-090"]
    assert len(discord.messages(server.episodes_channel)) == 2
    assert edited is not None
    assert edited.title == "The dark side of AI, part 2 (Ep. 90)"
    assert edited.description == "Fixed show notes."


async def test_a_retry_keeps_the_server_s_announcements_in_order(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        feed_host.publish(FEED)
        discord.fail_next("POST", messages_path(server), status=503)
        await bot.services.announcer.poll()  # episode 89 fails and waits for its retry...
        await bot.services.announcer.deliver_due()  # ...and episode 90 waits behind it
        assert discord.messages(server.episodes_channel) == []
        await later(discord, bot, timedelta(minutes=1))
        await bot.services.announcer.deliver_due()
    titles = [message["embeds"][0]["title"] for message in discord.messages(server.episodes_channel)]
    assert [title.rsplit("(", 1)[1] for title in titles] == ["Ep. 89)", "Ep. 90)"]


async def test_moving_announcements_to_another_channel_takes_the_queued_ones_along(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    better = discord.add_channel(server.guild, "episodes")
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
        discord.set_bot_channel_permissions(server.episodes_channel, deny=Permission.SEND_MESSAGES)
        await discord.flush_gateway()
        await bot.services.announcer.poll()  # refused: paused
        await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=better
        )
        await bot.services.announcer.deliver_due()
    assert discord.messages(server.episodes_channel) == []
    assert len(discord.messages(better)) == 1


async def test_turning_announcements_off_drops_what_was_queued(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
        discord.fail_next("POST", messages_path(server), status=503)
        await bot.services.announcer.poll()
        await discord.run_command(server.moderator, server.guild.general, "config channel clear")
        await later(discord, bot, timedelta(minutes=5))
        await bot.services.announcer.deliver_due()
        await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=server.episodes_channel
        )
        await bot.services.announcer.deliver_due()
        summary = await bot.services.outbox.summary(server.guild.id)
    assert discord.messages(server.episodes_channel) == []
    assert (summary.pending, summary.failed) == (0, 1)


async def test_a_thread_opened_before_the_bot_heard_back_is_still_recorded(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await publish_one(bot, discord, server, feed_host)
        await discord.run_command(server.moderator, server.guild.general, "config threads", enabled=True)
        lost = discord.lose_response_next(
            "POST", f"/channels/{server.episodes_channel.id}/messages/*/threads"
        )
        await bot.services.announcer.poll()
        await later(discord, bot, timedelta(minutes=1))
        await bot.services.announcer.deliver_due()
        episode = (await bot.services.episodes.latest())[0]
        announcement = await bot.services.outbox.for_episode(server.guild.id, episode.id)
    assert lost.hits
    assert len(discord.messages(server.episodes_channel)) == 1
    (thread,) = discord.threads(server.episodes_channel)
    assert announcement is not None
    assert announcement.status == "sent"
    assert announcement.thread_id == thread.id


async def test_a_corrected_episode_s_posted_card_follows_the_feed(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    other = discord.add_guild("Another server")
    forum_server = discord.add_member(other, "moderator", permissions=Permission.MANAGE_GUILD)
    other_forum = discord.add_channel(other, "episode-posts", type="forum")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        await discord.run_command(forum_server, other.general, "config channel set", channel=other_forum)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        (post,) = [thread for thread in discord.threads(other_forum) if "Ep. 90" in thread.name]
        feed_host.publish(
            with_newest_item_changed("The dark side of AI, part 2 (Ep. 90)", "Fixed show notes.")
        )
        await bot.services.announcer.poll()
    newest = discord.messages(server.episodes_channel)[-1]
    assert newest["embeds"][0]["title"] == "The dark side of AI, part 2 (Ep. 90)"
    assert newest["embeds"][0]["description"] == "Fixed show notes."
    assert len(discord.messages(server.episodes_channel)) == 2
    assert discord.message(post.id)["embeds"][0]["title"] == "The dark side of AI, part 2 (Ep. 90)"


async def test_a_correction_discord_refuses_to_edit_keeps_the_old_card(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    forum = discord.add_channel(server.guild, "episode-posts", type="forum")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await discord.run_command(server.moderator, server.guild.general, "config channel set", channel=forum)
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
        (post,) = discord.threads(forum)
        discord.archive_thread(post)  # developers/topics/threads.mdx: no edits in archived threads
        await discord.flush_gateway()
        feed_host.publish(with_newest_item_changed("Renamed (Ep. 89)", "New notes.", feed=without_newest(1)))
        outcome = await bot.services.announcer.poll()
    assert outcome.error is None
    assert discord.message(post.id)["embeds"][0]["title"] != "Renamed (Ep. 89)"
    assert [error.code for error in discord.api_errors()] == [50083]
