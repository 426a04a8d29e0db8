"""/privacy, end to end: a member sees their suggestions and votes, and deletes them after confirming."""

from __future__ import annotations

from discord_emulator import DiscordEmulator
from tests.e2e.conftest import Server, StartBot
from tests.e2e.test_suggestions import suggestions_channel, upvote, votes


async def test_a_member_deletes_their_suggestions_and_votes_after_confirming(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    fan = discord.add_member(server.guild, "fan")
    async with start_bot():
        channel = await suggestions_channel(discord, server)
        await discord.run_command(server.listener, server.guild.general, "suggest", topic="Causal inference")
        await discord.run_command(fan, server.guild.general, "suggest", topic="Interview with Yann LeCun")
        _, fan_card = discord.messages(channel)
        await discord.click(server.listener, fan_card, upvote(2))
        shown = await discord.run_command(server.listener, server.guild.general, "privacy show")
        asked = await discord.run_command(server.listener, server.guild.general, "privacy delete")
        done = await discord.click(
            server.listener, asked.message, asked.component(label="Delete them")["custom_id"]
        )
        mine = await discord.run_command(server.listener, server.guild.general, "suggestions mine")
    (embed,) = shown.embeds
    assert [f["value"] for f in embed["fields"]] == [
        "#1 Causal inference · open · 1 vote",
        "#2 Interview with Yann LeCun · open",
    ]
    assert asked.ephemeral
    assert "cannot be undone" in asked.content
    assert done.message is not None
    assert done.message["content"].startswith(
        "Deleted: 1 suggestions (their cards too) and your votes for 1 others."
    )
    assert [message["id"] for message in discord.messages(channel)] == [fan_card["id"]]  # theirs is gone
    assert votes(discord, fan_card) == 1
    assert "not suggested anything" in mine.content


async def test_keeping_them_deletes_nothing(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot():
        channel = await suggestions_channel(discord, server)
        await discord.run_command(server.listener, server.guild.general, "suggest", topic="Causal inference")
        asked = await discord.run_command(server.listener, server.guild.general, "privacy delete")
        kept = await discord.click(
            server.listener, asked.message, asked.component(label="Keep them")["custom_id"]
        )
    assert kept.message is not None
    assert kept.message["content"] == "Nothing was deleted."
    assert len(discord.messages(channel)) == 1
