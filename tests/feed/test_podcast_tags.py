"""The Podcasting 2.0 tags of feed items, read inside parse_feed."""

from __future__ import annotations

from pathlib import Path

from bot.demo import FEED_FILE
from bot.feed.parse import parse_feed
from bot.models import NO_TAGS, Person, Soundbite, TranscriptLink

EXAMPLE = Path(__file__).parents[1] / "fixtures" / "podcast_namespace" / "example.xml"


def _feed(item: str) -> bytes:
    return (
        '<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel>'
        f"<title>Show</title><item><title>An episode</title><guid>g1</guid>{item}</item>"
        "</channel></rss>"
    ).encode()


def test_the_namespace_example_gives_season_persons_transcripts_chapters_and_soundbite() -> None:
    newest = parse_feed(EXAMPLE.read_bytes(), "https://example.com/feed.xml").episodes[0]
    tags = newest.tags
    assert (newest.number, tags.season, tags.season_name) == (3, 1, "Podcasting 2.0")
    assert tags.transcripts == (
        TranscriptLink("https://example.com/ep3/transcript.txt", "text/plain"),
        TranscriptLink("https://example.com/episode1/transcript.vtt", "text/vtt", "es"),
    )
    assert tags.chapters_url == "https://example.com/ep3_chapters.json"
    assert tags.persons[:2] == (
        Person("Adam Curry", "host", "https://www.podchaser.com/creators/adam-curry-107ZzmWE5f"),
        Person("Dave Jones", "guest", "https://github.com/daveajones/"),
    )
    assert tags.guests == ("Dave Jones",)
    assert tags.soundbites == (Soundbite(33.833, 60.0, ""),)


def test_captions_are_indexed_and_the_plain_text_shown_to_people() -> None:
    tags = parse_feed(EXAMPLE.read_bytes()).episodes[0].tags
    assert tags.searchable_transcript is not None
    assert tags.searchable_transcript.mime_type == "text/vtt"
    assert tags.readable_transcript is not None
    assert tags.readable_transcript.mime_type == "text/plain"


def test_podcast_episode_numbers_an_item_without_itunes_episode() -> None:
    (episode,) = parse_feed(_feed("<podcast:episode>12</podcast:episode>")).episodes
    assert episode.number == 12


def test_relative_links_resolve_and_other_schemes_are_dropped() -> None:
    item = (
        '<podcast:transcript url="/t/1.srt" type="application/x-subrip"/>'
        '<podcast:chapters url="javascript:alert(1)" type="application/json+chapters"/>'
    )
    (episode,) = parse_feed(_feed(item), "https://host.example/feed.xml").episodes
    assert episode.tags.transcripts == (
        TranscriptLink("https://host.example/t/1.srt", "application/x-subrip"),
    )
    assert episode.tags.chapters_url is None


def test_unusable_values_are_left_out() -> None:
    item = (
        "<podcast:season>first</podcast:season>"
        '<podcast:soundbite startTime="nan" duration="10"/>'
        '<podcast:soundbite startTime="5" duration="-1"/>'
        '<podcast:person role="guest">   </podcast:person>'
    )
    (episode,) = parse_feed(_feed(item)).episodes
    assert episode.tags == NO_TAGS


def test_the_podcasts_own_feed_carries_none_of_the_tags() -> None:
    assert {episode.tags for episode in parse_feed(FEED_FILE.read_bytes()).episodes} == {NO_TAGS}


def test_a_malformed_document_keeps_its_episodes_without_tags() -> None:
    document = _feed('<podcast:transcript url="https://h.example/t.vtt" type="text/vtt"/>').replace(
        b"</channel>", b"<broken></channel>"
    )
    (episode,) = parse_feed(document).episodes
    assert episode.title == "An episode"
    assert episode.tags == NO_TAGS
