"""parse_feed: how items are normalised into Episodes, and what it does with malformed documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.feed.parse import (
    FeedParseError,
    html_to_text,
    parse_duration,
    parse_feed,
)
from bot.models import Episode

pytestmark = pytest.mark.timeout(10)

ITUNES = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"'
MEDIA = 'xmlns:media="http://search.yahoo.com/mrss/"'
CONTENT = 'xmlns:content="http://purl.org/rss/1.0/modules/content/"'


def _rss(items: str, *, channel: str = "<title>Show</title>") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" {ITUNES} {MEDIA} {CONTENT}>'
        f"<channel>{channel}{items}</channel></rss>"
    ).encode()


def _one(item: str, base_url: str = "") -> Episode:
    (episode,) = parse_feed(_rss(f"<item>{item}</item>"), base_url).episodes
    return episode


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1233", 1233),
        ("1233.5", 1234),
        ("1233,4", 1233),
        (" 20:33 ", 1233),
        ("06:52", 412),
        ("1:02:03", 3723),
        ("01:02:03", 3723),
        ("01:02:03.400", 3723),
        ("90:00", 5400),
        ("0:00:07", 7),
        ("12 : 05", 725),
    ],
)
def test_duration_forms(value: str, seconds: int) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value",
    [None, "", "  ", "abc", "0", "00:00", "-5", "1:75", "1:02:75", "1:2:3:4", "1::2", "nan", "1e3", "1h"],
)
def test_unusable_durations_are_none(value: str | None) -> None:
    assert parse_duration(value) is None


@pytest.mark.parametrize("episode_type", ["bonus", "trailer", "full"])
def test_only_the_title_marks_a_rebroadcast_not_the_episode_type(episode_type: str) -> None:
    kind = f"<itunes:episodeType>{episode_type}</itunes:episodeType>"

    assert _one(f"<title>Extra material</title><guid>a</guid>{kind}").rebroadcast is False
    assert _one(f"<title>[RB] Old favourite</title><guid>b</guid>{kind}").rebroadcast is True


def test_html_becomes_tidy_plain_text() -> None:
    html = (
        "<h2>Notes</h2><p>First&nbsp;line<br/>second   line &amp; more</p>\n\n"
        "<p>  </p><ul><li>one</li><li><b>two</b></li></ul><script>alert(1)</script>"
        "<style>p {color: red}</style><p>caf&eacute; &#8212; end</p><div>a</div><div>b</div>"
    )

    assert html_to_text(html) == (
        "Notes\n\nFirst line\nsecond line & more\n\n• one\n• two\n\ncafé — end\n\na\nb"
    )


def test_text_without_block_tags_keeps_its_line_breaks() -> None:
    assert html_to_text("Line one &amp; more\nLine two\n\n\n\nLine <i>three</i>") == (
        "Line one & more\nLine two\n\nLine three"
    )


def test_description_prefers_the_richest_source() -> None:
    episode = _one(
        "<title>t</title><guid>g</guid><description>Short teaser.</description>"
        "<content:encoded><![CDATA[<p>Full notes.</p><p>With a second paragraph.</p>]]></content:encoded>"
    )
    assert episode.description == "Full notes.\n\nWith a second paragraph."

    episode = _one(
        "<title>t</title><guid>g</guid><description><![CDATA[<p>The long version, in description.</p>]]>"
        "</description><content:encoded><![CDATA[<p>Short.</p>]]></content:encoded>"
    )
    assert episode.description == "The long version, in description."


def test_guid_is_stripped_and_never_resolved_against_the_feed_url() -> None:
    episode = _one("<title>t</title><guid>  episode-1  </guid>", base_url="https://example.com/feed.xml")

    assert episode.guid == "episode-1"
    assert episode.link == "https://example.com/episode-1"  # a permalink guid is also the link


def test_guid_falls_back_to_link_then_audio_url() -> None:
    by_link = _one("<title>t</title><link>https://example.com/1</link><enclosure url='https://x/1.mp3'/>")
    by_audio = _one("<title>t</title><enclosure url='https://x/1.mp3' type='audio/mpeg'/>")

    assert by_link.guid == "https://example.com/1"
    assert by_audio.guid == "https://x/1.mp3"


def test_item_without_guid_link_or_audio_is_skipped() -> None:
    feed = parse_feed(_rss("<item><title>Nothing to identify me</title></item><item><guid>ok</guid></item>"))

    assert [episode.guid for episode in feed.episodes] == ["ok"]


def test_audio_url_prefers_audio_enclosures_then_media_content() -> None:
    audio = _one(
        "<guid>g</guid><enclosure url='https://x/cover.jpg' type='image/jpeg'/>"
        "<enclosure url='https://x/ep.mp3' type='audio/mpeg'/>"
    )
    media = _one(
        "<guid>g</guid><media:content url='https://x/video.mp4' type='video/mp4'/>"
        "<media:content url='https://x/ep.m4a' type='audio/mp4'/>"
    )
    fallback = _one("<guid>g</guid><enclosure url='https://x/ep.mp4' type='video/mp4'/>")

    assert (audio.audio_url, media.audio_url, fallback.audio_url) == (
        "https://x/ep.mp3",
        "https://x/ep.m4a",
        "https://x/ep.mp4",
    )


def test_relative_links_resolve_against_the_base_url() -> None:
    feed = parse_feed(
        _rss(
            "<item><guid isPermaLink='false'>g</guid><link>/episodes/1</link>"
            "<enclosure url='audio/1.mp3' type='audio/mpeg'/><itunes:image href='img/1.jpg'/></item>",
            channel="<title>Show</title><link>/</link><itunes:image href='cover.jpg'/>",
        ),
        "https://example.com/podcast/feed.xml",
    )
    (episode,) = feed.episodes

    assert (feed.link, feed.image) == ("https://example.com/", "https://example.com/podcast/cover.jpg")
    assert (episode.link, episode.audio_url, episode.image) == (
        "https://example.com/episodes/1",
        "https://example.com/podcast/audio/1.mp3",
        "https://example.com/podcast/img/1.jpg",
    )


def test_item_without_itunes_image_has_no_image() -> None:
    assert _one("<guid>g</guid>").image is None


@pytest.mark.parametrize(
    ("date", "published"),
    [
        ("<pubDate>Wed, 11 Dec 2019 12:00:00 +0000</pubDate>", datetime(2019, 12, 11, 12, tzinfo=UTC)),
        ("<pubDate>Wed, 11 Dec 2019 08:00:00 -0500</pubDate>", datetime(2019, 12, 11, 13, tzinfo=UTC)),
        ("<pubDate>Wed, 11 Dec 2019 12:00:00 GMT</pubDate>", datetime(2019, 12, 11, 12, tzinfo=UTC)),
        ("<pubDate>11 December, sometime</pubDate>", None),
        ("", None),
    ],
)
def test_published_is_aware_utc_or_none(date: str, published: datetime | None) -> None:
    episode = _one(f"<guid>g</guid>{date}")

    assert episode.published == published
    if published is not None:
        assert episode.published is not None
        assert episode.published.tzinfo is UTC


def test_atom_updated_is_the_fallback_date_and_the_id_is_not_a_link() -> None:
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b"<entry><id>urn:uuid:1225c695</id><title>E</title><updated>2003-12-13T18:30:02Z</updated></entry>"
        b"</feed>"
    )
    (episode,) = parse_feed(atom).episodes

    assert episode.guid == "urn:uuid:1225c695"
    assert episode.link is None
    assert episode.published == datetime(2003, 12, 13, 18, 30, 2, tzinfo=UTC)


def test_feed_with_a_title_and_no_items_has_no_episodes() -> None:
    feed = parse_feed(_rss(""))

    assert (feed.title, feed.episodes) == ("Show", ())


def test_feed_without_title_or_items_is_refused() -> None:
    with pytest.raises(FeedParseError, match=r"^no feed title and no items$"):
        parse_feed(b"<rss><channel><language>en</language></channel></rss>")


@pytest.mark.parametrize("body", [b"", b"   \n\t  ", b"\x00\x00\x00"])
def test_empty_document_is_refused(body: bytes) -> None:
    with pytest.raises(FeedParseError, match=r"^empty document$"):
        parse_feed(body)


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><head><title>Welcome</title></head><body><h1>Hi</h1></body></html>",
        b'<html lang="en"><head><title>404 Not Found</title></head><body>nope</body></html>',
        b'{"title": "a JSON feed"}',
        b"Service temporarily unavailable",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    ],
)
def test_documents_that_are_not_feeds_are_refused(body: bytes) -> None:
    with pytest.raises(FeedParseError, match=r"^not a feed$"):
        parse_feed(body)


@pytest.mark.parametrize(
    ("value", "new_feed_url"),
    [
        ("https://feeds.newhost.example/show.xml", "https://feeds.newhost.example/show.xml"),
        (" https://feeds.newhost.example/show.xml ", "https://feeds.newhost.example/show.xml"),
        ("javascript:alert(1)", None),  # only an address a feed can live at
        ("", None),
    ],
)
def test_a_feed_that_moved_names_its_new_address(value: str, new_feed_url: str | None) -> None:
    channel = f"<title>Show</title><itunes:new-feed-url>{value}</itunes:new-feed-url>"
    parsed = parse_feed(_rss("<item><title>One</title><guid>1</guid></item>", channel=channel))
    assert parsed.new_feed_url == new_feed_url


def test_an_item_without_a_title_is_named_by_its_number_or_untitled() -> None:
    items = (
        "<item><guid>a</guid><itunes:episode>7</itunes:episode><title> </title></item>"
        "<item><guid>b</guid><description>Notes only.</description></item>"
    )
    feed = (
        "<rss version='2.0' xmlns:itunes='http://www.itunes.com/dtds/podcast-1.0.dtd'>"
        f"<channel><title>Show</title>{items}</channel></rss>"
    ).encode()
    assert [(episode.title, episode.number) for episode in parse_feed(feed).episodes] == [
        ("Episode 7", 7),
        ("Untitled episode", None),
    ]
