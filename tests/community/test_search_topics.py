"""What of a query /insights keeps: nothing that looks personal, and the words folded as search folds them."""

from __future__ import annotations

import pytest

from bot.community.search_topics import looks_personal, search_topic


@pytest.mark.parametrize(
    "query",
    [
        "write to bob.smith@example.com",
        "call 555-123-4567",
        "+39 333 1234567",
        "(555) 123 4567",
        "my id 123456",
        "1234567890123456",
        "ask <@123456789012345678> about it",
        "<@!123456789012345678>",
        "the <@&987654321098765432> role",
        "posted in <#123456789012345678>",
        "@everyone gans",
        "@here",
        "https://example.com/reset?token=abc",
        "https://user:secret@example.com/",
    ],
)
def test_a_query_that_may_identify_someone_is_not_kept(query: str) -> None:
    assert looks_personal(query)
    assert search_topic(query) is None


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("Causal Inference!", "causal inference"),
        ("ep 59", "ep 59"),
        ("episode 1234", "episode 1234"),
        ("GPT-2 in 2019", "gpt 2 in 2019"),
        ("Éric's Naïve Bayes", "eric s naive bayes"),
        ("Łukasz on ＧＡＮｓ", "lukasz on gans"),  # NFKC makes full-width letters plain
        ("https://datascienceathome.com/gans", "https datascienceathome com gans"),
        ("gans@ 2019", "gans 2019"),
    ],
)
def test_a_query_is_kept_folded_as_search_folds_it(query: str, kept: str) -> None:
    assert not looks_personal(query)
    assert search_topic(query) == kept


def test_a_query_without_words_is_not_kept() -> None:
    assert search_topic("?!… ✨") is None
