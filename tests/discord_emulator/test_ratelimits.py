"""Rate limits as developers/topics/rate-limits.mdx describes them: per-route buckets, the global limit,
the invalid-request limit and Cloudflare's ban, and how discord.py reacts to each."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from discord_emulator import DiscordEmulator
from tests.discord_emulator.conftest import Server
from tests.discord_emulator.minibot import MiniBot

pytestmark = pytest.mark.timeout(15)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    emulator: DiscordEmulator,
    method: str,
    path: str,
    *,
    json: Any = None,
    token: str | None = "bot",
) -> tuple[aiohttp.ClientResponse, Any]:
    """One raw request (as the bot unless ``token`` is None); the response and its decoded body."""
    headers = {} if token is None else {"Authorization": f"Bot {emulator.token if token == 'bot' else token}"}
    async with http.request(method, emulator.api_base + path, json=json, headers=headers) as response:
        if response.content_type == "application/json":
            return response, await response.json()
        return response, await response.text()


async def test_global_limit_is_50_per_second_and_spares_interaction_routes(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    # rate-limits.mdx, "Global Rate Limit": 50 requests per second; "Interaction endpoints are not
    # bound to the bot's Global Rate Limit" (interactions/receiving-and-responding.mdx).
    paths = [f"/channels/{server.guild.general.id}", f"/guilds/{server.guild.id}", "/users/@me"]
    answers = await asyncio.gather(*(call(http, emulator, "GET", paths[n % 3]) for n in range(53)))
    callback, callback_body = await call(http, emulator, "POST", "/interactions/1/token/callback", json={})
    followup, followup_body = await call(
        http,
        emulator,
        "POST",
        f"/webhooks/{emulator.application_id}/token",
        json={"content": "x"},
        token=None,
    )

    statuses = sorted(response.status for response, _ in answers)
    assert statuses == [200] * 50 + [429] * 3
    response, body = next((r, b) for r, b in answers if r.status == 429)
    assert body["message"] == "You are being rate limited."
    assert body["global"] is True
    assert 0 < body["retry_after"] <= 1.0
    assert response.headers["Content-Type"] == "application/json"  # exactly: discord.py compares it
    assert response.headers["Via"] == "1.1 google"
    assert response.headers["X-RateLimit-Global"] == "true"
    assert response.headers["X-RateLimit-Scope"] == "global"
    assert response.headers["Retry-After"] == "1"  # whole seconds
    assert "X-RateLimit-Limit" not in response.headers  # the docs' global example has no bucket headers
    assert (callback.status, callback_body["code"]) == (404, 10062)
    assert (followup.status, followup_body["code"]) == (401, 50027)


async def test_create_message_bucket_is_5_per_5_seconds_per_channel(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    general = f"/channels/{server.guild.general.id}/messages"
    other = emulator.add_channel(server.guild, "other")
    sent_at = emulator.clock.time()

    answers = [await call(http, emulator, "POST", general, json={"content": f"m{n}"}) for n in range(6)]
    elsewhere, _ = await call(http, emulator, "POST", f"/channels/{other.id}/messages", json={"content": "x"})
    await emulator.advance(5)
    after_window, _ = await call(http, emulator, "POST", general, json={"content": "later"})

    assert [response.status for response, _ in answers] == [200] * 5 + [429]
    remaining = [response.headers["X-RateLimit-Remaining"] for response, _ in answers]
    assert remaining == ["4", "3", "2", "1", "0", "0"]
    assert {response.headers["X-RateLimit-Limit"] for response, _ in answers} == {"5"}
    first = answers[0][0].headers
    assert re.fullmatch(r"\d+\.\d{3}", first["X-RateLimit-Reset"])
    assert abs(float(first["X-RateLimit-Reset"]) - (sent_at + 5)) < 1  # epoch seconds on the clock
    assert 4.0 < float(first["X-RateLimit-Reset-After"]) <= 5.0
    limited, body = answers[5]
    assert body["global"] is False
    assert body["message"] == "You are being rate limited."
    assert limited.headers["X-RateLimit-Scope"] == "user"
    assert limited.headers["Via"] == "1.1 google"
    assert limited.headers["X-RateLimit-Bucket"] == first["X-RateLimit-Bucket"]
    # Another channel is another top-level resource: its own window.
    assert elsewhere.headers["X-RateLimit-Remaining"] == "4"
    assert elsewhere.headers["X-RateLimit-Bucket"] == first["X-RateLimit-Bucket"]
    assert (after_window.status, after_window.headers["X-RateLimit-Remaining"]) == (200, "4")
    assert len(emulator.messages(server.guild.general)) == 6


async def test_edit_and_reaction_buckets(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    channel = f"/channels/{server.guild.general.id}"
    _, message = await call(http, emulator, "POST", f"{channel}/messages", json={"content": "draft"})
    edit, _ = await call(
        http, emulator, "PATCH", f"{channel}/messages/{message['id']}", json={"content": "v2"}
    )
    reaction = f"{channel}/messages/{message['id']}/reactions/%F0%9F%91%8D/@me"
    first, _ = await call(http, emulator, "PUT", reaction)
    second, body = await call(http, emulator, "PUT", reaction)
    other, _ = await call(http, emulator, "GET", "/users/@me")

    assert (edit.headers["X-RateLimit-Limit"], edit.headers["X-RateLimit-Remaining"]) == ("5", "4")
    assert (first.status, first.headers["X-RateLimit-Limit"]) == (204, "1")
    assert second.status == 429
    assert 0 < body["retry_after"] <= 0.25
    # Everything else: the default bucket (50 per second unless configured).
    assert other.headers["X-RateLimit-Limit"] == "50"
    buckets = {r.headers["X-RateLimit-Bucket"] for r in (edit, first, other)}
    assert len(buckets) == 3


# The real 5-per-5-seconds limit would make discord.py wait 5 s: this test shrinks it to show the wait.
@pytest.mark.parametrize(
    "emulator_options", [{"route_rate_limits": {"POST /channels/{channel_id}/messages": (2, 0.4)}}]
)
async def test_discord_py_waits_out_an_exhausted_bucket_without_a_429(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    channel = bot.get_partial_messageable(server.guild.general.id)

    started = time.monotonic()
    for n in range(5):
        await channel.send(f"message {n}")
    elapsed = time.monotonic() - started

    attempts = emulator.requests_to("POST", "/channels/*/messages")
    # discord.py read X-RateLimit-Remaining: 0 and waited for the window instead of hitting a 429.
    assert [attempt.status for attempt in attempts] == [200] * 5
    assert elapsed >= 0.4 * 2 - 0.05


async def test_401_403_and_429_count_as_invalid_requests(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    # rate-limits.mdx, "Invalid Request Limit": "An invalid request is one that results in 401, 403,
    # or 429 statuses"; "429 errors returned with X-RateLimit-Scope: shared are not counted".
    hidden = emulator.add_channel(server.guild, "mods", overwrites={server.guild.everyone: (0, 1 << 10)})
    emulator.fail_next("GET", "/users/@me", status=429, scope="shared")
    emulator.fail_next("GET", "/users/@me", status=429)

    shared, shared_body = await call(http, emulator, "GET", "/users/@me")
    user, _ = await call(http, emulator, "GET", "/users/@me")
    unauthorized, _ = await call(http, emulator, "GET", "/users/@me", token="wrong")
    forbidden, _ = await call(http, emulator, "GET", f"/channels/{hidden.id}")
    not_found, _ = await call(http, emulator, "GET", "/channels/1")
    ok, _ = await call(http, emulator, "GET", "/users/@me")

    assert (shared.status, shared.headers["X-RateLimit-Scope"]) == (429, "shared")
    assert shared_body["message"] == "The resource is being rate limited."
    assert [r.status for r in (user, unauthorized, forbidden, not_found, ok)] == [429, 401, 403, 404, 200]
    counted = [(r.method, r.status) for r in emulator.invalid_requests]
    assert counted == [("GET", 429), ("GET", 401), ("GET", 403)]
    assert emulator.invalid_request_count == 3
    assert not emulator.cloudflare_banned


# 10,000 invalid requests would take minutes: three show the same ban.
@pytest.mark.parametrize("emulator_options", [{"invalid_request_limit": 3}])
async def test_too_many_invalid_requests_get_cloudflares_ban_for_an_hour(
    emulator: DiscordEmulator, server: Server, http: aiohttp.ClientSession
) -> None:
    for _ in range(4):
        await call(http, emulator, "GET", "/users/@me", token="wrong")

    banned, page = await call(http, emulator, "GET", "/users/@me")
    await emulator.advance(59 * 60)
    still_banned, _ = await call(http, emulator, "GET", "/users/@me")
    await emulator.advance(60)
    after, _ = await call(http, emulator, "GET", "/users/@me")

    assert banned.status == 429
    assert banned.content_type == "text/html"
    assert "1015" in page
    assert "Via" not in banned.headers
    assert not [name for name in banned.headers if name.lower().startswith("x-ratelimit")]
    assert still_banned.status == 429
    assert (after.status, emulator.cloudflare_banned) == (200, False)


async def test_discord_py_raises_at_once_on_a_cloudflare_429(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    emulator.fail_next("POST", "/channels/*/messages", status=429, cloudflare=True)

    with pytest.raises(discord.HTTPException) as raised:
        await bot.get_partial_messageable(server.guild.general.id).send("hello?")

    # http.py: a 429 without Via is "Banned by Cloudflare more than likely": no retry.
    assert raised.value.status == 429
    assert "1015" in raised.value.text
    assert [r.status for r in emulator.requests_to("POST", "/channels/*/messages")] == [429]
    assert emulator.invalid_request_count == 0  # Cloudflare's own answer never reached the API


async def test_discord_py_retries_a_shared_429_which_does_not_count(
    emulator: DiscordEmulator, server: Server, bot: MiniBot
) -> None:
    emulator.fail_next("POST", "/channels/*/messages", status=429, scope="shared", retry_after=0.1)

    await bot.get_partial_messageable(server.guild.general.id).send("shared")

    assert [r.status for r in emulator.requests_to("POST", "/channels/*/messages")] == [429, 200]
    assert emulator.invalid_request_count == 0
    assert [m["content"] for m in emulator.messages(server.guild.general)] == ["shared"]
