"""Command line: `python -m bot run|sync|check|demo|ingest|search|episodes|insights|backup` (`dsh-bot`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import sys
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import discord

from bot.assembly import build_services
from bot.check import check_setup
from bot.community.insights import InsightsReport
from bot.config import MAX_SNOWFLAKE, ConfigError, Settings, shown
from bot.db.backup import BackupError, back_up
from bot.db.connection import DatabaseError, database_problem
from bot.db.timestamps import to_db_or_none
from bot.feed.ingest import IngestError
from bot.feed.parse import MAX_FEED_BYTES
from bot.logs import configure_logging
from bot.models import Episode
from bot.runner import run_bot, sync_commands_once
from bot.services import Services, open_resources

log = logging.getLogger(__name__)

# Set by scripts/bot: the folder the person ran it from (it changes to the repository).
CALLER_DIRECTORY_VARIABLE = "DSH_BOT_CALLER_DIR"

EXIT_OK = 0
EXIT_FAILED = 1  # one line on stderr says what went wrong and what to do
EXIT_USAGE = 2  # the command line itself was wrong (argparse's convention)
EXIT_INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT
EXIT_READER_GONE = 141  # the reader went away (`| head`): 128 + SIGPIPE, as for other Unix tools
MAX_SEARCH_LIMIT = 1000
MAX_INSIGHTS_DAYS = 3650


class CommandError(Exception):
    """A command failed in a way the user can fix; printed as one line on stderr."""


def episode_record(episode: Episode) -> dict[str, Any]:
    """The exported shape of an episode: exactly these fields."""
    return {
        "guid": episode.guid,
        "title": episode.title,
        "number": episode.number,
        "published": to_db_or_none(episode.published),
        "duration_seconds": episode.duration_seconds,
        "audio_url": episode.audio_url,
        "link": episode.link,
        "rebroadcast": episode.rebroadcast,
    }


def _format_line(episode: Episode) -> str:
    number = f"#{episode.number}" if episode.number is not None else "—"
    date = episode.published.date().isoformat() if episode.published else "undated"
    return f"{number:>5}  {date}  {episode.title}"


def _read_feed_file(path: Path) -> tuple[bytes, str]:
    """The file's bytes, and its URI (the source its feed row is kept under). What is read is capped,
    not the size the file claims: a device or a pipe (/dev/zero) says 0 and never ends."""
    try:
        with path.open("rb") as file:
            body = file.read(MAX_FEED_BYTES + 1)
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from error
    if len(body) > MAX_FEED_BYTES:
        raise CommandError(f"{path} is larger than {MAX_FEED_BYTES // 1_000_000} MB, the most a feed may be")
    return body, path.resolve().as_uri()


async def _ingest(services: Services, source: str, document: tuple[bytes, str] | None) -> int:
    """Ingest the feed at the URL `source`, or `document` (a file's bytes and URI) read from it."""
    if document is None:
        result = await services.ingestor.ingest_url(source)
    else:
        result = await services.ingestor.ingest_document(*document)
    if not result.changed:
        print(f"{source}: unchanged since it was last ingested, 0 new episodes")
    else:
        print(
            f"{source}: {result.episodes_in_feed} episodes in the feed, {len(result.new)} new, "
            f"{len(result.updated)} updated"
        )
    return 0


async def _search(services: Services, query: str, limit: int, as_json: bool) -> int:
    hits = await services.search.search(query, limit=limit)
    if as_json:
        print(json.dumps([episode_record(hit.episode) for hit in hits], indent=2, ensure_ascii=False))
    elif not hits:
        print(f"No episode matches {query!r}.")
    else:
        for hit in hits:
            print(_format_line(hit.episode))
    return 0


async def _episodes(services: Services, as_json: bool) -> int:
    episodes = await services.episodes.all()
    if as_json:
        print(json.dumps([episode_record(episode) for episode in episodes], indent=2, ensure_ascii=False))
    else:
        for episode in episodes:
            print(_format_line(episode))
    return 0


def _insights_lines(report: InsightsReport) -> list[str]:
    period = "all the time kept" if report.days is None else f"the last {report.days} days"
    lines = [f"Server {report.guild_id}, {period}: {report.searches} searches recorded"]
    if not report.recording:
        lines.append("Insights are off in this server: nothing is recorded")
    lines.append("Searched for, not found (no result, or no result opened):")
    for topic in report.missing:
        wanted = f"  -> suggestion #{topic.suggestion.number}" if topic.suggestion else ""
        lines.append(f"  {topic.searches:>5}  {topic.query} ({topic.not_found} found nothing){wanted}")
    lines.append("Most searched:")
    lines += [f"  {query.searches:>5}  {query.query}" for query in report.top_queries]
    lines.append("Episodes searches led to:")
    lines += [f"  {episode.count:>5}  {episode.title}" for episode in report.opened]
    lines.append("Trending suggestions (votes in the period, total):")
    for trend in report.trending:
        suggestion = trend.suggestion
        lines.append(
            f"  {trend.recent_votes:>5}  #{suggestion.number} {suggestion.topic} ({suggestion.votes})"
        )
    lines.append("Open the longest, with 3 votes or more:")
    lines += [
        f"  {waiting.created_at.date().isoformat()}  #{waiting.number} {waiting.topic} ({waiting.votes})"
        for waiting in report.waiting
    ]
    lines.append("Busiest episode discussions (messages seen):")
    lines += [f"  {thread.messages:>5}  {thread.title}" for thread in report.threads]
    return lines


async def _insights(services: Services, guild_id: int, days: int | None, as_json: bool) -> int:
    report = await services.insights.report(guild_id, days)
    if as_json:
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(_insights_lines(report)))
    return 0


