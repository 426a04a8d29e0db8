"""The command line, run as a user would: arguments in, printed output and exit code out."""

import argparse
import asyncio
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from bot.__main__ import CALLER_DIRECTORY_VARIABLE, build_parser, main
from bot.db import Database
from bot.db.connection import bundled_migrations
from bot.db.insights import InsightsRepository
from bot.demo import FEED_FILE, PREVIOUS_FEED_FILE
from tests.feed.conftest import simple_feed

ROOT = Path(__file__).parents[1]
SETTINGS_VARIABLES = (
    "DISCORD_TOKEN",
    "FEED_URL",
    "DATABASE_PATH",
    "POLL_INTERVAL_SECONDS",
    "DISCORD_API_BASE",
    "DEV_GUILD_ID",
    "LOG_LEVEL",
    "INSIGHTS_RETENTION_DAYS",
)
EXPORT_FIELDS = {
    "guid",
    "title",
    "number",
    "published",
    "duration_seconds",
    "audio_url",
    "link",
    "rebroadcast",
}


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No .env of the developer's and no real configuration leak into these runs; the logging
    set-up each run installs (on this test's stderr) is removed after it."""
    monkeypatch.chdir(tmp_path)
    for name in (*SETTINGS_VARIABLES, CALLER_DIRECTORY_VARIABLE):
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "cli.sqlite3")


def test_ingest_a_file_then_again_reports_what_is_new(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db, "ingest", str(PREVIOUS_FEED_FILE)]) == 0
    assert "91 new" in capsys.readouterr().out
    assert main(["--db", db, "ingest", str(FEED_FILE)]) == 0
    assert "93 episodes in the feed, 2 new" in capsys.readouterr().out


