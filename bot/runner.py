"""Runs the bot until it is told to stop: the code path of `python -m bot run`."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from bot.app import BotOptions, CommandSync, PodcastBot
from bot.config import Settings
from bot.discord_api import redirect_discord_api
from bot.services import open_resources

log = logging.getLogger(__name__)


async def run_bot(
    settings: Settings,
    *,
    options: BotOptions | None = None,
    on_started: Callable[[PodcastBot], None] | None = None,
) -> None:
    """Connect and serve until SIGINT/SIGTERM or `bot.close()`, then release every resource."""
    token = settings.require_token()
    if settings.discord_api_base:
        redirect_discord_api(settings.discord_api_base)
    async with open_resources(settings.database_path) as resources:
        bot = PodcastBot(settings, resources, options)
        async with bot:
            loop = asyncio.get_running_loop()
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signal_number, _request_close, bot, signal_number)
            try:
                if on_started is not None:
                    on_started(bot)
                await bot.start(token)
            finally:
                for signal_number in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(signal_number)
    log.info("Stopped cleanly")


def _request_close(bot: PodcastBot, signal_number: int) -> None:
    log.info("Received %s; shutting down", signal.Signals(signal_number).name)
    # Keep a reference: the loop only holds tasks weakly.
    bot.shutdown_task = asyncio.create_task(bot.close())


async def sync_commands_once(settings: Settings) -> CommandSync:
    """Log in over HTTP only, sync the command tree, and leave (`python -m bot sync`); returns what
    was registered, and where."""
    token = settings.require_token()
    if settings.discord_api_base:
        redirect_discord_api(settings.discord_api_base)
    async with open_resources(settings.database_path) as resources:
        bot = PodcastBot(settings, resources, BotOptions(force_sync=True))
        async with bot:
            await bot.login(token)  # runs setup_hook, which syncs
    if bot.command_sync is None:
        raise AssertionError("a forced sync always registers the commands")
    return bot.command_sync
