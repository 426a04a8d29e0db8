"""Whatever a user types, search and autocomplete answer without raising, within the limit."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import StoredEpisode
from bot.search import EpisodeSearch

FTS5_SYNTAX = [
    '"', '""', "*", "(", ")", "NEAR", "NEAR(", "NEAR(a b, 2)", "AND", "OR", "NOT", "^", "-", "+", ":",
    "title:", "guests:", "{title description}:", "{", "}", "'", "\\", "\x00", "ep", "episode", "#", "59",
    "gpt-2", "t-shirt", "ł", "é", "ß", "İ", "\u0301", "\u200b", "🤖", "数据", " ", "\t", "\n",
]  # fmt: skip
user_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from(FTS5_SYNTAX), st.text(max_size=8)), max_size=40).map("".join),
    st.lists(st.sampled_from(FTS5_SYNTAX), max_size=30).map(" ".join),
)
EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the searches do not change the catalogue
)


@EXAMPLES
@given(query=user_text, limit=st.integers(min_value=-2, max_value=30))
async def test_search_never_raises_and_respects_the_limit(
    search: EpisodeSearch, catalogue: list[StoredEpisode], query: str, limit: int
) -> None:
    hits = await search.search(query, limit=limit)
    assert len(hits) <= max(limit, 0)
    assert len({hit.episode.id for hit in hits}) == len(hits)


@EXAMPLES
@given(query=user_text, limit=st.integers(min_value=-2, max_value=30), rebroadcasts=st.booleans())
async def test_autocomplete_never_raises_and_respects_the_limit(
    search: EpisodeSearch, catalogue: list[StoredEpisode], query: str, limit: int, rebroadcasts: bool
) -> None:
    suggested = await search.autocomplete(query, limit=limit, include_rebroadcasts=rebroadcasts)
    assert len(suggested) <= max(limit, 0)
    assert len({entry.id for entry in suggested}) == len(suggested)
