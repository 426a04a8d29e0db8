"""The /episode moments answer within Discord's embed limits (resources/message.mdx, "Embed Limits"),
its matches in bold however the passage is cut."""

from __future__ import annotations

from bot.clock import utc_now
from bot.db.documents import MATCH_END, MATCH_START
from bot.documents.moments import FoundMoment
from bot.models import StoredEpisode
from bot.ui.cards import EMBED_FIELD_VALUE_LIMIT, EMBED_TOTAL_LIMIT
from bot.ui.moments import moments_embed
from tests.conftest import make_episode


def moment(number: int, title: str, snippet: str) -> FoundMoment:
    episode = make_episode(number, title=title)
    values = {name: getattr(episode, name) for name in episode.__dataclass_fields__}
    stored = StoredEpisode(**values, id=number, first_seen=utc_now())
    return FoundMoment(stored, 137.0, snippet, f"https://mcdn.podbean.com/ep{number}.mp3#t=137")


def test_five_long_moments_full_of_markdown_stay_within_the_embed_total() -> None:
    # Escaped, each * and _ doubles: 600 characters of them become 1,200.
    snippet = f"{MATCH_START}*_*{MATCH_END} " + "*_ " * 200
    moments = [moment(n, f"Episode {n}: " + "very long title " * 20, snippet) for n in range(1, 6)]
    embed = moments_embed("*_" * 60, moments)
    assert len(embed) <= EMBED_TOTAL_LIMIT
    assert all(len(field.value or "") <= EMBED_FIELD_VALUE_LIMIT for field in embed.fields)
    assert len(embed.fields) == 5


def test_a_match_the_cut_falls_in_is_still_closed() -> None:
    snippet = "words before " * 40 + MATCH_START + "the moment they talk about it " * 30 + MATCH_END
    (field,) = moments_embed("moment", [moment(1, "Episode 1: Filter bubbles", snippet)]).fields
    quote = (field.value or "").splitlines()[0]
    assert quote.count("**") == 2
    assert quote.endswith("…**")
