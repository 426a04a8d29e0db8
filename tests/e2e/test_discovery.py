"""/episode search, random, latest, number and browse, end to end: a listener runs the commands in the
Discord emulator against the real bot, which has read the fixture feed from a real HTTP server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.app import PodcastBot
from bot.demo.feed_server import FeedServer
from discord_emulator import DiscordEmulator, InteractionResult, Permission
from discord_emulator.interactions import walk_components
from tests.e2e.conftest import FEED, Server, StartBot
from tests.e2e.feeds import with_newest_item_changed

EPISODE_7 = "Episode 7: 30 min with data scientist Sebastian Raschka"
EPISODE_59 = "Episode 59: How to fool a smart camera with deep learning"
EPISODE_84 = "More powerful deep learning with transformers (Ep. 84)"
EPISODE_84_RB = "More powerful deep learning with transformers (Ep. 84) (Rebroadcast)"
EPISODE_90 = "The dark side of AI: recommend and manipulate (Ep. 90)"
DISCORD_TOKEN_LIFETIME = 15 * 60.0


@pytest.fixture
async def discord(request: pytest.FixtureRequest) -> AsyncIterator[DiscordEmulator]:
    """The emulator; a test shortens Discord's 15-minute interaction tokens by parametrizing it."""
    lifetime: float = getattr(request, "param", DISCORD_TOKEN_LIFETIME)
    async with DiscordEmulator(interaction_token_lifetime=lifetime) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def nothing_refused(discord: DiscordEmulator) -> Iterator[None]:
    """Discord accepted everything the bot sent (every limit on embeds, menus and buttons kept)."""
    yield
    assert discord.api_errors() == []


async def search(discord: DiscordEmulator, server: Server, query: str) -> InteractionResult:
    return await discord.run_command(server.listener, server.guild.general, "episode search", query=query)


