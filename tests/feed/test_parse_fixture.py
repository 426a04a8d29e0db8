"""parse_feed on the Data Science at Home fixture feed, checked against its catalogue."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.demo import PREVIOUS_FEED_FILE
from bot.feed.parse import parse_feed
from bot.models import ParsedFeed
from tests.feed.conftest import FIXTURES

pytestmark = pytest.mark.timeout(20)

FEED_URL = "https://datascienceathome.com/feed.xml"
DSH = FIXTURES / "datascienceathome"


@pytest.fixture(scope="module")
def catalogue() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((DSH / "catalogue.json").read_text(encoding="utf-8"))
    return entries


@pytest.fixture(scope="module")
def parsed(dsh_feed: bytes) -> ParsedFeed:
    return parse_feed(dsh_feed, FEED_URL)


def _normalised(text: str) -> str:
    """The catalogue keeps no-break spaces and list indentation; compare words and line structure."""
    return "\n".join(" ".join(line.replace("\u00a0", " ").split()) for line in text.split("\n"))


def test_channel_fields(parsed: ParsedFeed) -> None:
    assert parsed.title == "Data Science at Home"
    assert parsed.link == "https://datascienceathome.com"
    assert parsed.image == "https://datascienceathome.com/wp-content/uploads/podcast-cover-3000x3000.jpg"


def test_all_93_episodes_match_the_catalogue(parsed: ParsedFeed, catalogue: list[dict[str, Any]]) -> None:
    assert len(parsed.episodes) == len(catalogue) == 93
    for episode, expected in zip(parsed.episodes, catalogue, strict=True):
        published = datetime.strptime(expected["pub_date"], "%a, %d %b %Y %H:%M:%S %z").astimezone(UTC)
        assert (
            episode.guid,
            episode.number,
            episode.title,
            episode.duration_seconds,
            episode.rebroadcast,
            episode.link,
            episode.audio_url,
            episode.published,
        ) == (
            expected["guid"],
            expected["number"],
            expected["title"],
            expected["duration_seconds"],
            expected["flags"]["rebroadcast"],
            expected["link"],
            expected["enclosure"]["url"],
            published,
        ), expected["guid"]
        assert episode.published is not None
        assert episode.published.tzinfo is UTC
        assert episode.published.date().isoformat() == expected["published"]
        assert episode.image is None  # no item-level itunes:image in this feed


def test_descriptions_are_the_catalogue_text(parsed: ParsedFeed, catalogue: list[dict[str, Any]]) -> None:
    for episode, expected in zip(parsed.episodes, catalogue, strict=True):
        assert _normalised(episode.description) == _normalised(expected["description"]), expected["guid"]
        assert "<" not in episode.description or "<" in expected["description"]
        assert "\u00a0" not in episode.description
        assert "\n\n\n" not in episode.description
        assert episode.description == episode.description.strip()


def test_list_items_become_bullets(parsed: ParsedFeed) -> None:
    newest = parsed.episodes[0]
    assert "\n• You liked this kind of show in the past, so here are more shows of the same genre\n" in (
        newest.description
    )


def test_numbers_come_from_titles_when_itunes_episode_is_missing(dsh_feed: bytes, parsed: ParsedFeed) -> None:
    without_tags = re.sub(rb"<itunes:episode>\d+</itunes:episode>", b"", dsh_feed)
    assert without_tags != dsh_feed

    reparsed = parse_feed(without_tags, FEED_URL)

    assert [e.number for e in reparsed.episodes] == [e.number for e in parsed.episodes]


def test_rebroadcasts_and_odd_cases(parsed: ParsedFeed) -> None:
    by_guid = {episode.guid: episode for episode in parsed.episodes}
    assert sum(episode.rebroadcast for episode in parsed.episodes) == 12
    assert by_guid["dsh-ep-080"].number == 80  # "(with the authors of SecML Ep. 80)"
    assert by_guid["dsh-founder-interview-francesco-gadaleta-of-fitchain"].number is None
    assert (by_guid["dsh-ep-084-rb"].number, by_guid["dsh-ep-084-rb"].rebroadcast) == (84, True)
    assert (by_guid["dsh-ep-084"].number, by_guid["dsh-ep-084"].rebroadcast) == (84, False)
    assert by_guid["dsh-ep-016"].number == 16  # "Episode 16: 2017 Predictions..."
    assert by_guid["dsh-ep-038-part-2"].number == 38  # "(Part 2)" is not the number


def test_previous_feed_is_the_same_minus_the_two_newest(parsed: ParsedFeed) -> None:
    previous = parse_feed(PREVIOUS_FEED_FILE.read_bytes(), FEED_URL)

    assert [e.guid for e in previous.episodes] == [e.guid for e in parsed.episodes[2:]]
    assert previous.episodes == parsed.episodes[2:]


def test_guids_do_not_depend_on_the_feed_url(dsh_feed: bytes, parsed: ParsedFeed) -> None:
    moved = parse_feed(dsh_feed, "https://feeds.example.net/elsewhere.xml")

    assert [e.guid for e in moved.episodes] == [e.guid for e in parsed.episodes]
