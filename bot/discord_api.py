"""Point discord.py's HTTP and gateway traffic at another Discord API origin (the emulator, the demo)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

log = logging.getLogger(__name__)


def gateway_url_for(api_base: str) -> str:
    """The gateway URL served beside ``api_base``: same host and port, ``ws``/``wss``, path ``/``.

    That is the emulator's layout (REST under ``/api/v10``, the WebSocket at the root).
    """
    parts = urlsplit(api_base)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"api_base must be an http(s) URL, got {api_base!r}")
    return urlunsplit((scheme, parts.netloc, "/", "", ""))


def redirect_discord_api(api_base: str, gateway_url: str | None = None) -> None:
    """Make every request discord.py sends go to ``api_base`` (e.g. ``http://127.0.0.1:PORT/api/v10``).

    discord.py builds every REST URL, bot routes in ``http.py`` and webhook/interaction routes in
    ``webhook/async_.py`` alike (callbacks, follow-ups, ``@original``), as ``Route.BASE + path``, and
    ``Route.BASE`` is a class attribute, so one assignment covers them all. The gateway is different:
    a ``Client`` does not ask ``GET /gateway/bot`` (only ``AutoShardedClient`` does); it opens
    ``DiscordWebSocket.DEFAULT_GATEWAY`` and later resumes on the ``resume_gateway_url`` from READY.
    After an unresumable INVALID_SESSION it falls back to ``DEFAULT_GATEWAY`` again, so that class
    attribute is redirected too (to ``gateway_url``, by default :func:`gateway_url_for` ``api_base``).

    Other discord.com URLs in discord.py are display strings (``jump_url``, CDN asset URLs) that
    the bot never fetches from the API, so they stay as Discord would render them.

    This is process-wide state: call it before the bot starts, once per emulator.
    """
    base = api_base.rstrip("/")
    target = gateway_url or gateway_url_for(base)
    Route.BASE = base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(target)
    log.info("discord.py redirected to %s (gateway %s)", base, target)
