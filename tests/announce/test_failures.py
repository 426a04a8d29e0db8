"""What each answer from Discord means for an announcement: one place weighs every error the same way."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp
import discord
import pytest

from bot.announce.failures import UnusableChannel, judge


@dataclass
class _Response:
    """What discord.HTTPException reads from aiohttp's response."""

    status: int
    reason: str = "Error"
    headers: dict[str, str] = field(default_factory=lambda: {"Via": "1.1 google"})


def http_error(status: int, code: int = 0, *, via: bool = True) -> discord.HTTPException:
    response = _Response(status, headers={"Via": "1.1 google"} if via else {})
    body = {"code": code, "message": "refused"}
    kinds: dict[int, type[discord.HTTPException]] = {403: discord.Forbidden, 404: discord.NotFound}
    kind = discord.DiscordServerError if status >= 500 else kinds.get(status, discord.HTTPException)
    return kind(response, body)  # type: ignore[arg-type]


def verdict_of(error: BaseException, *, unavailable: bool = False) -> tuple[str, bool, str | None]:
    failure = judge(error, channel_id=1, guild_unavailable=unavailable)
    return failure.verdict, failure.may_have_posted, failure.pause_kind


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # developers/topics/rate-limits.mdx: five 429s in a row outlast discord.py; later, not never.
        (http_error(429), ("retry", False, None)),
        # A 429 without Via comes from Cloudflare's ban: everything waits.
        (http_error(429, via=False), ("banned", False, None)),
        # A 5xx may come after Discord stored the message: look before sending again.
        (http_error(500), ("retry", True, None)),
        (http_error(503), ("retry", True, None)),
        (aiohttp.ClientConnectionError("reset"), ("retry", True, None)),
        (TimeoutError(), ("retry", True, None)),
        (http_error(403, 50013), ("pause", False, "permissions")),
        (http_error(403, 50001), ("pause", False, "permissions")),
        (http_error(404, 10003), ("channel_gone", False, None)),
        # developers/topics/opcodes-and-status-codes.mdx
        (http_error(400, 40067), ("pause", False, "tag")),
        (http_error(400, 40058), ("pause", False, "channel")),
        (http_error(400, 160005), ("pause", False, "channel")),
        (http_error(400, 200000), ("pause", False, "automod")),
        (http_error(400, 200001), ("pause", False, "automod")),
        (http_error(400, 240000), ("pause", False, "automod")),
        (UnusableChannel("a voice channel"), ("pause", False, "channel")),
        # An invalid body is refused again however often it is sent.
        (http_error(400, 50035), ("give_up", False, None)),
        (http_error(404, 10008), ("give_up", False, None)),
    ],
)
def test_each_answer_has_one_meaning(error: BaseException, expected: tuple[str, bool, str | None]) -> None:
    assert verdict_of(error) == expected


@pytest.mark.parametrize("error", [http_error(404, 10003), http_error(403, 50001)])
def test_during_an_outage_a_missing_channel_is_not_deleted(error: discord.HTTPException) -> None:
    assert verdict_of(error, unavailable=True) == ("retry", False, None)


def test_reasons_say_what_to_do() -> None:
    tag = judge(http_error(400, 40067), channel_id=42, guild_unavailable=False)
    automod = judge(http_error(400, 200000), channel_id=42, guild_unavailable=False)

    assert "<#42>" in tag.reason
    assert "/config channel set" in tag.reason
    assert "/config resume" in automod.reason
