"""Publishing (crossposting) and Channel Following (developers/resources/message.mdx "Crosspost Message",
resources/channel.mdx "Follow Announcement Channel"): followers get a copy, once, without buttons."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest

from discord_emulator import DiscordEmulator, Permission
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import MiniBot
from tests.discord_emulator.test_ratelimits import call

pytestmark = pytest.mark.timeout(15)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class _Link(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.add_item(discord.ui.Button(label="Listen", url="https://example.com/ep/1"))


async def test_a_published_message_reaches_followers_flagged_without_buttons(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    news = emulator.add_channel(server.guild, "news", type="announcement")
    role = emulator.add_role(server.guild, "New Episodes", mentionable=True)
    other = emulator.add_guild("Another server")
    target = emulator.add_channel(other, "followed")
    emulator.follow_channel(news, target)
    await emulator.flush_gateway()
    channel = bot.get_channel(news.id)
    assert isinstance(channel, discord.TextChannel)

    message = await channel.send(
        f"{role.mention} New episode",
        embed=discord.Embed(title="Ep. 1", url="https://example.com/ep/1"),
        view=_Link(),
    )
    await message.publish()

    (copy,) = emulator.messages(target)
    assert copy["flags"] & 2  # IS_CROSSPOST
    assert copy["components"] == []
    assert copy["embeds"][0]["title"] == "Ep. 1"
    assert copy["mention_roles"] == []
    assert copy["message_reference"] == {
        "type": 0,
        "channel_id": str(news.id),
        "guild_id": str(server.guild.id),
        "message_id": str(message.id),
    }
    assert copy["author"]["username"] == "Data Science at Home #news"
    assert emulator.message(message.id)["flags"] & 1  # CROSSPOSTED


async def test_a_message_is_published_once(emulator: DiscordEmulator, server: Server, bot: MiniBot) -> None:
    news = emulator.add_channel(server.guild, "news", type="announcement")
    target = emulator.add_channel(emulator.add_guild("Another server"), "followed")
    emulator.follow_channel(news, target)
    await emulator.flush_gateway()
    channel = bot.get_channel(news.id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("once")
    await message.publish()

    with pytest.raises(discord.HTTPException) as again:
        await message.publish()

    assert again.value.code == 40033
    assert len(emulator.messages(target)) == 1


async def test_only_an_announcement_channel_publishes(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    channel = bot.get_channel(server.guild.general.id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("not news")

    with pytest.raises(discord.HTTPException) as refused:
        await message.publish()

    assert refused.value.code == 50024


async def test_publishing_someone_elses_message_needs_send_and_manage_messages(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    # resources/message.mdx, "Crosspost Message": "SEND_MESSAGES permission, if the current user sent
    # the message, or additionally the MANAGE_MESSAGES permission, for all other messages".
    news = emulator.add_channel(server.guild, "news", type="announcement")
    emulator.set_channel_permissions(news, server.alice, allow=Permission.SEND_MESSAGES)
    theirs = emulator.post_message(server.alice, news, "from alice")
    path = f"/channels/{news.id}/messages/{theirs['id']}/crosspost"

    manage = Permission.MANAGE_MESSAGES
    emulator.set_bot_channel_permissions(news, allow=manage, deny=Permission.SEND_MESSAGES)
    manage_only, _ = await call(http, emulator, "POST", path)
    emulator.set_bot_channel_permissions(news, deny=Permission.SEND_MESSAGES)
    send_only_denied, _ = await call(http, emulator, "POST", path)
    emulator.set_bot_channel_permissions(news)
    send_only, _ = await call(http, emulator, "POST", path)
    emulator.set_bot_channel_permissions(news, allow=manage)
    both, _ = await call(http, emulator, "POST", path)

    statuses = [manage_only.status, send_only_denied.status, send_only.status, both.status]
    assert statuses == [403, 403, 403, 200]
    assert emulator.message(theirs)["flags"] & 1  # CROSSPOSTED


async def test_an_eleventh_publish_within_the_hour_is_rate_limited(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    # Undocumented: users report about 10 an hour per channel (synzen/MonitoRSS#184).
    news = emulator.add_channel(server.guild, "news", type="announcement")
    statuses = []
    for n in range(11):
        _, sent = await call(
            http, emulator, "POST", f"/channels/{news.id}/messages", json={"content": str(n)}
        )
        published, _ = await call(
            http, emulator, "POST", f"/channels/{news.id}/messages/{sent['id']}/crosspost"
        )
        statuses.append(published.status)
        await emulator.advance(5)  # past the 5-messages-per-5-s bucket of the sends themselves
        if n == 9:
            assert published.headers["X-RateLimit-Remaining"] == "0"
            assert float(published.headers["X-RateLimit-Reset-After"]) > 3500

    assert statuses == [200] * 10 + [429]
    await emulator.advance(3600)
    _, sent = await call(http, emulator, "POST", f"/channels/{news.id}/messages", json={"content": "later"})
    later, _ = await call(http, emulator, "POST", f"/channels/{news.id}/messages/{sent['id']}/crosspost")
    assert later.status == 200
