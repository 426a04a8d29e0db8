"""What a failed delivery means, from what Discord answered: try again later, pause the server until a
moderator acts, forget a deleted channel, or give up on this one announcement. One place decides, so
every error is weighed the same way whichever request raised it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import aiohttp
import discord

from bot.db.guilds import PauseKind

# Discord's JSON error codes (developers/topics/opcodes-and-status-codes.mdx).
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035
CANNOT_SEND_IN_FORUM = 40058
TAG_REQUIRED = 40067
THREAD_ALREADY_CREATED = 160004
THREAD_LOCKED = 160005
AUTOMOD_BLOCKED = 200000
AUTOMOD_TITLE_BLOCKED = 200001
LINK_FILTER_BLOCKED = 240000

# Cloudflare bans an IP that makes too many invalid requests (developers/topics/rate-limits.mdx):
# its 429 lacks the Via header Discord's own answers carry. Everything waits this long.
CLOUDFLARE_BAN_WAIT = timedelta(minutes=30)

Verdict = Literal["retry", "pause", "channel_gone", "give_up", "banned"]


class UnusableChannel(Exception):
    """The configured channel cannot hold announcements (a voice channel, a category...)."""


@dataclass(frozen=True, slots=True)
class Failure:
    verdict: Verdict
    reason: str  # shown to moderators (/config status, alerts): one line, what to do where it helps
    may_have_posted: bool = False  # the request may have gone through: look before sending again
    pause_kind: PauseKind | None = None
    wait: timedelta = timedelta(0)  # the least time to let pass before trying again


def judge(error: BaseException, *, channel_id: int, guild_unavailable: bool) -> Failure:
    """The verdict on `error`, raised while announcing in <#channel_id>."""
    where = f"<#{channel_id}>"
    if isinstance(error, UnusableChannel):
        return _unusable(where)
    if isinstance(error, discord.HTTPException):
        return _judge_http(error, where, guild_unavailable)
    if isinstance(error, aiohttp.ClientError | TimeoutError | OSError):
        # The request may have reached Discord and been carried out before the connection broke.
        return Failure("retry", f"Discord could not be reached ({_text(error)})", may_have_posted=True)
    return Failure("retry", "unexpected error (see the bot's log)", may_have_posted=True)


def _judge_http(error: discord.HTTPException, where: str, guild_unavailable: bool) -> Failure:
    code, status = error.code, error.status
    if status == 429:
        if not error.response.headers.get("Via"):
            return Failure(
                "banned",
                "Discord (Cloudflare) is refusing the bot's requests for a while",
                wait=CLOUDFLARE_BAN_WAIT,
            )
        # discord.py waited out five 429s in a row and gave up: the limit outlasted its patience.
        return Failure("retry", "Discord kept rate-limiting the announcement")
    if isinstance(error, discord.DiscordServerError):
        # A 5xx after Discord may have stored the message (its answer is what failed).
        return Failure("retry", f"Discord had a server error (HTTP {status})", may_have_posted=True)
    if guild_unavailable and status in (403, 404):
        # During an outage Discord answers for the server's channels as if they did not exist.
        return Failure("retry", "the server is unavailable (a Discord outage)")
    refusal = _refusal(code, where)
    if refusal is not None:
        return refusal
    if isinstance(error, discord.Forbidden):
        return Failure(
            "pause",
            f"Discord refused the announcement in {where} (missing permissions).",
            False,
            "permissions",
        )
    if isinstance(error, discord.NotFound):
        return Failure("channel_gone", "the announcement channel was deleted")
    # Any other refusal (an invalid body, say) would be refused again: retrying cannot fix it.
    return Failure("give_up", f"Discord refused it (HTTP {status}, code {code}): {_text(error)}")


def _refusal(code: int, where: str) -> Failure | None:
    """What a refusal with this JSON error code means, when the code alone says it."""
    if code in (MISSING_ACCESS, MISSING_PERMISSIONS):
        return Failure(
            "pause",
            f"Discord refused the announcement in {where} (missing permissions).",
            False,
            "permissions",
        )
    if code == UNKNOWN_CHANNEL:
        return Failure("channel_gone", "the announcement channel was deleted")
    if code == UNKNOWN_MESSAGE:
        # The same nonce again, for a message a moderator deleted in the meantime: it was posted.
        return Failure("give_up", "the announcement was posted, then deleted in Discord")
    if code == THREAD_LOCKED:
        return Failure(
            "pause", f"{where} is a locked thread: unlock it or choose another channel.", False, "channel"
        )
    if code == CANNOT_SEND_IN_FORUM:
        return _unusable(where)
    if code == TAG_REQUIRED:
        return Failure(
            "pause",
            f"The forum {where} requires a tag on each post: choose one with /config channel set.",
            False,
            "tag",
        )
    if code in (AUTOMOD_BLOCKED, AUTOMOD_TITLE_BLOCKED):
        return Failure(
            "pause",
            f"AutoMod blocked the announcement in {where}: exempt the bot's role from the rule "
            "(Server Settings → AutoMod), then run /config resume.",
            False,
            "automod",
        )
    if code == LINK_FILTER_BLOCKED:
        return Failure(
            "pause",
            f"Discord's link filter blocked the announcement's links in {where}: run /config resume once "
            "the episode's links are fixed or allowed.",
            False,
            "automod",
        )
    return None


def _unusable(where: str) -> Failure:
    return Failure(
        "pause",
        f"{where} cannot hold messages: choose a text, announcement or forum channel.",
        False,
        "channel",
    )


def _text(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return (error.text or type(error).__name__)[:150]
    return (str(error) or type(error).__name__)[:150]
