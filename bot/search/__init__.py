"""Episode search: whatever a listener types (words, typos, a number, a guest) -> ranked episodes."""

from bot.search.engine import EpisodeSearch, SearchHit
from bot.search.text import episode_number_in

__all__ = ["EpisodeSearch", "SearchHit", "episode_number_in"]
