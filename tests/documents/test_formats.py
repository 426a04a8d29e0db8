"""Transcripts in every format of the namespace, and chapters files, read into moments and chapters."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.documents.formats import MOMENT_SECONDS, Chapter, Moment, parse_chapters, parse_transcript
from bot.feed.parse import FeedParseError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "podcast_namespace"


@pytest.mark.parametrize(
    ("name", "first_words", "moments"),
    [
        ("transcript.vtt", "Sarah: In today's episode, you'll learn", 1),
        ("transcript.srt", "Travis: When you first get started in podcasting", 17),
        ("transcript.json", "I am your father.", 1),
        ("transcript.html", "When you first get started in podcasting", 9),
    ],
)
def test_each_transcript_format_becomes_timed_moments(name: str, first_words: str, moments: int) -> None:
    found = parse_transcript((FIXTURES / name).read_bytes())
    assert found[0].text.startswith(first_words)
    assert len(found) == moments
    assert all(moment.start_seconds is not None for moment in found)


def test_cues_are_grouped_into_moments_of_about_45_seconds() -> None:
    cues = "".join(
        f"00:{n // 60:02d}:{n % 60:02d}.000 --> 00:{n // 60:02d}:{n % 60:02d}.900\nword{n}\n\n"
        for n in range(0, 120, 5)
    )
    found = parse_transcript(f"WEBVTT\n\n{cues}".encode())
    assert [moment.start_seconds for moment in found] == [0.0, 45.0, 90.0]
    assert found[0].text == " ".join(f"word{n}" for n in range(0, 45, 5))
    assert MOMENT_SECONDS == 45.0


def test_plain_text_has_moments_without_times() -> None:
    found = parse_transcript(("word " * 300).encode("utf-16"))
    assert [moment.start_seconds for moment in found] == [None, None, None]
    assert found[0] == Moment(None, " ".join(["word"] * 120))


@pytest.mark.parametrize("body", [b"", b"   \n", b'{"segments": "none"}', b"{" * 10_000])
def test_an_unusable_transcript_is_refused_with_a_reason(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_transcript(body)


def test_chapters_come_in_time_order_without_the_ones_left_out_of_the_table_of_contents() -> None:
    chapters = parse_chapters((FIXTURES / "chapters-complex.json").read_bytes())
    assert chapters[:2] == (Chapter(0.0, "Intro"), Chapter(168.0, "Hearing Aids"))
    assert 4826.0 not in [chapter.start_seconds for chapter in chapters]  # "toc": false
    assert [chapter.start_seconds for chapter in chapters] == sorted(
        chapter.start_seconds for chapter in chapters
    )


@pytest.mark.parametrize("body", [b"[]", b'{"chapters": 3}', b"not json"])
def test_a_file_that_is_not_chapters_is_refused(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_chapters(body)
