"""AutoMod keyword rules and Discord's harmful-links filter: messages and titles they block.

AutoMod follows resources/auto-moderation.mdx (keyword rules, wildcard matching, exempt roles and
channels); the error codes are in topics/opcodes-and-status-codes.mdx (200000, 200001, 240000). A
blocked message is not stored and sends no event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from discord_emulator.errors import DiscordApiError
from discord_emulator.permissions import Permission
from discord_emulator.state import Channel, DiscordState, Member

JSON = dict[str, Any]

URL_PATTERN = re.compile(r"(?:https?|discord)://[^\s<>\"')\]]+", re.IGNORECASE)
# Discord's own AutoMod exemption: "Members with the Manage Server or Administrator permission are
# exempt from all AutoMod rules" (Discord's AutoMod FAQ; the API docs leave it out).
EXEMPT_PERMISSIONS = Permission.MANAGE_GUILD | Permission.ADMINISTRATOR


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A keyword as AutoMod matches it ("Keyword Matching Strategies"): case-insensitive; ``cat*`` a
    prefix, ``*cat`` a suffix, ``*cat*`` anywhere, ``cat`` a whole word or phrase. The docs say a whole
    word is "surrounded by whitespace"; punctuation ends a word here too, as it does in the client."""
    prefix = keyword.startswith("*")
    suffix = keyword.endswith("*")
    core = re.escape(keyword.strip("*"))
    start = "" if prefix else r"(?<!\w)"
    end = "" if suffix else r"(?!\w)"
    return re.compile(start + core + end, re.IGNORECASE)


@dataclass(eq=False)
class AutoModRule:
    """A KEYWORD rule (trigger type 1) with a BLOCK_MESSAGE action, on MESSAGE_SEND."""

    id: int
    guild_id: int
    name: str
    keywords: list[str]
    allow_list: list[str] = field(default_factory=list)
    exempt_roles: set[int] = field(default_factory=set)
    exempt_channels: set[int] = field(default_factory=set)
    enabled: bool = True

    def matches(self, text: str) -> bool:
        allowed = [keyword_pattern(keyword) for keyword in self.allow_list]
        for keyword in self.keywords:
            for match in keyword_pattern(keyword).finditer(text):
                if not any(allow.fullmatch(match.group(0)) for allow in allowed):
                    return True
        return False


def message_texts(body: JSON) -> Iterator[str]:
    """The text AutoMod reads in a message: content, embed text, and components V2 text displays."""
    content = body.get("content")
    if isinstance(content, str):
        yield content
    for embed in body.get("embeds") or []:
        if not isinstance(embed, dict):
            continue
        yield from (value for key in ("title", "description") if isinstance(value := embed.get(key), str))
        for embed_field in embed.get("fields") or []:
            yield from (str(embed_field.get(key) or "") for key in ("name", "value"))
        yield str((embed.get("footer") or {}).get("text") or "")
        yield str((embed.get("author") or {}).get("name") or "")
    for component in _walk(body.get("components") or []):
        if component.get("type") == 10 and isinstance(component.get("content"), str):
            yield component["content"]


def message_urls(body: JSON) -> Iterator[str]:
    """Every link a message carries: in its text, its embeds' URLs, and its link buttons."""
    for text in message_texts(body):
        yield from URL_PATTERN.findall(text)
    for embed in body.get("embeds") or []:
        if not isinstance(embed, dict):
            continue
        yield str(embed.get("url") or "")
        for part in ("author", "footer", "image", "thumbnail"):
            details = embed.get(part) or {}
            yield from (str(details.get(key) or "") for key in ("url", "icon_url"))
    for component in _walk(body.get("components") or []):
        if component.get("type") == 2 and component.get("url"):
            yield str(component["url"])


def _walk(components: Iterable[Any]) -> Iterator[JSON]:
    for component in components:
        if not isinstance(component, dict):
            continue
        yield component
        yield from _walk(component.get("components") or [])
        if isinstance(component.get("accessory"), dict):
            yield component["accessory"]


class Moderation:
    """The guilds' AutoMod rules and the blocked domains of the harmful-links filter."""

    def __init__(self, state: DiscordState) -> None:
        self._state = state
        self.rules: list[AutoModRule] = []
        self.blocked_domains: set[str] = set()

    def _is_blocked_domain(self, url: str) -> bool:
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            return False
        return any(host == domain or host.endswith("." + domain) for domain in self.blocked_domains)

    def _applicable(self, channel: Channel, author: Member | None) -> list[AutoModRule]:
        """The rules that apply to ``author`` in ``channel``. AutoMod belongs to servers: none in a DM.
        ``author`` None is an app that is not a member (installed to a user only): nothing exempts it."""
        state = self._state
        if channel.is_private:
            return []
        guild = state.guild_of(channel)
        if author is not None and state.guild_permissions(guild, author) & EXEMPT_PERMISSIONS:
            return []
        roles = set() if author is None else set(author.role_ids)
        channel_ids = {channel.id, state.parent_of(channel).id}
        return [
            rule
            for rule in self.rules
            if rule.enabled
            and rule.guild_id == guild.id
            and not rule.exempt_roles & roles
            and not rule.exempt_channels & channel_ids
        ]

    def check_message(self, channel: Channel, author: Member | None, body: JSON) -> None:
        """Raise Discord's 400 if the harmful-links filter or an AutoMod rule blocks ``body``."""
        if self.blocked_domains and any(self._is_blocked_domain(url) for url in message_urls(body)):
            raise DiscordApiError(400, 240000, "Message blocked by harmful links filter")
        rules = self._applicable(channel, author)
        if rules and any(rule.matches(text) for text in message_texts(body) for rule in rules):
            raise DiscordApiError(400, 200000, "Message was blocked by automatic moderation")

    def check_title(self, channel: Channel, author: Member | None, title: str) -> None:
        """A thread or forum post name that an AutoMod rule blocks (code 200001)."""
        if any(rule.matches(title) for rule in self._applicable(channel, author)):
            raise DiscordApiError(400, 200001, "Title was blocked by automatic moderation")