def controls(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The buttons and menus a listener can use (link buttons excluded)."""
    return [component for component in walk_components(message["components"]) if "custom_id" in component]


def numbered_lines(embed: dict[str, Any]) -> list[str]:
    return [line for line in embed["description"].split("\n") if line.startswith("**")]


def set_view_timeout(bot: PodcastBot, seconds: float, *, token_lifetime: float | None = None) -> None:
    cog = bot.get_cog("EpisodeCog")
    assert cog is not None
    cog.view_timeout = seconds  # type: ignore[attr-defined]
    if token_lifetime is not None:
        cog.token_lifetime = token_lifetime  # type: ignore[attr-defined]


async def test_searching_a_guest_shows_the_card_of_their_episode_privately(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await search(discord, server, "Raschka")
    assert result.ephemeral
    assert result.embed["title"] == EPISODE_7
    assert {"name": "Episode", "value": "#7", "inline": True} in result.embed["fields"]
    assert result.component(label="Listen")["url"].startswith("https://datascienceathome.com/")
    assert result.component(custom_id="episodes:share")["label"] == "Share in channel"
    assert discord.messages(server.guild.general) == []  # nobody else saw anything


async def test_search_results_page_for_the_asker_only_and_expire(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    stranger = discord.add_member(server.guild, "stranger")
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        set_view_timeout(bot, 1.5)
        result = await search(discord, server, "deep learning")
        first = numbered_lines(result.embed)
        assert len(first) == 10
        assert first[0].startswith("**1.** ")
        assert result.embed["footer"]["text"].startswith("Page 1 of 3 · 22 episodes")

        turned = await discord.click(server.listener, result.message, "episodes:next")
        second = numbered_lines(turned.message["embeds"][0])
        assert second[0].startswith("**11.** ")
        assert not set(second) & set(first)

        refused = await discord.click(stranger, result.message, "episodes:previous")
        assert refused.ephemeral
        assert "belong to the person who ran the command" in refused.content
        assert discord.message(result.message)["embeds"][0]["footer"]["text"].startswith("Page 2 of 3")

        await discord.wait_for(lambda: "expired" in discord.message(result.message)["content"], timeout=5)
    expired = discord.message(result.message)
    assert expired["embeds"][0]["footer"]["text"].startswith("Page 2 of 3")  # what they had, kept
    assert controls(expired)
    assert all(component["disabled"] for component in controls(expired))


async def test_picking_a_result_shows_its_full_card_and_back_returns_to_the_list(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await search(discord, server, "deep learning")
        menu = result.component(custom_id="episodes:pick")
        third = menu["options"][2]
        card = await discord.select(server.listener, result.message, "episodes:pick", [third["value"]])
        assert card.message["embeds"][0]["title"] == third["label"]
        assert card.message["embeds"][0]["description"]  # the show notes, as in an announcement
        back = await discord.click(server.listener, result.message, "episodes:back")
    assert numbered_lines(back.message["embeds"][0]) == numbered_lines(result.embed)


async def test_sharing_posts_the_card_in_the_channel_without_pinging_anyone(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await search(discord, server, "Raschka")
        await discord.click(server.listener, result.message, "episodes:share")
        await discord.wait_for(lambda: discord.message(result.message)["components"] != result.components)
    (shared,) = discord.messages(server.guild.general)
    assert not shared["flags"] & 64  # public
    assert shared["embeds"][0]["title"] == EPISODE_7
    assert f"<@{server.listener.id}>" in shared["content"]
    assert shared["mentions"] == []
    assert shared["mention_roles"] == []
    assert shared["mention_everyone"] is False
    share = next(c for c in controls(discord.message(result.message)) if c["custom_id"] == "episodes:share")
    assert (share["label"], share["disabled"]) == ("Shared", True)


# Scaled down: Discord's 15-minute token lives 3 s; the bot uses it for 2.5 s and its buttons answer for 2 s.
@pytest.mark.parametrize("discord", [3.0], indirect=True)
async def test_buttons_still_expire_visibly_when_a_share_leaves_the_edit_to_an_older_token(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        set_view_timeout(bot, 2.0, token_lifetime=2.5)
        result = await search(discord, server, "Raschka")
        await asyncio.sleep(1.5)  # the share answers with a public message: the private one keeps its token
        await discord.click(server.listener, result.message, "episodes:share")
        await discord.wait_for(
            lambda: "expired" in (discord.message(result.message)["content"] or ""), timeout=5
        )
    assert all(component["disabled"] for component in controls(discord.message(result.message)))


async def test_a_member_who_may_not_post_cannot_share_through_the_bot(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    discord.set_channel_permissions(server.guild.general, server.listener, deny=Permission.SEND_MESSAGES)
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await search(discord, server, "Raschka")
        refused = await discord.click(server.listener, result.message, "episodes:share")
    assert "can't post in this channel" in refused.content
    assert discord.messages(server.guild.general) == []


async def test_autocomplete_suggests_matching_titles_and_a_suggestion_opens_that_episode(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        typed = await discord.autocomplete(
            server.listener, server.guild.general, "episode search", focused="query", query="deep"
        )
        nothing_typed = await discord.autocomplete(
            server.listener, server.guild.general, "episode search", focused="query", query=""
        )
        chosen = typed[1]
        result = await search(discord, server, chosen["value"])
    assert 2 <= len(typed) <= 25
    assert all("deep" in choice["name"].lower() for choice in typed)
    assert all(len(choice["name"]) <= 100 for choice in typed + nothing_typed)
    assert len(nothing_typed) == 25
    assert result.embed["title"] == chosen["name"]


async def test_a_forged_suggestion_is_checked_like_typed_text(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await search(discord, server, "episode-id:999999")
    assert result.ephemeral
    assert "no longer in the catalogue" in result.content


async def test_random_with_a_year_picks_from_that_year_and_can_pick_again(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        years = await discord.autocomplete(
            server.listener, server.guild.general, "episode random", focused="year", year="201"
        )
        result = await discord.run_command(server.listener, server.guild.general, "episode random", year=2016)
        again = await discord.click(server.listener, result.message, "episodes:another")
    assert [choice["value"] for choice in years] == [2019, 2018, 2017, 2016, 2015]
    assert years[1]["name"] == "2018 (22 episodes)"
    first, second = result.embed, again.message["embeds"][0]
    assert first["timestamp"].startswith("2016-")
    assert second["timestamp"].startswith("2016-")
    assert first["title"] != second["title"]


async def test_random_with_filters_that_match_nothing_says_so(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        wrong_year = await discord.run_command(
            server.listener, server.guild.general, "episode random", topic="Raschka", year=2019
        )
        no_such_year = await discord.run_command(
            server.listener, server.guild.general, "episode random", year=2012
        )
        on_topic = await discord.run_command(
            server.listener, server.guild.general, "episode random", topic="Raschka"
        )
    assert wrong_year.ephemeral
    assert wrong_year.content.startswith("No episode (rebroadcasts left out) about “Raschka” from 2019")
    assert no_such_year.content.startswith(
        "No episode was published in 2012: the catalogue runs from 2015 to 2019"
    )
    assert on_topic.embed["title"] == EPISODE_7


async def test_latest_is_the_newest_episode_of_the_feed(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        before = await discord.run_command(server.listener, server.guild.general, "episode latest")
        feed_host.publish(FEED)
        await bot.services.announcer.poll()
        after = await discord.run_command(server.listener, server.guild.general, "episode latest")
    assert before.embed["title"] == EPISODE_84_RB
    assert after.embed["title"] == EPISODE_90
    assert after.ephemeral


async def test_number_finds_an_episode_and_names_the_others_with_that_number(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        plain = await discord.run_command(server.listener, server.guild.general, "episode number", n=59)
        shared_number = await discord.run_command(
            server.listener, server.guild.general, "episode number", n=84
        )
        missing = await discord.run_command(server.listener, server.guild.general, "episode number", n=999)
    assert plain.embed["title"] == EPISODE_59
    assert not plain.content
    assert shared_number.embed["title"] == EPISODE_84  # the original first
    assert shared_number.content.startswith("Also numbered #84: ")
    assert EPISODE_84_RB in shared_number.content
    assert missing.ephemeral
    assert missing.content.startswith("There is no episode #999: episodes are numbered 1 to 88.")


async def test_browse_lists_a_year_page_by_page_and_summarises_the_years(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        year = await discord.run_command(server.listener, server.guild.general, "episode browse", year=2018)
        last = await discord.click(server.listener, year.message, "episodes:next")
        last = await discord.click(server.listener, year.message, "episodes:next")
        summary = await discord.run_command(server.listener, server.guild.general, "episode browse")
        chosen = await discord.select(server.listener, summary.message, "episodes:year", ["2015"])
    assert year.embed["title"] == "Episodes published in 2018"
    assert year.embed["footer"]["text"].startswith("Page 1 of 3 · 22 episodes")
    assert numbered_lines(year.embed)[0].startswith(
        "**1.** Episode 31: The End of Privacy · #31 · 2018-04-02"
    )
    final = last.message["embeds"][0]
    assert len(numbered_lines(final)) == 2
    assert "Episode 50" in numbered_lines(final)[-1]
    assert next(c for c in controls(last.message) if c["custom_id"] == "episodes:next")["disabled"]
    assert numbered_lines(summary.embed) == [
        "**2019** · 39 episodes",
        "**2018** · 22 episodes",
        "**2017** · 14 episodes",
        "**2016** · 12 episodes",
        "**2015** · 4 episodes",
    ]
    assert len(numbered_lines(chosen.message["embeds"][0])) == 4


async def test_browse_of_a_year_without_episodes_names_the_years_there_are(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await discord.run_command(server.listener, server.guild.general, "episode browse", year=2020)
    assert result.content.startswith("No episode was published in 2020: the catalogue runs from 2015 to 2019")


async def test_commands_on_an_empty_catalogue_say_the_feed_was_not_read_yet(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    async with start_bot():
        latest = await discord.run_command(server.listener, server.guild.general, "episode latest")
        anything = await discord.run_command(server.listener, server.guild.general, "episode random")
        found = await search(discord, server, "gan")
    assert "has not been read yet" in latest.content
    assert "has not been read yet" in anything.content
    assert found.content.startswith("Nothing matches “gan”. Try fewer or different words")


async def test_an_untitled_episode_still_gets_suggestions_and_a_titled_card(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    # An item without a <title> is valid RSS (a title or a description is required); Discord wants a
    # name of 1 to 100 characters for every suggestion, menu option and thread.
    feed_host.publish(with_newest_item_changed("", "An episode whose feed item has no title."))
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        suggestions = await discord.autocomplete(
            server.listener, server.guild.general, "episode search", focused="query", query=""
        )
        latest = await discord.run_command(server.listener, server.guild.general, "episode latest")
    assert len(suggestions) == 25
    assert all(choice["name"].strip() for choice in suggestions)
    assert latest.embed["title"].strip()


async def test_buttons_from_before_a_restart_say_they_expired(
    discord: DiscordEmulator, server: Server, start_bot: StartBot
) -> None:
    # A restart forgets the views; their messages keep live-looking controls nobody answers.
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        result = await search(discord, server, "deep learning")
    async with start_bot():
        turned = await discord.click(server.listener, result.message, "episodes:next")
        picked = await discord.select(
            server.listener,
            result.message,
            "episodes:pick",
            [controls(result.message)[0]["options"][0]["value"]],
        )
    for answer in (turned, picked):
        assert answer.ephemeral
        assert "expired" in answer.content


async def test_many_episodes_sharing_a_number_fit_in_one_message_even_once_expired(
    discord: DiscordEmulator, server: Server, feed_host: FeedServer, start_bot: StartBot
) -> None:
    """The note naming the others is cut to leave room for the expiry note: Discord refuses a
    message over 2,000 characters (resources/message.mdx, "Create Message"), and the edit that
    disables the buttons would fail, leaving them live."""
    counter = iter(range(1000))

    def retitled(item: re.Match[bytes]) -> bytes:
        title = f"<title>A long look at machine learning in practice, part {next(counter)}</title>"
        return re.sub(rb"<title>[^<]*</title>", title.encode(), item.group(0), count=1)

    feed = re.sub(rb"<item>.*?</item>", retitled, FEED, flags=re.DOTALL)
    seven = b"<itunes:episode>7</itunes:episode>"
    feed_host.publish(re.sub(rb"<itunes:episode>\d+</itunes:episode>", seven, feed))
    async with start_bot() as bot:
        await bot.services.announcer.poll()
        set_view_timeout(bot, 1.5)
        result = await discord.run_command(server.listener, server.guild.general, "episode number", n=7)
        await discord.wait_for(
            lambda: "expired" in (discord.message(result.message)["content"] or ""), timeout=5
        )
    assert result.content.startswith("Also numbered #7: ")
    assert len(discord.message(result.message)["content"]) <= 2000
