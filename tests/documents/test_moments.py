"""Where a moment's link starts the audio, and where it gives the time alone."""

from __future__ import annotations

import pytest

from bot.documents.moments import moment_link


def test_a_direct_audio_file_on_a_known_host_starts_at_the_moment() -> None:
    url = "https://mcdn.podbean.com/mf/web/dsh/ep90.mp3#old"
    assert moment_link(url, 193.7) == "https://mcdn.podbean.com/mf/web/dsh/ep90.mp3#t=193"


@pytest.mark.parametrize(
    ("url", "seconds"),
    [
        ("https://dts.podtrac.com/redirect.mp3/mcdn.podbean.com/ep90.mp3", 10.0),  # a tracking redirect
        ("http://mcdn.podbean.com/ep90.mp3", 10.0),  # not over HTTPS
        ("https://mcdn.podbean.com/ep90.mp3", None),  # a transcript without times
        (None, 10.0),
    ],
)
def test_elsewhere_there_is_no_link(url: str | None, seconds: float | None) -> None:
    assert moment_link(url, seconds) is None
