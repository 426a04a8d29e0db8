"""The SQLite store: the connection and one repository per table group. All SQL lives here."""

from bot.db.bot_state import BotStateRepository
from bot.db.connection import Database
from bot.db.episodes import EpisodeRepository, UpsertResult
from bot.db.feeds import FeedRepository, FeedState

__all__ = [
    "BotStateRepository",
    "Database",
    "EpisodeRepository",
    "FeedRepository",
    "FeedState",
    "UpsertResult",
]
