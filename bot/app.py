"""PodcastBot: the discord.py client, its extensions, scheduler, command sync and error handler."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from discord import app_commands
from discord.ext import commands

from bot.assembly import build_services
from bot.clock import utc_now
from bot.config import Settings
from bot.services import Resources, Services
from bot.ui.replies import report_error

log = logging.getLogger(__name__)

# Listed explicitly: a typo fails loudly at start instead of silently loading nothing.
EXTENSIONS: tuple[str, ...] = (
    "cogs.meta",
    "cogs.announcements",
    "cogs.config",
    "cogs.episodes",
    "cogs.discussions",
    "cogs.suggestions",
    "cogs.insights",
    "cogs.privacy",
)
DELIVERY_INTERVAL = timedelta(seconds=15)
PUBLISH_INTERVAL = timedelta(seconds=60)
DOCUMENTS_INTERVAL = timedelta(minutes=5)

COMMAND_TREE_HASH_KEY = "command_tree_hash"

T = TypeVar("T")


def server_install_only() -> app_commands.AppInstallationType:
    """The tree's default: a command is for servers that added the bot unless it says otherwise."""
    return app_commands.AppInstallationType(guild=True, user=False)


def in_servers_only() -> app_commands.AppCommandContext:
    return app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)


def available_anywhere(command: T) -> T:
    """Offer a top-level command (or a GroupCog) wherever a listener chats: to servers that added the
    bot and to people who added it to their own account, in servers, the bot's DM and other DMs.

    Discord sets installation types and contexts per top-level command (discord.py ignores them on
    subcommands), and only global commands can be user-installed. Its answers must then go through the
    interaction: where only the user installed the app, the bot is not in the server or the DM."""
    command = app_commands.allowed_installs(guilds=True, users=True)(command)
    return app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)


def bot_intents() -> discord.Intents:
    """The guilds intent, and guild messages to count the messages in episodes' discussion threads
    for /insights. Slash commands and announcements need no message content, no member list and no
    presence, so the bot asks for no privileged intent: without Message Content, Discord sends
    messages with their content blank."""
    return discord.Intents(guilds=True, guild_messages=True)


@dataclass(frozen=True, slots=True)
class BotOptions:
    """How the bot runs, beyond its configuration: set by `python -m bot sync`, tests and the demo."""

    force_sync: bool = False  # sync the command tree even if it did not change
    first_poll_delay: timedelta = timedelta(seconds=5)
    guild_ready_timeout: float = 2.0  # discord.py's wait for GUILD_CREATEs before on_ready


@dataclass(frozen=True, slots=True)
class CommandSync:
    """What a sync registered with Discord, and where."""

    names: tuple[str, ...]  # top-level slash commands, a group counting once
    guild_id: int | None  # the development server, or None: globally

    def describe(self) -> str:
        listed = ", ".join(f"/{name}" for name in self.names)
        if self.guild_id is not None:
            where = f"in the development server {self.guild_id} (DEV_GUILD_ID), where they show at once"
        else:
            where = "globally (Discord may take a while to show them in every server)"
        return f"Registered {len(self.names)} slash commands {where}: {listed}"


