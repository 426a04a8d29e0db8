"""Listener suggestions, end to end: members suggest and vote through the Discord emulator, moderators
mark suggestions, and the voters hear about it when the episode that covers them is announced."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.db.suggestions import SuggestionRepository
from bot.demo.feed_server import FeedServer
from discord_emulator import Channel, CommandUsageError, DiscordEmulator, Member, Permission
from discord_emulator.interactions import InteractionResult
from tests.e2e.conftest import FEED, Server, StartBot, add_server, configure
from tests.e2e.feeds import without_newest

JSON = dict[str, Any]
EPISODE_89 = "The dark side of AI: social media and the optimization of addiction (Ep. 89)"
EPISODE_90 = "The dark side of AI: recommend and manipulate (Ep. 90)"


def upvote(number: int) -> str:
    return f"dsh:suggestion:up:{number}"


def remove_vote(number: int) -> str:
    return f"dsh:suggestion:down:{number}"


async def suggestions_channel(discord: DiscordEmulator, server: Server) -> Channel:
    channel = discord.add_channel(server.guild, "suggestions")
    result = await discord.run_command(
        server.moderator, server.guild.general, "suggestions channel set", channel=channel
    )
    assert "Suggestions will be posted in" in result.content, result.content
    return channel


async def suggest(
    discord: DiscordEmulator, member: Member, server: Server, topic: str, details: str | None = None
) -> InteractionResult:
    values = {"topic": topic} if details is None else {"topic": topic, "details": details}
    return await discord.run_command(member, server.guild.general, "suggest", **values)


def field(card: JSON, name: str) -> str:
    (embed,) = card["embeds"]
    value: str = next(f["value"] for f in embed["fields"] if f["name"] == name)
    return value


def votes(discord: DiscordEmulator, card: JSON) -> int:
    return int(field(discord.message(card), "Votes"))


def custom_ids(card: JSON) -> list[str]:
    return [button["custom_id"] for row in card["components"] for button in row["components"]]


def button(result: InteractionResult, label: str) -> str:
    custom_id: str = result.component(label=label)["custom_id"]
    return custom_id


async def test_a_suggestion_is_posted_as_a_card_with_vote_buttons(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot():
        channel = await suggestions_channel(discord, server)
        result = await suggest(
            discord, server.listener, server, "Interview with Yann LeCun", "He would explain **JEPA**."
        )
    assert result.ephemeral
    assert "#1" in result.content
    (card,) = discord.messages(channel)
    assert card["id"] in result.content  # the reply links the card
    embed = card["embeds"][0]
    assert embed["title"] == "#1 · Interview with Yann LeCun"
    assert embed["description"] == "He would explain \\*\\*JEPA\\*\\*."  # shown as typed
    assert field(card, "Suggested by") == f"<@{server.listener.id}>"
    assert field(card, "Votes") == "1"  # the suggestion is its author's vote
    assert field(card, "Status").startswith("🟢 Open")
    assert custom_ids(card) == [upvote(1), remove_vote(1)]
    assert discord.messages(server.guild.general) == []


async def test_upvoting_twice_counts_once_and_removing_the_vote_brings_the_count_back(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    fan = discord.add_member(server.guild, "fan")
    async with start_bot():
        channel = await suggestions_channel(discord, server)
        await suggest(discord, server.listener, server, "Causal inference in practice")
        (card,) = discord.messages(channel)
        first = await discord.click(fan, card, upvote(1))
        again = await discord.click(fan, card, upvote(1))
        counted = votes(discord, card)
        removed = await discord.click(fan, card, remove_vote(1))
        after_removal = votes(discord, card)
        nothing = await discord.click(fan, card, remove_vote(1))
        author_again = await discord.click(server.listener, card, upvote(1))
    assert first.message is not None
    assert field(first.message, "Votes") == "2"
    assert again.ephemeral
    assert "already voted" in again.content
    assert counted == 2
    assert removed.message is not None
    assert field(removed.message, "Votes") == "1"
    assert after_removal == 1
    assert "no vote to remove" in nothing.content
    assert "already voted" in author_again.content
    assert votes(discord, card) == 1


async def test_a_near_duplicate_is_caught_and_the_member_can_vote_for_the_original_instead(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    fan = discord.add_member(server.guild, "fan")
    async with start_bot():
        channel = await suggestions_channel(discord, server)
        await suggest(discord, server.listener, server, "Interview with Yann LeCun")
        prompt = await suggest(discord, fan, server, "yann lecunn interview please!")
        (card,) = discord.messages(channel)
        assert votes(discord, card) == 1
        chosen = await discord.click(fan, prompt.message, button(prompt, "Vote for #1 instead"))
    assert prompt.ephemeral
    assert "Already suggested here" in prompt.content
    assert "**#1**" in prompt.content
    assert chosen.message is not None
    assert "Your vote went to #1" in chosen.message["content"]
    assert chosen.message["components"] == []
    assert len(discord.messages(channel)) == 1  # no new card
    assert votes(discord, card) == 2


async def test_submit_anyway_posts_a_near_duplicate_and_cancel_posts_nothing(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    fan = discord.add_member(server.guild, "fan")
    async with start_bot():
        channel = await suggestions_channel(discord, server)
        await suggest(discord, server.listener, server, "Graph neural networks")
        cancelled = await suggest(discord, fan, server, "graph neural network")
        await discord.click(fan, cancelled.message, button(cancelled, "Cancel"))
        anyway = await suggest(discord, fan, server, "Graph neural networks explained")
        submitted = await discord.click(fan, anyway.message, button(anyway, "Submit anyway"))
    titles = [card["embeds"][0]["title"] for card in discord.messages(channel)]
    assert titles == ["#1 · Graph neural networks", "#2 · Graph neural networks explained"]
    assert submitted.message is not None
    assert "#2" in submitted.message["content"]


async def test_a_suggestion_an_episode_already_covers_names_that_episode(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        channel = await suggestions_channel(discord, server)
        topic = await suggest(discord, server.listener, server, "How to fool a smart camera")
        guest = await suggest(discord, server.listener, server, "Invite Jon Krohn")
        fresh = await suggest(discord, server.listener, server, "Quantum computing for optimisation")
    assert "There is already an episode on this: [Ep. 59 – Episode 59: How to fool a smart camera" in (
        topic.content
    )
    assert "There is already an episode with **Jon Krohn**: [Ep. 86 – " in guest.content
    assert "Vote for" not in str(topic.components)
    assert [c["label"] for row in topic.components for c in row["components"]] == ["Submit anyway", "Cancel"]
    assert "is up as **#1**" in fresh.content
    assert len(discord.messages(channel)) == 1


async def test_a_fourth_suggestion_within_the_hour_is_refused_with_a_time_even_after_a_restart(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot():
        channel = await suggestions_channel(discord, server)
        for topic in ("Causal inference", "Bayesian optimisation", "Federated learning"):
            await suggest(discord, server.listener, server, topic)
    async with start_bot():
        refused = await suggest(discord, server.listener, server, "Tabular foundation models")
        other = await suggest(discord, server.moderator, server, "Tabular foundation models")
    assert refused.ephemeral
    assert "3 suggestions every 60 minutes" in refused.content
    match = re.search(r"<t:(\d+):R>", refused.content)
    assert match is not None, refused.content
    again = datetime.fromtimestamp(int(match.group(1)), UTC)
    assert timedelta(minutes=55) < again - datetime.now(UTC) <= timedelta(hours=1)
    assert "is up as **#4**" in other.content  # the limit is per member
    assert len(discord.messages(channel)) == 4


async def test_mentions_in_a_suggestion_ping_nobody(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    bystander = discord.add_member(server.guild, "bystander")
    topic = f"@everyone <@{bystander.id}> <@&{server.ping_role.id}> *bold* topic"
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        await discord.run_command(server.moderator, server.guild.general, "config threads", enabled=True)
        channel = await suggestions_channel(discord, server)
        result = await suggest(discord, server.listener, server, topic)
        await discord.run_command(
            server.moderator, server.guild.general, "suggestions mark", id=1, status="done", episode=90
        )
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
    (card,) = discord.messages(channel)
    assert "\\*bold\\*" in card["embeds"][0]["title"]
    (thread, *_) = [t for t in discord.threads(server.episodes_channel) if t.name == EPISODE_90]
    (told,) = discord.messages(thread)
    assert f"<@{server.listener.id}>" in told["content"]
    for message in (card, result.message, told):
        assert message is not None
        assert message["mention_everyone"] is False
        assert message["mention_roles"] == []
    assert card["mentions"] == []
    assert [user["id"] for user in told["mentions"]] == [str(server.listener.id)]


async def test_only_moderators_mark_suggestions_and_the_card_shows_the_status(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    feed_host.publish(FEED)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        channel = await suggestions_channel(discord, server)
        await suggest(discord, server.listener, server, "Recommender systems and manipulation")
        (card,) = discord.messages(channel)
        refused = await discord.run_command(
            server.listener, server.guild.general, "suggestions mark", id=1, status="declined"
        )
        planned = await discord.run_command(
            server.moderator, server.guild.general, "suggestions mark", id=1, status="planned", reason="Soon"
        )
        planned_card = discord.message(card)
        done = await discord.run_command(
            server.moderator,
            server.guild.general,
            "suggestions mark",
            id=1,
            status="done",
            reason=f"Covered, <@&{server.ping_role.id}>",
            episode=90,
        )
    assert refused.ephemeral
    assert "Manage Server permission" in refused.content
    assert "#1 is now planned" in planned.content
    assert field(planned_card, "Status").startswith("🗓️ Planned")
    assert "Soon" in field(planned_card, "Status")
    assert custom_ids(planned_card) == [upvote(1), remove_vote(1)]
    assert "#1 is now done" in done.content
    final = discord.message(card)
    assert field(final, "Status").startswith("✅ Done: covered by Ep. 90")
    assert f"<@\u200b&{server.ping_role.id}>" in field(
        final, "Status"
    )  # a reason cannot render a mention either
    assert final["components"] == []


async def test_voters_are_told_in_the_thread_when_the_linked_episode_is_announced(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    fan = discord.add_member(server.guild, "fan")
    async with start_bot() as bot:
        await bot.services.announcer.poll()  # feed-previous: episode 90 is not out yet
        await configure(discord, server)
        await discord.run_command(server.moderator, server.guild.general, "config threads", enabled=True)
        channel = await suggestions_channel(discord, server)
        await suggest(discord, server.listener, server, "Recommender systems that manipulate us")
        await discord.click(fan, discord.messages(channel)[0], upvote(1))
        marked = await discord.run_command(
            server.moderator, server.guild.general, "suggestions mark", id=1, status="done", episode=90
        )
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        await bot.services.announcer.poll()  # nothing new: nobody is told twice
    assert "When Ep. 90 is announced here" in marked.content
    threads = {thread.name: thread for thread in discord.threads(server.episodes_channel)}
    assert discord.messages(threads[EPISODE_89]) == []
    (told,) = discord.messages(threads[EPISODE_90])
    assert "**Ep. 90 – The dark side of AI: recommend and manipulate (Ep. 90)**" in told["content"]
    assert "**#1** “Recommender systems that manipulate us”" in told["content"]
    assert [user["id"] for user in told["mentions"]] == [str(server.listener.id), str(fan.id)]
    assert told["mention_roles"] == []


async def test_marking_done_with_an_episode_already_announced_tells_the_voters_at_once(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    fans = [discord.add_member(server.guild, f"fan{n}") for n in range(52)]
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server)  # no threads: the message replies to the announcement
        channel = await suggestions_channel(discord, server)
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        await suggest(discord, server.listener, server, "Social media and addiction")
        await discord.click(fans[0], discord.messages(channel)[0], upvote(1))
        # The other votes are seeded directly: this test is about the message, not the clicks.
        repository = SuggestionRepository(bot.services.database)
        suggestion = await repository.get(server.guild.id, 1)
        assert suggestion is not None
        later = datetime.now(UTC) + timedelta(minutes=1)
        for fan in fans[1:]:
            await repository.add_vote(suggestion.id, fan.id, now=later)
        marked = await discord.run_command(
            server.moderator, server.guild.general, "suggestions mark", id=1, status="done", episode=89
        )
    announcement_89, _, told = discord.messages(server.episodes_channel)
    assert announcement_89["embeds"][0]["title"] == EPISODE_89
    assert "I told the 53 people" in marked.content
    assert told["message_reference"]["message_id"] == announcement_89["id"]
    assert told["content"].endswith(" and 3 more")
    mentioned = [int(user["id"]) for user in told["mentions"]]
    assert mentioned == [server.listener.id] + [fan.id for fan in fans[:49]]
    assert told["mention_roles"] == []
    assert told["mention_everyone"] is False


async def test_votes_survive_a_restart(discord: DiscordEmulator, server: Server, start_bot: StartBot) -> None:
    fans = [discord.add_member(server.guild, f"fan{n}") for n in range(3)]
    async with start_bot():
        channel = await suggestions_channel(discord, server)
        await suggest(discord, server.listener, server, "MLOps war stories")
        card = discord.messages(channel)[0]
        await discord.click(fans[0], card, upvote(1))
        await discord.click(fans[1], card, upvote(1))
    async with start_bot():
        again = await discord.click(fans[0], card, upvote(1))
        new = await discord.click(fans[2], card, upvote(1))
        mine = await discord.run_command(server.listener, server.guild.general, "suggestions mine")
    assert "already voted" in again.content
    assert new.message is not None
    assert field(new.message, "Votes") == "4"
    assert votes(discord, card) == 4
    assert "MLOps war stories" in mine.embed["description"]
    assert "4 votes" in mine.embed["description"]


async def test_without_a_suggestions_channel_the_card_is_shown_privately(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot():
        result = await suggest(discord, server.listener, server, "Data engineering for ML")
    assert result.ephemeral
    assert "only you can see it" in result.content
    assert "/suggestions channel set" in result.content
    assert result.embed["title"] == "#1 · Data engineering for ML"
    assert result.components == []
    assert all(discord.messages(channel) == [] for channel in (server.guild.general, server.episodes_channel))


async def test_the_channel_must_let_the_bot_post_cards(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    closed = discord.add_channel(server.guild, "closed")
    discord.set_bot_channel_permissions(closed, deny=Permission.EMBED_LINKS)
    async with start_bot():
        refused = await discord.run_command(
            server.moderator, server.guild.general, "suggestions channel set", channel=closed
        )
        listener_refused = await discord.run_command(
            server.listener, server.guild.general, "suggestions channel set", channel=closed
        )
        result = await suggest(discord, server.listener, server, "Data engineering for ML")
    assert "I lack the Embed Links permission" in refused.content
    assert "Manage Server permission" in listener_refused.content
    assert "no suggestions channel" in result.content


async def test_top_ranks_open_suggestions_by_votes_per_server(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    other = add_server(discord, "Another community")
    fans = [discord.add_member(server.guild, f"fan{n}") for n in range(2)]
    async with start_bot():
        channel = await suggestions_channel(discord, server)
        elsewhere = await suggestions_channel(discord, other)
        for topic in ("Causal inference", "Bayesian optimisation", "Federated learning"):
            await suggest(discord, server.moderator, server, topic)
        await suggest(discord, other.listener, other, "Only in the other server")
        cards = discord.messages(channel)
        for fan in fans:
            await discord.click(fan, cards[2], upvote(3))
        await discord.click(fans[0], cards[1], upvote(2))
        await discord.run_command(
            server.moderator, server.guild.general, "suggestions mark", id=2, status="declined"
        )
        top = await discord.run_command(
            server.listener, server.guild.general, "suggestions top", period="week"
        )
        other_top = await discord.run_command(other.listener, other.guild.general, "suggestions top")
    lines = top.embed["description"].splitlines()
    assert [line.split("#")[1].split(" ")[0] for line in lines] == ["3", "1"]
    assert "3 votes" in lines[0]
    (only,) = other_top.embed["description"].splitlines()
    assert "Only in the other server" in only
    assert discord.messages(elsewhere)[0]["embeds"][0]["title"] == "#1 · Only in the other server"


async def test_topics_outside_the_limits_are_refused(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot():
        padded = await suggest(discord, server.listener, server, "   abc   ")  # 3 characters once trimmed
        with pytest.raises(CommandUsageError):
            await suggest(discord, server.listener, server, "x" * 151)
    assert "A topic takes 5 to 150 characters" in padded.content


async def test_voters_are_told_when_their_episode_comes_out_in_a_catch_up(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    feed_host.publish(without_newest(7))
    suggestions = discord.add_channel(server.guild, "suggestions")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        await configure(discord, server, role=False)
        await discord.run_command(
            server.moderator, server.guild.general, "suggestions channel set", channel=suggestions
        )
        await discord.run_command(
            server.listener, server.guild.general, "suggest", topic="Quantum cryptography"
        )
        await discord.run_command(
            server.moderator, server.guild.general, "suggestions mark", id=1, status="done", episode=86
        )
        feed_host.publish(FEED)  # episode 86 is among the older ones: it lands in the catch-up
        await bot.services.announcer.poll()
    everywhere = [
        m["content"] for channel in (server.episodes_channel, suggestions) for m in discord.messages(channel)
    ]
    assert any(f"<@{server.listener.id}>" in content for content in everywhere if content)


async def test_a_topic_of_invisible_characters_is_refused_and_nothing_is_posted(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot():
        channel = await suggestions_channel(discord, server)
        refused = await suggest(discord, server.listener, server, "\u200b\u200b\u200b\u200b\u200b\u200b")
    assert refused.ephemeral
    assert refused.content == "A topic needs words: yours has only invisible characters or spaces."
    assert discord.messages(channel) == []
