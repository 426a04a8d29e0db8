from pathlib import Path

import pytest

from bot.config import ConfigError, Settings


def test_defaults_apply_when_only_the_token_is_set() -> None:
    settings = Settings.from_env({"DISCORD_TOKEN": "abc"})
    # The feed podcast directories list (episodes are hosted on Podbean), not the old WordPress path.
    assert settings.feed_url == "https://datascienceathome.com/feed.xml"
    assert settings.database_path == Path("data/bot.sqlite3")
    assert settings.poll_interval_seconds == 600
    assert settings.discord_api_base is None
    assert settings.dev_guild_id is None
    assert settings.log_level == "INFO"
    assert settings.insights_retention_days == 90


def test_values_are_read_and_normalised() -> None:
    settings = Settings.from_env(
        {
            "FEED_URL": "http://127.0.0.1:8000/feed.xml",
            "DATABASE_PATH": "/tmp/x.sqlite3",
            "POLL_INTERVAL_SECONDS": "60",
            "DISCORD_API_BASE": "http://127.0.0.1:9000/api/v10/",
            "DEV_GUILD_ID": "123456789012345678",
            "LOG_LEVEL": "debug",
            "INSIGHTS_RETENTION_DAYS": "30",
        }
    )
    assert settings.insights_retention_days == 30
    assert settings.poll_interval_seconds == 60
    assert settings.discord_api_base == "http://127.0.0.1:9000/api/v10"
    assert settings.dev_guild_id == 123456789012345678
    assert settings.log_level == "DEBUG"


def test_token_never_appears_in_repr() -> None:
    settings = Settings.from_env({"DISCORD_TOKEN": "super-secret-token"})
    assert "super-secret-token" not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value", "names"),
    [
        ("POLL_INTERVAL_SECONDS", "59", "from 60"),
        ("POLL_INTERVAL_SECONDS", "ten", "whole number"),
        ("POLL_INTERVAL_SECONDS", "99999999999999999999", "to 604800"),
        ("POLL_INTERVAL_SECONDS", "9" * 5000, "whole number"),
        ("INSIGHTS_RETENTION_DAYS", "6", "from 7"),
        ("INSIGHTS_RETENTION_DAYS", "a year", "whole number"),
        ("INSIGHTS_RETENTION_DAYS", "731", "to 730"),
        ("FEED_URL", "ftp://example.com/feed", "http:// or https://"),
        ("DISCORD_API_BASE", "not a url", "http:// or https://"),
        ("DEV_GUILD_ID", "my-server", "server id"),
        ("DEV_GUILD_ID", "99999999999999999999", "server id"),
        ("DEV_GUILD_ID", "9" * 5000, "server id"),
        ("DEV_GUILD_ID", "²", "server id"),
        ("LOG_LEVEL", "LOUD", "DEBUG, INFO"),
    ],
)
def test_invalid_value_names_the_variable_and_what_is_allowed(variable: str, value: str, names: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({variable: value})
    message = str(raised.value)
    assert message.startswith(variable)
    assert names in message
    assert "\n" not in message
    assert len(message) < 200


def test_missing_token_is_reported_only_when_needed() -> None:
    settings = Settings.from_env({})
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        settings.require_token()


def test_dotenv_in_the_working_directory_is_read_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("FEED_URL=http://127.0.0.1:9/feed.xml\nLOG_LEVEL=WARNING\n")
    monkeypatch.chdir(tmp_path)
    # Set, then unset: monkeypatch then also removes what load_dotenv puts in os.environ.
    monkeypatch.setenv("FEED_URL", "unset below")
    monkeypatch.delenv("FEED_URL")
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    settings = Settings.from_env()
    assert settings.feed_url == "http://127.0.0.1:9/feed.xml"
    assert settings.log_level == "ERROR"