class PodcastTree(app_commands.CommandTree["PodcastBot"]):
    async def on_error(
        self, interaction: discord.Interaction[PodcastBot], error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        await report_error(interaction, error, source=f"/{command}")


def command_tree_hash(tree: app_commands.CommandTree[Any]) -> str:
    payload = sorted(
        (command.to_dict(tree) for command in tree.get_commands()), key=lambda command: command["name"]
    )
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# The bot never joins voice: silence discord.py's start-up warnings about missing voice libraries.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class PodcastBot(commands.Bot):
    settings: Settings
    services: Services
    scheduler: AsyncIOScheduler
    shutdown_task: asyncio.Task[None] | None = None  # set by a signal handler
    command_sync: CommandSync | None = None  # what setup_hook's sync registered, if it synced

    def __init__(self, settings: Settings, resources: Resources, options: BotOptions | None = None) -> None:
        self.options = options or BotOptions()
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            tree_cls=PodcastTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=self.options.guild_ready_timeout,
            # Announcements, settings, suggestions and discussions need the bot in the server: every
            # command is server-only unless it opts in with `available_anywhere`.
            allowed_installs=server_install_only(),
            allowed_contexts=in_servers_only(),
        )
        self.settings = settings
        self.services = build_services(resources, settings, self)
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            try:
                await self.load_extension(extension)
            except commands.ExtensionError:
                log.exception("Extension %s failed to load; the bot runs without it", extension)
        self._schedule_jobs()
        self.scheduler.start()
        await self.sync_commands()

    def _schedule_jobs(self) -> None:
        interval = self.settings.poll_interval_seconds
        # coalesce + max_instances=1: after a stall the bot polls once, never in parallel;
        # jitter spreads the polls of many bots sharing a feed host.
        self.scheduler.add_job(
            self._poll_feed,
            IntervalTrigger(seconds=interval, jitter=min(30, interval // 10)),
            id="poll_feed",
            coalesce=True,
            max_instances=1,
            next_run_time=utc_now() + self.options.first_poll_delay,
        )
        self.scheduler.add_job(
            self._publish_announcements,
            IntervalTrigger(seconds=PUBLISH_INTERVAL.total_seconds()),
            id="publish_announcements",
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.add_job(
            self._deliver_announcements,
            IntervalTrigger(seconds=DELIVERY_INTERVAL.total_seconds()),
            id="deliver_announcements",
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.add_job(
            self._delete_expired_insights,
            CronTrigger(hour=4, minute=17),  # daily, away from the hour when other jobs gather
            id="delete_expired_insights",
            coalesce=True,
            max_instances=1,
            next_run_time=utc_now() + self.options.first_poll_delay,
        )

        self.scheduler.add_job(
            self._fetch_documents,
            IntervalTrigger(seconds=DOCUMENTS_INTERVAL.total_seconds()),
            id="fetch_documents",
            coalesce=True,
            max_instances=1,
        )

    async def _poll_feed(self) -> None:
        await self._scheduled("The feed poll", self.services.announcer.poll)
        # Transcripts and chapters of what the poll stored are fetched now, in their own job: the
        # announcements never wait for them.
        self.scheduler.modify_job("fetch_documents", next_run_time=utc_now())

    async def _fetch_documents(self) -> None:
        await self._scheduled("Fetching transcripts and chapters", self.services.document_fetcher.refresh)

    async def _deliver_announcements(self) -> None:
        await self._scheduled("Announcement delivery", self.services.announcer.deliver_due)

    async def _publish_announcements(self) -> None:
        await self._scheduled("Publishing", self.services.publisher.start_due)

    async def _delete_expired_insights(self) -> None:
        await self._scheduled("Deleting expired insights", self.services.insights.delete_expired)

    async def _scheduled(self, name: str, work: Callable[[], Awaitable[object]]) -> None:
        """A job of the scheduler: its failure is logged and the next run comes on schedule."""
        await self.wait_until_ready()
        try:
            await work()
        except asyncio.CancelledError:
            # Shutting down mid-job: the outbox knows what was in flight and the next start goes on
            # from there. Not an error, and APScheduler would log it as one if it got through.
            log.info("%s stopped: the bot is shutting down", name)
        except Exception:
            log.exception("%s failed unexpectedly; it runs again on schedule", name)

    async def sync_commands(self) -> CommandSync | None:
        """Sync to the development server when one is set; globally only when the tree changed
        since the last sync (or when forced): Discord rate-limits syncs, and a global sync is slow
        to reach clients. Returns what was registered (None: nothing changed, nothing was sent)."""
        if self.settings.dev_guild_id is not None:
            guild = discord.Object(self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            self.command_sync = CommandSync(tuple(sorted(c.name for c in synced)), guild.id)
            log.info("Synced %d commands to development server %s", len(synced), guild.id)
            return self.command_sync
        current = command_tree_hash(self.tree)
        if (
            not self.options.force_sync
            and await self.services.bot_state.get(COMMAND_TREE_HASH_KEY) == current
        ):
            log.info("Command tree unchanged since the last sync; not syncing")
            return None
        synced = await self.tree.sync()
        await self.services.bot_state.set(COMMAND_TREE_HASH_KEY, current)
        self.command_sync = CommandSync(tuple(sorted(c.name for c in synced)), None)
        log.info("Synced %d commands globally", len(synced))
        return self.command_sync

    async def on_message(self, message: discord.Message, /) -> None:
        """The bot has no text commands: messages are only counted (cogs.insights), never parsed."""

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("Connected as %s (%s) to %d servers", self.user, self.user.id, len(self.guilds))

    async def close(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.services.publisher.close()
        await super().close()
        await self.services.insights.settle()