def test_episodes_export_has_exactly_the_documented_fields(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--db", db, "ingest", str(FEED_FILE)])
    capsys.readouterr()
    assert main(["--db", db, "episodes", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 93
    assert all(set(record) == EXPORT_FIELDS for record in records)
    newest = records[0]
    assert newest["guid"] == "dsh-ep-090"
    assert newest["published"] == "2019-12-11T12:00:00Z"
    assert newest["duration_seconds"] == 1233


def test_search_prints_matching_titles(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--db", db, "ingest", str(FEED_FILE)])
    capsys.readouterr()
    assert main(["--db", db, "search", "Raschka", "--json"]) == 0
    titles = [record["title"] for record in json.loads(capsys.readouterr().out)]
    assert titles[0] == "Episode 7: 30 min with data scientist Sebastian Raschka"


def test_search_with_no_result_says_so(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--db", db, "ingest", str(FEED_FILE)])
    capsys.readouterr()
    assert main(["--db", db, "search", "zzzzqqqq"]) == 0
    assert "No episode matches" in capsys.readouterr().out


def test_missing_file_fails_with_one_line_on_stderr(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db, "ingest", "/nonexistent/feed.xml"]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("error: cannot read /nonexistent/feed.xml")
    assert not Path(db).exists()  # nothing was ingested: no database is left behind


def test_a_file_url_names_a_file(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db, "ingest", FEED_FILE.resolve().as_uri()]) == 0
    assert "93 episodes in the feed, 93 new" in capsys.readouterr().out


def test_a_file_url_on_another_machine_is_an_argument_error(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--db", db, "ingest", "file://fileserver/feeds/show.xml"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "another machine" in err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs a device that never ends")
def test_an_endless_file_is_read_only_up_to_the_feed_size_limit(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # /dev/zero claims a size of 0: the cap must count what is read, not what the file says.
    assert main(["--db", db, "ingest", "/dev/zero"]) == 1
    assert capsys.readouterr().err == "error: /dev/zero is larger than 20 MB, the most a feed may be\n"


def test_not_a_feed_fails_with_one_line_on_stderr(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Hello</p></body></html>")
    assert main(["--db", db, "ingest", str(page)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: ")


def test_invalid_configuration_stops_with_the_variable_named(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", "5")
    assert main(["--db", db, "episodes"]) == 1
    assert capsys.readouterr().err.startswith("error: POLL_INTERVAL_SECONDS must be")


def test_run_without_a_token_says_how_to_get_one(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", db, "run"]) == 1
    assert "DISCORD_TOKEN is not set" in capsys.readouterr().err


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder the bot may not create files in. Root writes anywhere a mode allows, but not in /proc."""
    if os.geteuid() == 0:
        if not Path("/proc/self").is_dir():
            pytest.skip("running as root without /proc: no folder is unwritable")
        yield Path("/proc/self")
        return
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def test_database_in_a_folder_the_bot_cannot_write_is_one_line_naming_it(
    unwritable_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = unwritable_folder / "bot.sqlite3"
    assert main(["--db", str(path), "ingest", str(FEED_FILE)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: database {path}: ")
    assert "writable" in err


def test_database_path_that_is_a_folder_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(tmp_path), "ingest", str(FEED_FILE)]) == 1
    assert capsys.readouterr().err == f"error: database {tmp_path}: it is a folder; give the path of a file\n"


async def _stamp_newer_version(path: Path) -> None:
    database = await Database.open(path)
    await database.connection.execute(f"PRAGMA user_version = {bundled_migrations()[-1].version + 1}")
    await database.close()


def test_database_from_a_newer_bot_is_one_line(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_stamp_newer_version(Path(db)))
    assert main(["--db", db, "ingest", str(FEED_FILE)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: database {db}: its schema version")
    assert err.endswith("upgrade the bot\n")


def test_database_of_another_program_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "photos.sqlite3"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE photos (name TEXT)")
    other.commit()
    other.close()
    before = path.read_bytes()
    assert main(["--db", str(path), "ingest", str(FEED_FILE)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: database {path}: it is a SQLite database of another program")
    assert path.read_bytes() == before


def test_a_poll_interval_too_large_for_a_timer_is_one_line(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLL_INTERVAL_SECONDS", "99999999999999999999")
    assert main(["--db", db, "episodes"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: POLL_INTERVAL_SECONDS must be a whole number of seconds from 60")


def test_a_search_limit_too_large_for_sqlite_is_an_argument_error(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--db", db, "search", "gan", "--limit", "99999999999999999999"])
    assert exited.value.code == 2
    assert "--limit: must be a whole number from 1 to 1000" in capsys.readouterr().err


def test_a_reader_that_stops_reading_ends_the_output_quietly(db: str) -> None:
    main(["--db", db, "ingest", str(FEED_FILE)])
    # `episodes | head -0`: the reader is gone before the first line is written.
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--db", db, "episodes"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=30)
    assert err == b""
    assert process.returncode == 141


def test_running_out_of_memory_while_reading_is_one_line(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    opened = Path.open

    def exhausted(self: Path, *args: Any, **kwargs: Any) -> IO[Any]:
        if self == FEED_FILE:
            raise MemoryError
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", exhausted)
    assert main(["--db", db, "ingest", str(FEED_FILE)]) == 1
    assert capsys.readouterr().err == (
        "error: out of memory while running ingest: free some memory and try again\n"
    )


def test_an_error_message_spanning_lines_is_printed_on_one(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def refuse(*args: object) -> int:
        raise OSError("first line\nsecond line")

    monkeypatch.setattr("bot.__main__._run_offline_command", refuse)
    assert main(["--db", db, "ingest", str(FEED_FILE)]) == 1
    assert capsys.readouterr().err == "error: first line second line\n"


def test_an_unexpected_error_is_one_line_that_says_how_to_see_more(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def broken(*args: object) -> int:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("bot.__main__._run_offline_command", broken)
    assert main(["--db", db, "ingest", str(FEED_FILE)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: unexpected ZeroDivisionError: division by zero")
    assert "LOG_LEVEL=DEBUG" in err


def test_the_database_can_be_named_after_the_command(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(FEED_FILE), "--db", db]) == 0
    capsys.readouterr()
    assert main(["episodes", "--json", "--db", db]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 93


@pytest.fixture
def caller_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """scripts/bot's situation: run from one folder, working in the repository."""
    caller = tmp_path / "caller"
    caller.mkdir()
    repository = tmp_path / "repository"
    repository.mkdir()
    monkeypatch.chdir(repository)
    monkeypatch.setenv(CALLER_DIRECTORY_VARIABLE, str(caller))
    return caller


def test_relative_argument_paths_are_taken_from_the_callers_folder(
    caller_folder: Path, tmp_path: Path
) -> None:
    (caller_folder / "feed.xml").write_bytes(FEED_FILE.read_bytes())
    assert main(["ingest", "feed.xml", "--db", "mine.sqlite3"]) == 0
    assert (caller_folder / "mine.sqlite3").is_file()
    assert list((tmp_path / "repository").iterdir()) == []


def test_the_default_database_stays_in_the_working_directory(caller_folder: Path, tmp_path: Path) -> None:
    (tmp_path / "repository" / ".env").write_text("DATABASE_PATH=from-env.sqlite3\n")
    assert main(["ingest", str(FEED_FILE)]) == 0
    assert (tmp_path / "repository" / "from-env.sqlite3").is_file()
    assert not (caller_folder / "from-env.sqlite3").exists()


def test_scripts_bot_takes_relative_paths_from_the_folder_it_is_run_in(tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_bytes(FEED_FILE.read_bytes())
    environment = {k: v for k, v in os.environ.items() if k not in SETTINGS_VARIABLES}
    finished = subprocess.run(
        [str(ROOT / "scripts" / "bot"), "--db", "here.sqlite3", "ingest", "feed.xml"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    assert "93 new" in finished.stdout
    assert (tmp_path / "here.sqlite3").is_file()


def _options(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from ((f"{name} {label}", sub_action) for label, sub_action in _options(sub))
        else:
            yield (action.dest, action)


def test_every_option_and_argument_has_help() -> None:
    missing = [label for label, action in _options(build_parser()) if not action.help]
    assert missing == []


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["search"],
        ["search", "gan", "--limit", "lots"],
        ["episodes", "--colour"],
        # ~user/ of a user this machine does not know: pathlib raises RuntimeError, not a usage error.
        ["--db", "~no-such-user-dsh/bot.sqlite3", "episodes"],
        ["backup", "~no-such-user-dsh/backup.sqlite3"],
        ["ingest", "~no-such-user-dsh/feed.xml"],
        ["ingest", ""],  # not the current folder
        ["ingest", "http://"],
    ],
)
def test_argument_errors_are_one_short_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: ")
    assert len(err) < 200


@pytest.mark.parametrize("command", [["search", "gan"], ["episodes"]])
def test_reading_a_missing_database_says_to_ingest_first_and_creates_nothing(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "not-yet" / "bot.sqlite3"
    assert main(["--db", str(path), *command]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: there is no database at {path} yet: ingest the feed first")
    assert not path.parent.exists()


def test_searching_an_empty_database_says_to_ingest_first(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", db, "episodes"]) == 1  # no database yet
    asyncio.run(_create_empty(Path(db)))
    assert main(["--db", db, "episodes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["--db", db, "search", "gan"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: the database {db} has no episodes yet: ingest the feed first")


async def _create_empty(path: Path) -> None:
    database = await Database.open(path)
    await database.close()


def test_a_backup_copied_over_the_database_brings_its_data_back(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--db", db, "ingest", str(PREVIOUS_FEED_FILE)])
    backup = tmp_path / "backups" / "monday.sqlite3"
    backup.parent.mkdir()
    assert main(["--db", db, "backup", str(backup)]) == 0
    assert f"to {backup}: 91 episodes, schema version" in capsys.readouterr().out
    main(["--db", db, "ingest", str(FEED_FILE)])
    # The README's restore: stop the bot, copy the backup over the database file.
    shutil.copyfile(backup, db)
    capsys.readouterr()
    assert main(["--db", db, "episodes", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 91


def test_backup_refuses_to_replace_a_file_without_force(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["--db", db, "ingest", str(FEED_FILE)])
    target = tmp_path / "backup.sqlite3"
    target.write_text("keep me")
    assert main(["--db", db, "backup", str(target)]) == 1
    assert capsys.readouterr().err == (
        f"error: {target} already exists: give another path, or add --force to replace it\n"
    )
    assert target.read_text() == "keep me"
    assert main(["--db", db, "backup", str(target), "--force"]) == 0


def test_backup_target_is_taken_from_the_callers_folder(caller_folder: Path, db: str) -> None:
    main(["--db", db, "ingest", str(FEED_FILE)])
    assert main(["--db", db, "backup", "copy.sqlite3"]) == 0
    assert (caller_folder / "copy.sqlite3").is_file()


def test_an_ingest_waits_for_another_process_writing_instead_of_failing(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process (a backup, another ingest) holds the write lock for longer than a moment:
    the ingest waits its turn rather than failing with "database is locked"."""
    assert main(["--db", db, "ingest", str(PREVIOUS_FEED_FILE)]) == 0
    holder = sqlite3.connect(db, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE feeds SET title = title")
    released = threading.Timer(7.0, holder.commit)  # longer than SQLite's usual 5 s timeouts
    released.start()
    try:
        assert main(["--db", db, "ingest", str(FEED_FILE)]) == 0
    finally:
        released.join()
        holder.close()
    assert "2 new" in capsys.readouterr().out


def test_large_ingests_in_parallel_all_complete(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    feeds = []
    for copy in range(3):
        feed = tmp_path / f"feed-{copy}.xml"
        feed.write_bytes(
            simple_feed(4000)
            .replace(b"ep-", f"copy{copy}-ep-".encode())
            .replace(b"cdn.example.com/", f"cdn.example.com/{copy}/".encode())
        )
        feeds.append(feed)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "--db", str(db), "ingest", str(feed)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for feed in feeds
    ]
    outcomes = [process.communicate(timeout=300) for process in processes]
    assert [error for _, error in outcomes] == ["", "", ""]
    assert all("4000 episodes in the feed, 4000 new" in out for out, _ in outcomes)
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("SELECT count(*) FROM episodes").fetchone()[0] == 12000
    finally:
        connection.close()


async def _two_servers_searched(path: str) -> None:
    database = await Database.open(path)
    try:
        records = InsightsRepository(database)
        now = datetime.now(UTC)
        for guild_id, query, days_ago in [
            (11, "quantum knitting", 1),
            (11, "zymurgy", 20),
            (22, "secret topic", 1),
        ]:
            await records.record_search(guild_id, query, 0, now=now - timedelta(days=days_ago))
    finally:
        await database.close()


def test_insights_reports_one_server_only_over_the_days_asked(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_two_servers_searched(db))
    assert main(["insights", "--server", "11", "--since", "7", "--json", "--db", db]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [topic["query"] for topic in report["missing_topics"]] == ["quantum knitting"]
    assert (report["guild_id"], report["days"], report["searches"]) == ("11", 7, 1)
    assert main(["--db", db, "insights", "--server", "11"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Server 11, all the time kept: 2 searches recorded")
    assert "zymurgy" in text
    assert "secret topic" not in text


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["insights"], "--server"),
        (["insights", "--server", "abc"], "server id"),
        (["insights", "--server", "11", "--since", "0"], "from 1 to 3650"),
    ],
)
def test_insights_arguments_are_checked_in_one_line(
    arguments: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(arguments)
    error = capsys.readouterr().err
    assert raised.value.code == 2
    assert complaint in error
    assert error.count("\n") == 1
