"""`python -m bot demo` shows the bot at work with no token and no internet."""

import sys
from pathlib import Path

import pytest

from bot.__main__ import main


@pytest.mark.timeout(120)
def test_demo_plays_the_scene_and_prints_what_discord_users_see(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "none announced (old news)" in out
    assert "/config channel set channel:#new-episodes" in out
    assert "@New Episodes New episode of Data Science at Home: **The dark side of AI: recommend" in out
    assert "🧵 discussion thread: The dark side of AI: recommend and manipulate (Ep. 90)" in out
    assert "Episode 7: 30 min with data scientist Sebastian Raschka" in out
    assert "/episode random" in out
    assert "I opened a discussion thread for **Episode 7" in out
    assert "DM ada–linus  ada ▸ /episode latest" in out
    assert "DM ada–linus  DSH Community Bot:\n    @ada shared an episode of Data Science at Home:" in out
    assert "Federated learning and privacy on phones" in out
    assert "Votes: 2" in out
    assert "That was the real bot" in out


def test_demo_without_the_emulator_says_how_to_get_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain install of the bot has no discord_emulator package: make importing it fail the same way.
    for name in [name for name in sys.modules if name.startswith(("discord_emulator", "bot.demo."))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "discord_emulator", None)

    assert main(["demo"]) == 1

    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("error: the demo needs the Discord emulator: run scripts/bot demo")
