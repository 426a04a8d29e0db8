from datetime import UTC, datetime

import discord
import pytest

from bot.ui.cards import (
    DEFAULT_TEMPLATE,
    TemplateError,
    announcement_mentions,
    digest_embed,
    episode_embed,
    format_duration,
    render_content,
    truncate_words,
    validate_template,
)
from tests.conftest import make_episode


def embed_text_length(embed: discord.Embed) -> int:
    """What Discord counts towards its 6,000-character embed total."""
    data = embed.to_dict()
    fields = data.get("fields", [])
    return (
        len(data.get("title", ""))
        + len(data.get("description", ""))
        + sum(len(field["name"]) + len(field["value"]) for field in fields)
        + len(data.get("footer", {}).get("text", ""))
        + len(data.get("author", {}).get("name", ""))
    )


def test_truncate_words_cuts_on_a_word_boundary() -> None:
    assert truncate_words("machine learning models in production", 20) == "machine learning…"
    assert truncate_words("short", 20) == "short"


def test_truncate_words_cuts_an_unbroken_string_hard() -> None:
    assert truncate_words("x" * 300, 256) == "x" * 255 + "…"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, ""),
        (45, "45 s"),
        (1233, "21 min"),
        (3600, "1 h 00 min"),
        (5025, "1 h 24 min"),
        (7170, "2 h 00 min"),
    ],
)
def test_format_duration(seconds: int | None, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_embed_stays_within_discord_limits_for_huge_feed_text() -> None:
    episode = make_episode(7, title="T" * 400, description="word " * 1000)
    embed = episode_embed(episode, podcast_image="https://example.com/cover.jpg")
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert embed_text_length(embed) <= 6000
    assert (embed.description or "").endswith("…")


def test_embed_shows_number_duration_date_and_links_the_episode() -> None:
    episode = make_episode(59, duration_seconds=1500, published=datetime(2019, 3, 1, 12, tzinfo=UTC))
    embed = episode_embed(episode)
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Episode"] == "#59"
    assert fields["Duration"] == "25 min"
    assert fields["Published"] == f"<t:{int(datetime(2019, 3, 1, 12, tzinfo=UTC).timestamp())}:D>"
    assert embed.url == episode.link


def test_default_template_pings_the_role_and_names_the_episode() -> None:
    content = render_content(None, make_episode(3, title="GANs"), role_id=42)
    assert content == "<@&42> New episode of Data Science at Home: **GANs**"


def test_template_without_role_leaves_no_gap() -> None:
    assert render_content(DEFAULT_TEMPLATE, make_episode(3, title="GANs"), None).startswith("New episode")


def test_feed_markdown_is_escaped_in_the_message() -> None:
    content = render_content("{title}", make_episode(3, title="**bold** @everyone _x_"), None)
    assert content == r"\*\*bold\*\* @everyone \_x\_"


def test_only_the_ping_role_may_be_mentioned() -> None:
    mentions = announcement_mentions(42).to_dict()
    assert mentions["parse"] == []
    assert mentions["roles"] == [42]
    assert announcement_mentions(None).to_dict()["parse"] == []
    assert "roles" not in announcement_mentions(None).to_dict()


@pytest.mark.parametrize(
    ("template", "complaint"),
    [
        ("{titel} is out", "Unknown placeholder {titel}"),
        ("{title.__class__}", "Unknown placeholder"),
        ("{title!r}", "Unknown placeholder {title!r}"),
        ("{title:>10}", "Unknown placeholder {title:>10}"),
        ("{title", "not valid"),
        ("   ", "empty"),
        ("x" * 501, "limit is 500"),
    ],
)
def test_invalid_templates_are_refused_with_the_valid_placeholders(template: str, complaint: str) -> None:
    with pytest.raises(TemplateError) as raised:
        validate_template(template)
    assert complaint in str(raised.value)


def test_unknown_placeholder_error_lists_the_valid_ones() -> None:
    with pytest.raises(
        TemplateError, match=r"\{title\}, \{number\}, \{url\}, \{duration\}, \{date\}, \{role\}"
    ):
        validate_template("{nope}")


def test_valid_template_renders_every_placeholder() -> None:
    template = "{role} Ep {number}: {title} ({duration}, {date}) {url} {{literal}}"
    validate_template(template)
    episode = make_episode(
        12, title="Bayes", duration_seconds=600, published=datetime(2020, 1, 1, tzinfo=UTC)
    )
    content = render_content(template, episode, 7)
    assert content.startswith("<@&7> Ep 12: Bayes (10 min, <t:")
    assert content.endswith("https://example.com/12/ {literal}")


def test_digest_lists_every_episode_within_limits() -> None:
    episodes = [make_episode(n, title=f"Episode {n}: " + "long title " * 12) for n in range(60)]
    embed = digest_embed(episodes)
    assert embed.title == "60 more episodes were published while the bot was away"
    assert len(embed.description or "") <= 4096
    assert "more." in (embed.description or "")