async def _run_offline_command(args: argparse.Namespace, settings: Settings) -> int:
    document = None
    if args.command == "ingest" and not args.source.startswith(("http://", "https://")):
        # Read before the database is opened: a file that cannot be read leaves no database behind.
        document = await asyncio.to_thread(_read_feed_file, Path(args.source))
    async with open_resources(settings.database_path) as resources:
        # Offline commands never connect to Discord: the client is there for the Announcer only.
        services = build_services(resources, settings, discord.Client(intents=discord.Intents.none()))
        if args.command == "ingest":
            return await _ingest(services, args.source, document)
        if args.command == "search":
            if await services.episodes.count() == 0:
                raise CommandError(
                    _ingest_first(settings, f"the database {settings.database_path} has no episodes")
                )
            return await _search(services, args.query, args.limit, args.json)
        if args.command == "episodes":
            return await _episodes(services, args.json)
        if args.command == "insights":
            return await _insights(services, args.server, args.since, args.json)
    raise AssertionError(f"unhandled command {args.command}")


def _ingest_first(settings: Settings, problem: str) -> str:
    return f"{problem} yet: ingest the feed first (python -m bot ingest {settings.feed_url})"


async def _demo() -> None:
    try:
        # Imported here: the demo runs on the Discord emulator, which a plain install of the bot lacks.
        from bot.demo.scene import run_demo
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != "discord_emulator":
            raise
        raise CommandError(
            "the demo needs the Discord emulator: run scripts/bot demo, or pip install -e ./discord_emulator"
        ) from None
    await run_demo()


def _search_limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:  # not a number, or more digits than Python converts
        value = 0
    if not 1 <= value <= MAX_SEARCH_LIMIT:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_SEARCH_LIMIT}, got {shown(text)}"
        )
    return value


def _bounded(text: str, low: int, high: int, what: str) -> int:
    # Checked in this order: int() of thousands of digits raises, and isdigit() accepts "²".
    if not (text.isascii() and text.isdigit() and len(text) < 20 and low <= int(text) <= high):
        raise argparse.ArgumentTypeError(f"must be {what}, got {shown(text)}")
    return int(text)


def _server_id(text: str) -> int:
    return _bounded(text, 1, MAX_SNOWFLAKE, "a Discord server id (a positive number)")


def _days(text: str) -> int:
    return _bounded(text, 1, MAX_INSIGHTS_DAYS, f"a whole number of days from 1 to {MAX_INSIGHTS_DAYS}")


def argument_path(text: str) -> Path:
    """A path given on the command line, relative to the folder the person ran the command from.
    scripts/bot changes to the repository (where .env and the default database are) and names that
    folder in CALLER_DIRECTORY_VARIABLE; without it, the working directory is that folder."""
    try:
        path = Path(text).expanduser()
    except RuntimeError as error:  # ~name/ of a user this machine does not know
        raise argparse.ArgumentTypeError(
            f"cannot expand {shown(text)}: no such user's home folder"
        ) from error
    caller = os.environ.get(CALLER_DIRECTORY_VARIABLE, "")
    if path.is_absolute() or not caller:
        return path
    return Path(caller) / path


def _feed_source(text: str) -> str:
    """A URL to fetch, or the path of a file (a file:// URL names one too)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give the feed's URL or the path of a feed file")
    if text.startswith(("http://", "https://")):
        if not urllib.parse.urlsplit(text).hostname:
            raise argparse.ArgumentTypeError(f"{text} names no host")
        return text
    if text.lower().startswith("file:"):
        location = urllib.parse.urlsplit(text)
        if location.netloc not in ("", "localhost"):
            raise argparse.ArgumentTypeError(f"{text} names a file on another machine; copy it here first")
        text = urllib.request.url2pathname(location.path)
    return str(argument_path(text))


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line: what is wrong, and where the help is."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


_EPILOG = f"""\
Relative paths given as arguments are taken from the folder you run the command in; .env and the
default database (data/bot.sqlite3) are read from the working directory (scripts/bot runs there).

