"""`python -m bot check`: does the set-up work? The token, each server's announcement channel, the feed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import discord

from bot.announce.announcer import missing_permissions
from bot.app import bot_intents
from bot.config import ConfigError, Settings
from bot.db import Database
from bot.db.connection import DatabaseError
from bot.db.guilds import GuildSettings, GuildSettingsRepository
from bot.discord_api import redirect_discord_api
from bot.feed.fetch import FeedFetcher, FeedFetchError, NotModified
from bot.feed.isolation import parse_feed_isolated, shutdown_parser_workers
from bot.feed.parse import FeedParseError
from bot.permissions import describe

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Finding:
    ok: bool
    subject: str  # "token", "server 'Name' (id)", "feed URL"...
    detail: str  # what was found; for a problem, also what to do

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.subject}: {self.detail}"


async def check_setup(settings: Settings, *, ready_within: float = 30.0) -> list[Finding]:
    """Connect to Discord as `run` does (token, gateway) without serving anything, and report on
    the token, every server's announcement set-up, as the gateway describes it, and the feed."""
    configured, database_finding = await _configured_servers(settings.database_path)
    findings = [database_finding]
    findings += await _check_discord(settings, configured, ready_within)
    findings.append(await _check_feed(settings.feed_url))
    return findings


async def _configured_servers(path: Path) -> tuple[list[GuildSettings], Finding]:
    subject = f"database {path}"
    if not await asyncio.to_thread(path.exists):
        return [], Finding(True, subject, "not created yet: the bot creates it when it first runs")
    try:
        # Read only: the bot (perhaps another version) may be running on it.
        database = await Database.open_read_only(path)
    except DatabaseError as error:
        return [], Finding(False, subject, str(error).removeprefix(f"{subject}: "))
    try:
        configured = await GuildSettingsRepository(database).announcing()
    finally:
        await database.close()
    return configured, Finding(True, subject, f"{len(configured)} servers have an announcement channel")


async def _check_discord(
    settings: Settings, configured: list[GuildSettings], ready_within: float
) -> list[Finding]:
    try:
        token = settings.require_token()
    except ConfigError as error:
        return [Finding(False, "token", str(error))]
    if settings.discord_api_base:
        redirect_discord_api(settings.discord_api_base)
    client = discord.Client(intents=bot_intents())
    async with client:
        try:
            await client.login(token)
        except discord.LoginFailure:
            return [
                Finding(
                    False, "token", "Discord rejected it: copy the bot token again from the developer portal"
                )
            ]
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            return [Finding(False, "token", f"cannot reach Discord to log in: {error}")]
        connection = asyncio.create_task(client.connect(reconnect=False), name="check gateway")
        try:
            ready = asyncio.ensure_future(client.wait_until_ready())
            await asyncio.wait([ready, connection], timeout=ready_within, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                ready.cancel()
                return [_gateway_failure(connection, ready_within)]
            return [_logged_in(client), *_servers(client, configured)]
        finally:
            await client.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await connection


def _gateway_failure(connection: asyncio.Task[None], waited: float) -> Finding:
    if not connection.done():
        return Finding(
            False, "gateway", f"no READY from Discord's gateway within {waited:g} s: try again later"
        )
    error = connection.exception()
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return Finding(False, "gateway", "Discord refused the intents: the bot needs only the guilds intent")
    return Finding(False, "gateway", f"the connection closed before READY: {error or 'no reason given'}")


def _logged_in(client: discord.Client) -> Finding:
    assert client.user is not None
    return Finding(
        True,
        "token",
        f"works: logged in as {client.user} ({client.user.id}), connected to the gateway, "
        f"in {len(client.guilds)} servers",
    )


def _servers(client: discord.Client, configured: Iterable[GuildSettings]) -> list[Finding]:
    findings = []
    announcing = {settings.guild_id: settings for settings in configured}
    for guild_id, settings in announcing.items():
        findings.append(_server(client.get_guild(guild_id), settings))
    for guild in sorted(client.guilds, key=lambda guild: guild.id):
        if guild.id not in announcing:
            findings.append(
                Finding(
                    True,
                    _named(guild),
                    "no announcement channel set (a moderator can use /config channel set)",
                )
            )
    return findings


def _named(guild: discord.Guild) -> str:
    return f"server {guild.name!r} ({guild.id})"


def _server(guild: discord.Guild | None, settings: GuildSettings) -> Finding:
    if guild is None:
        return Finding(
            False, f"server {settings.guild_id}", "the bot is not in this server: invite it again (README)"
        )
    subject = _named(guild)
    if guild.unavailable:
        return Finding(False, subject, "unavailable (a Discord outage): check again later")
    channel = guild.get_channel(settings.announce_channel_id or 0)
    if not isinstance(channel, discord.abc.GuildChannel) or isinstance(channel, discord.CategoryChannel):
        return Finding(
            False,
            subject,
            f"the announcement channel ({settings.announce_channel_id}) is gone: a moderator can choose "
            "another with /config channel set",
        )
    subject = f"{subject} #{channel.name}"
    missing = missing_permissions(channel, guild.me, settings.threads_enabled)
    if missing:
        return Finding(
            False, subject, f"the bot lacks {describe(missing)} there: grant them to its role in that channel"
        )
    problem = _ping_role_problem(guild, settings)
    if problem:
        return Finding(False, subject, problem)
    if settings.paused_reason and settings.paused_kind != "permissions":
        return Finding(
            False,
            subject,
            f"announcements are paused: {settings.paused_reason}; once that is fixed, "
            "a moderator runs /config resume",
        )
    return Finding(True, subject, "the bot has every permission it needs to announce there")


def _ping_role_problem(guild: discord.Guild, settings: GuildSettings) -> str | None:
    if settings.ping_role_id is None:
        return None
    role = guild.get_role(settings.ping_role_id)
    if role is None:
        return "the ping role is gone: a moderator can choose another with /config role set"
    if not role.mentionable and not guild.me.guild_permissions.mention_everyone:
        return f"the ping role @{role.name} is not mentionable and the bot lacks Mention Everyone"
    return None


async def _check_feed(url: str) -> Finding:
    subject = f"feed {url}"
    try:
        async with aiohttp.ClientSession() as session:
            fetched = await FeedFetcher(session).fetch(url)
        if isinstance(fetched, NotModified):  # not asked for: no validators were sent
            return Finding(False, subject, "answered 304 Not Modified to an unconditional request")
        parsed = await parse_feed_isolated(fetched.body, url)
    except (FeedFetchError, FeedParseError) as error:
        return Finding(False, subject, f"{error}: check FEED_URL")
    finally:
        await shutdown_parser_workers()
    if not parsed.episodes:
        return Finding(False, subject, "answers, but lists no episodes: check FEED_URL")
    newest = max(
        parsed.episodes, key=lambda episode: episode.published.timestamp() if episode.published else 0
    )
    return Finding(
        True, subject, f"answers and parses: {len(parsed.episodes)} episodes, the newest {newest.title!r}"
    )
