"""Announcements on Discord as it really is (the emulator's defaults follow Discord's documentation):
rate limits discord.py gives up on, Cloudflare's ban, forgotten nonces, forums that require tags,
AutoMod, outages. Every episode arrives once, in order; a moderator learns what stops it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import PodcastBot
from bot.demo.feed_server import FeedServer
from discord_emulator import DiscordEmulator, Permission
from tests.e2e.conftest import FEED, Server, StartBot, configure, later
from tests.e2e.feeds import without_newest


def titles(discord: DiscordEmulator, server: Server) -> list[str]:
    return [message["embeds"][0]["title"] for message in discord.messages(server.episodes_channel)]


def field(result_embed: dict[str, object], name: str) -> str:
    fields = result_embed["fields"]
    assert isinstance(fields, list)
    value: str = next(f["value"] for f in fields if f["name"] == name)
    return value


async def test_five_429s_in_a_row_are_retried_later_and_the_next_episode_waits_behind(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    # developers/topics/rate-limits.mdx: discord.py tries five times, then raises the 429.
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        feed_host.publish(FEED)
        discord.fail_next(
            "POST", f"/channels/{server.episodes_channel.id}/messages", count=5, retry_after=0.05
        )
        await bot.services.announcer.poll()  # episode 89 gives up for now; 90 must not overtake it
        assert discord.messages(server.episodes_channel) == []
        await later(discord, bot, timedelta(minutes=1))
        await bot.services.announcer.deliver_due()
    assert [title.rsplit("(", 1)[1] for title in titles(discord, server)] == ["Ep. 89)", "Ep. 90)"]


async def test_a_cloudflare_ban_stops_every_request_for_a_while_then_delivery_resumes(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    # rate-limits.mdx "Invalid Request Limit": a ban's 429 comes from Cloudflare, without Via.
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        feed_host.publish(without_newest(1))
        posts = f"/channels/{server.episodes_channel.id}/messages"
        discord.fail_next("POST", posts, status=429, cloudflare=True)
        await bot.services.announcer.poll()
        await later(discord, bot, timedelta(minutes=10))
        await bot.services.announcer.deliver_due()
        requests_during_the_ban = len(discord.requests_to("POST", posts))
        await later(discord, bot, timedelta(minutes=25))
        await bot.services.announcer.deliver_due()
    assert requests_during_the_ban == 1
    assert len(discord.messages(server.episodes_channel)) == 1


@pytest.mark.parametrize("kind", ["text", "announcement", "forum"])
async def test_a_lost_answer_found_after_the_nonce_window_is_not_posted_again(
    kind: str, discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    channel = discord.add_channel(server.guild, f"{kind}-episodes", type=kind)  # type: ignore[arg-type]
    path = f"/channels/{channel.id}/{'threads' if kind == 'forum' else 'messages'}"
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=channel
        )
        feed_host.publish(without_newest(1))
        lost = discord.lose_response_next("POST", path)  # Discord stores it; the bot never hears
        await bot.services.announcer.poll()
        await later(discord, bot, timedelta(minutes=30))  # Discord forgot the nonce long ago
        await bot.services.announcer.deliver_due()
        summary = await bot.services.outbox.summary(server.guild.id)
    assert lost.hits
    posted = discord.threads(channel) if kind == "forum" else discord.messages(channel)
    assert len(posted) == 1
    assert (summary.sent, summary.pending) == (1, 0)


async def test_a_forum_that_requires_a_tag_gets_one_that_fits(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    forum = discord.add_channel(
        server.guild, "episodes", type="forum", tags=["Chat", "New episodes"], require_tag=True
    )
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=forum
        )
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
    assert "each post tagged New episodes" in result.content
    (post,) = discord.threads(forum)
    tag = next(tag for tag in forum.available_tags if tag["name"] == "New episodes")
    assert post.applied_tags == [int(tag["id"])]


async def test_a_forum_that_requires_a_tag_none_fits_asks_for_one(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    forum = discord.add_channel(
        server.guild, "talk", type="forum", tags=["Chat", "Off-topic"], require_tag=True
    )
    async with start_bot() as bot:
        refused = await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=forum
        )
        choices = await discord.autocomplete(
            server.moderator, server.guild.general, "config channel set", "tag", channel=forum, tag="ch"
        )
        chosen = await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=forum, tag="Chat"
        )
        settings = await bot.services.guilds.get(server.guild.id)
    assert refused.content.startswith(f"{forum.mention} requires a tag on each post")
    assert "Chat, Off-topic" in refused.content
    assert [choice["name"] for choice in choices] == ["Chat"]
    assert "each post tagged Chat" in chosen.content
    assert settings.forum_tag_id is not None


async def test_a_forum_that_starts_requiring_tags_pauses_with_the_reason(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    forum = discord.add_channel(server.guild, "episodes", type="forum", tags=["Chat"])
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await discord.run_command(server.moderator, server.guild.general, "config channel set", channel=forum)
        forum.flags |= 1 << 4  # REQUIRE_TAG, set by a moderator afterwards
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
        paused = await bot.services.guilds.get(server.guild.id)
        await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=forum, tag="Chat"
        )
    assert paused.paused_kind == "tag"
    assert paused.paused_reason is not None
    assert "requires a tag" in paused.paused_reason
    assert len(discord.threads(forum)) == 1


async def test_automod_blocking_the_announcement_pauses_until_a_moderator_resumes(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    # resources/auto-moderation.mdx; opcodes-and-status-codes.mdx 200000
    rule = discord.add_automod_rule(server.guild, ["manipulate"])
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()  # episode 89 goes out, 90 ("...manipulate") is blocked
        status = await discord.run_command(server.moderator, server.guild.general, "config status")
        rule.exempt_roles.add(server.guild.bot_role.id)  # the moderator exempts the bot
        resumed = await discord.run_command(server.moderator, server.guild.general, "config resume")
    assert "AutoMod blocked the announcement" in field(status.embed, "Announcements")
    assert resumed.content.startswith("Announcements resumed")
    assert [title.rsplit("(", 1)[1] for title in titles(discord, server)] == ["Ep. 89)", "Ep. 90)"]


async def test_the_link_filter_blocking_the_announcement_pauses_with_the_reason(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    discord.block_links("podbean.com", "datascienceathome.com")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
        settings = await bot.services.guilds.get(server.guild.id)
    assert settings.paused_kind == "automod"
    assert settings.paused_reason is not None
    assert "link filter" in settings.paused_reason
    assert discord.messages(server.episodes_channel) == []


async def test_a_server_in_an_outage_keeps_its_settings_and_gets_its_announcement_after(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        await discord.outage(server.guild, rest_status=404)  # Discord answers "Unknown Channel"
        feed_host.publish(without_newest(1))
        await bot.services.announcer.poll()
        during = await bot.services.guilds.get(server.guild.id)
        await discord.end_outage(server.guild)
        await later(discord, bot, timedelta(minutes=10))
        await bot.services.announcer.deliver_due()
        after = await bot.services.guilds.get(server.guild.id)
    assert during.announce_channel_id == server.episodes_channel.id
    assert during.paused_reason is None
    assert after.announce_channel_id == server.episodes_channel.id
    assert len(discord.messages(server.episodes_channel)) == 1


async def test_broken_servers_are_not_retried_in_a_loop(
    discord: DiscordEmulator, feed_host: FeedServer, start_bot: StartBot
) -> None:
    # rate-limits.mdx: 401, 403 and 429 answers count towards 10,000 per 10 minutes, then a ban.
    servers = []
    for n in range(6):
        guild = discord.add_guild(f"Broken {n}")
        servers.append((guild, discord.add_channel(guild, "new-episodes")))
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        for guild, channel in servers:
            await bot.services.guilds.update(
                guild.id, now=bot.services.announcer.clock(), announce_channel_id=channel.id
            )
        for _, channel in servers[:3]:  # the bot loses Send Messages in three of them
            discord.set_bot_channel_permissions(channel, deny=Permission.SEND_MESSAGES)
        discord.add_automod_rule(servers[3][0], ["recommend"])
        await discord.flush_gateway()
        feed_host.publish(without_newest(1))
        for _ in range(30):
            await bot.services.announcer.poll(force=True)
            await later(discord, bot, timedelta(minutes=20))
    # The emulator's count covers the last 10 minutes; over the whole run, from what it answered:
    invalid = [request for request in discord.requests if request.status in (401, 403, 429)]
    assert len(invalid) == 3  # one refusal per server without permission, no more
    for _, channel in servers[:4]:
        assert len(discord.requests_to("POST", f"/channels/{channel.id}/messages")) <= 1
    assert all(len(discord.messages(channel)) == 1 for _, channel in servers[4:])


async def test_moderators_hear_of_each_incident_once_and_of_its_end(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    alerts = discord.add_channel(server.guild, "mod-alerts")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        await discord.run_command(
            server.moderator, server.guild.general, "config alerts channel", channel=alerts
        )
        feed_host.fail_next(503, count=50)
        for _ in range(8):  # the feed fails for hours
            await later(discord, bot, timedelta(minutes=30))
            await bot.services.announcer.poll(force=True)
        feed_host.publish(without_newest(1))
        await later(discord, bot, timedelta(minutes=30))
        discord.set_bot_channel_permissions(server.episodes_channel, deny=Permission.SEND_MESSAGES)
        await discord.flush_gateway()
        await _recover_feed(bot, feed_host)
        for _ in range(3):
            await bot.services.announcer.deliver_due()
        status = await discord.run_command(server.moderator, server.guild.general, "config status")
        discord.set_bot_channel_permissions(server.episodes_channel)
        await discord.flush_gateway()
        await discord.wait_for(lambda: discord.messages(server.episodes_channel))
    assert "Announcements are paused. The bot lacks Send Messages" in field(status.embed, "Open incidents")
    texts = [message["content"] for message in discord.messages(alerts)]
    assert len(texts) == 4, texts
    assert texts[0].startswith("⚠️ The podcast feed has been failing since")
    assert texts[1] == "✅ The podcast feed works again."
    assert texts[2].startswith("⚠️ Announcements are paused. The bot lacks Send Messages")
    assert texts[3] == "✅ Announcements are flowing again."


async def _recover_feed(bot: PodcastBot, feed_host: FeedServer) -> None:
    feed_host.clear_failures()
    await bot.services.announcer.poll(force=True)


async def test_read_message_history_is_required_to_announce(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    discord.set_bot_channel_permissions(server.episodes_channel, deny=Permission.READ_MESSAGE_HISTORY)
    async with start_bot():
        refused = await discord.run_command(
            server.moderator, server.guild.general, "config channel set", channel=server.episodes_channel
        )
    assert "Read Message History" in refused.content