exit codes: {EXIT_OK} done; {EXIT_FAILED} failed (one line on stderr says what went wrong and what to
do), or check found a problem; {EXIT_USAGE} wrong arguments; {EXIT_INTERRUPTED} interrupted (Ctrl-C);
{EXIT_READER_GONE} the reader of the output went away (| head)."""


def _add_database_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--db",
        type=argument_path,
        default=default,
        metavar="PATH",
        help="the SQLite database (default: DATABASE_PATH, or data/bot.sqlite3)",
    )


def _add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print JSON records (guid, title, number, published, ...)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m bot",
        description="The Data Science at Home podcast's Discord bot, and its tools for the host.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_database_option(parser, None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, *, database: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:])
        if database:
            # After the command as well as before it; not given here, the one before stands.
            _add_database_option(sub, argparse.SUPPRESS)
        return sub

    command("run", "run the bot until SIGINT or SIGTERM (the default of scripts/bot)")
    command("sync", "register the slash commands with Discord now, say which and where, and exit")
    command(
        "demo",
        "see the bot work in a minute on a local Discord emulator: no token, no internet",
        database=False,
    )
    ingest = command("ingest", "read a feed (URL or file) into the database and say what is new")
    ingest.add_argument("source", type=_feed_source, metavar="SOURCE", help="the feed's URL, or a file")
    search = command("search", "search the episodes")
    search.add_argument(
        "query", metavar="QUERY", help="words of a title, a topic, a guest or an episode number"
    )
    search.add_argument(
        "--limit",
        type=_search_limit,
        default=10,
        metavar="N",
        help=f"at most N results, from 1 to {MAX_SEARCH_LIMIT} (default: 10)",
    )
    _add_json_option(search)
    episodes = command("episodes", "list (export) every episode, newest first")
    _add_json_option(episodes)
    insights = command(
        "insights", "what one server's listeners searched for and did not find, suggest and discuss"
    )
    insights.add_argument(
        "--server", type=_server_id, required=True, metavar="ID", help="the server (guild) id"
    )
    insights.add_argument(
        "--since",
        type=_days,
        default=None,
        metavar="DAYS",
        help="the last DAYS days (default: all that is kept, INSIGHTS_RETENTION_DAYS)",
    )
    insights.add_argument("--json", action="store_true", help="print the report as one JSON object")
    command(
        "check",
        "connect as run does and report, a line each, on the token, every server's announcement "
        "channel and permissions, and the feed; exit 1 if anything is wrong",
    )
    backup = command("backup", "copy the database to PATH, safely while the bot runs, and verify the copy")
    backup.add_argument("target", type=argument_path, metavar="PATH", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    database_path: Path | None = args.db
    try:
        settings = Settings.from_env()
        database_path = database_path or settings.database_path
        # Offline commands print their result; logs below ERROR would only clutter stderr, unless
        # LOG_LEVEL=DEBUG asks for everything.
        level = settings.log_level_number
        if args.command != "run" and settings.log_level != "DEBUG":
            level = logging.ERROR
        configure_logging(level, secrets=[settings.discord_token or ""])
        status = _dispatch(args, settings)
        # Written out here, not at exit, so that a reader who went away is noticed below.
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # The reader stopped reading (`episodes | head`): end quietly, as other Unix tools do.
        _discard_stdout()
        return EXIT_READER_GONE
    except (ConfigError, CommandError, IngestError, DatabaseError, BackupError) as error:
        return _fail(str(error))
    except discord.LoginFailure:
        return _fail("Discord rejected DISCORD_TOKEN: copy the bot token again from the developer portal")
    except sqlite3.Error as error:
        return _fail(str(database_problem(database_path or "?", error)))
    except MemoryError:
        return _fail(f"out of memory while running {args.command}: free some memory and try again")
    except (OSError, discord.DiscordException) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        log.debug("Unexpected error", exc_info=True)
        return _fail(
            f"unexpected {type(error).__name__}: {error} "
            "(a bug: LOG_LEVEL=DEBUG shows where; please report it)"
        )


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "demo":
        asyncio.run(_demo())
        return EXIT_OK
    if args.db:
        settings = replace(settings, database_path=args.db)
    if args.command == "run":
        asyncio.run(run_bot(settings))
        return EXIT_OK
    if args.command == "sync":
        print(asyncio.run(sync_commands_once(settings)).describe())
        return EXIT_OK
    if args.command == "check":
        findings = asyncio.run(check_setup(settings))
        for finding in findings:
            print(finding.line())
        return EXIT_OK if all(finding.ok for finding in findings) else EXIT_FAILED
    if args.command == "backup":
        backup = asyncio.run(back_up(settings.database_path, args.target, overwrite=args.force))
        print(
            f"Backed up {settings.database_path} to {backup.path}: {backup.episodes} episodes, schema "
            f"version {backup.schema_version}, integrity checked, {backup.size_bytes / 1e6:.1f} MB"
        )
        return EXIT_OK
    if args.command in ("search", "episodes", "insights") and not settings.database_path.exists():
        # Reading must not leave an empty database (and its folder) behind.
        raise CommandError(_ingest_first(settings, f"there is no database at {settings.database_path}"))
    return asyncio.run(_run_offline_command(args, settings))


def _fail(message: str) -> int:
    """One line on stderr, whatever the message holds (a Discord error may span several)."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_FAILED


def _discard_stdout() -> None:
    """Point stdout at /dev/null: Python flushes it again at exit, which would fail once more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a file (a test's capture)
        pass


if __name__ == "__main__":
    sys.exit(main())
