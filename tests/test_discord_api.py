"""redirect_discord_api (DISCORD_API_BASE) points every discord.py URL at another origin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.discord_api import gateway_url_for, redirect_discord_api

pytestmark = pytest.mark.timeout(15)


@pytest.fixture
def restore_discord_urls() -> Iterator[None]:
    """redirect_discord_api changes process-wide class attributes: put them back after each test."""
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


def test_gateway_sits_at_the_root_of_the_api_origin() -> None:
    assert gateway_url_for("http://127.0.0.1:8080/api/v10") == "ws://127.0.0.1:8080/"
    assert gateway_url_for("https://discord.example/api/v10/") == "wss://discord.example/"
    with pytest.raises(ValueError, match="http"):
        gateway_url_for("127.0.0.1:8080")


def test_redirect_sets_rest_base_and_gateway(restore_discord_urls: None) -> None:
    redirect_discord_api("http://127.0.0.1:9/api/v10/")

    assert Route("GET", "/users/@me").url == "http://127.0.0.1:9/api/v10/users/@me"
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:9/"

    redirect_discord_api("http://127.0.0.1:9/api/v10", gateway_url="ws://127.0.0.1:10/gw")
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == "ws://127.0.0.1:10/gw"
