"""Search quality over the fixture podcast: queries written the way listeners type them."""

from __future__ import annotations

from collections import defaultdict

import pytest

from bot.models import StoredEpisode
from bot.search import EpisodeSearch

# (kind, query, guids of the episodes that answer it). Rebroadcasts are folded into their
# originals, so an original's guid is expected where both exist.
QUERIES: list[tuple[str, str, tuple[str, ...]]] = [
    # Keywords
    ("keyword", "adversarial patch", ("dsh-ep-059",)),
    ("keyword", "transformers", ("dsh-ep-084",)),
    ("keyword", "markov clustering", ("dsh-ep-073",)),
    ("keyword", "imbalanced datasets", ("dsh-ep-024",)),
    ("keyword", "ensemble methods", ("dsh-ep-023",)),
    ("keyword", "sentiment analysis", ("dsh-ep-064",)),
    ("keyword", "entropy", ("dsh-ep-061",)),
    ("keyword", "waterfall vs agile", ("dsh-ep-072",)),
    ("keyword", "alzheimer", ("dsh-ep-026",)),
    ("keyword", "fraud detection", ("dsh-ep-013",)),
    ("keyword", "weather forecasting deep learning", ("dsh-ep-037",)),
    ("keyword", "image compression", ("dsh-ep-040",)),
    ("keyword", "self-supervised learning", ("dsh-ep-066",)),
    ("keyword", "claude shannon", ("dsh-ep-081",)),
    ("keyword", "gpt2 replication", ("dsh-ep-078",)),
    ("keyword", "videoflow", ("dsh-ep-069",)),
    ("keyword", "differential equations neural networks", ("dsh-ep-057",)),
    ("keyword", "bayesian vs frequentist", ("dsh-ep-008",)),
    ("keyword", "monte carlo sampling", ("dsh-ep-009",)),
    ("keyword", "proof of train blockchain", ("dsh-ep-033",)),
    ("keyword", "dark side of ai", ("dsh-ep-090", "dsh-ep-089")),
    ("keyword", "metadata", ("dsh-ep-044",)),
    ("keyword", "lifelong machine learning", ("dsh-ep-018",)),
    ("keyword", "dimensionality reduction", ("dsh-ep-012",)),
    ("keyword", "bio inspired algorithms", ("dsh-ep-003",)),
    ("keyword", "graph databases", ("dsh-ep-002",)),
    ("keyword", "2017 predictions", ("dsh-ep-016",)),
    ("keyword", "uncertainty estimation", ("dsh-ep-053",)),
    ("keyword", "ocean protocol", ("dsh-ep-051", "dsh-ep-050")),
    ("keyword", "data echoing", ("dsh-ep-071",)),
    # Paraphrases: what a listener remembers rather than the title
    ("paraphrase", "that one about the t-shirt that fools cameras", ("dsh-ep-059",)),
    ("paraphrase", "how to make gan training stable", ("dsh-ep-088",)),
    ("paraphrase", "training a neural net on random data", ("dsh-ep-087",)),
    ("paraphrase", "predicting stock prices with machine learning", ("dsh-ep-063", "dsh-ep-015")),
    ("paraphrase", "social media addiction", ("dsh-ep-089",)),
    ("paraphrase", "russian accounts manipulating twitter debates", ("dsh-ep-090",)),
    ("paraphrase", "difference between L1 and L2 regularization", ("dsh-ep-039",)),
    ("paraphrase", "why ML models fail", ("dsh-ep-045", "dsh-ep-046")),
    ("paraphrase", "generating big medical images with GANs", ("dsh-ep-076",)),
    ("paraphrase", "how do I become a data scientist", ("dsh-ep-006", "dsh-ep-025")),
    ("paraphrase", "is another ai winter coming", ("dsh-ep-034",)),
    ("paraphrase", "techstars startup accelerator", ("dsh-ep-027",)),
    ("paraphrase", "privacy of communications", ("dsh-ep-017",)),
    ("paraphrase", "book about classic computer science problems", ("dsh-ep-067",)),
    ("paraphrase", "fintech and the future of banks", ("dsh-ep-062",)),
    ("paraphrase", "deep learning illustrated book", ("dsh-ep-086",)),
    ("paraphrase", "attacks against machine learning systems", ("dsh-ep-080", "dsh-ep-035")),
    ("paraphrase", "train neural networks fast without a gpu", ("dsh-ep-071",)),
    ("paraphrase", "what is wrong with RL", ("dsh-ep-082",)),
    ("paraphrase", "the guy from disney who built a video framework", ("dsh-ep-069",)),
    ("paraphrase", "gradient descent and harmonic oscillators", ("dsh-ep-058",)),
    ("paraphrase", "symbolic ai versus connectionism", ("dsh-ep-056",)),
    ("paraphrase", "facebook vp who felt guilty about dopamine feedback loops", ("dsh-ep-089",)),
    ("paraphrase", "the one recorded while sipping coffee", ("dsh-ep-048",)),
    ("paraphrase", "predicting where I click with my mouse", ("dsh-ep-060",)),
    ("paraphrase", "can ai understand biology", ("dsh-ep-065",)),
    ("paraphrase", "mode collapse", ("dsh-ep-088",)),
    ("paraphrase", "big data on my desk", ("dsh-ep-004", "dsh-ep-002")),
    ("paraphrase", "testing practices for data scientists", ("dsh-ep-005",)),
    ("paraphrase", "sampling a representative subset of a huge dataset", ("dsh-ep-011",)),
    ("paraphrase", "alzheimer mri convolutional networks", ("dsh-ep-026",)),
    ("paraphrase", "self attention bert", ("dsh-ep-084",)),
    ("paraphrase", "reproducibility of ml pipelines", ("dsh-ep-054",)),
    ("paraphrase", "history of deep learning", ("dsh-ep-010",)),
    ("paraphrase", "hiding from surveillance with a special shirt", ("dsh-ep-059",)),
    ("paraphrase", "do neural networks generalize or just memorize", ("dsh-ep-087",)),
    ("paraphrase", "book on shannon's life", ("dsh-ep-081",)),
    ("paraphrase", "spies on social networks", ("dsh-ep-090",)),
    ("paraphrase", "like slot machines", ("dsh-ep-089",)),
    ("paraphrase", "chaos in the stock market", ("dsh-ep-015",)),
    ("paraphrase", "crypto and machine learning", ("dsh-founder-interview-francesco-gadaleta-of-fitchain",)),
    ("paraphrase", "when should I use agile for a data science project", ("dsh-ep-072",)),
    # Typos
    ("typo", "adverserial patches", ("dsh-ep-059",)),
    ("typo", "reinforcment learning", ("dsh-ep-082",)),
    ("typo", "transfomers", ("dsh-ep-084",)),
    ("typo", "alzeimer", ("dsh-ep-026",)),
    ("typo", "frequentists and baysians", ("dsh-ep-008",)),
    ("typo", "imbalaced data", ("dsh-ep-024",)),
    ("typo", "gokaslen", ("dsh-ep-078",)),
    ("typo", "markow clustering", ("dsh-ep-073",)),
    ("typo", "nueral networks with infinte layers", ("dsh-ep-057",)),
    ("typo", "entrophy in machine learning", ("dsh-ep-061",)),
    ("typo", "claude shanon", ("dsh-ep-081",)),
    ("typo", "sebastien rashka", ("dsh-ep-007",)),
    ("typo", "charls martin", ("dsh-ep-070",)),
    ("typo", "recomendation and manipulation", ("dsh-ep-090",)),
    # Episode numbers
    ("number", "episode 59", ("dsh-ep-059",)),
    ("number", "ep 84", ("dsh-ep-084",)),
    ("number", "#7", ("dsh-ep-007",)),
    ("number", "Ep. 22", ("dsh-ep-022",)),
    ("number", "59", ("dsh-ep-059",)),
    # Guests
    ("guest", "the interview with Raschka", ("dsh-ep-007",)),
    ("guest", "charles martin", ("dsh-ep-070",)),
    ("guest", "chris skinner", ("dsh-ep-062",)),
    ("guest", "jon krohn", ("dsh-ep-086",)),
    ("guest", "stanislaw jastrzebski", ("dsh-ep-087",)),
    ("guest", "rebecca bilbro", ("dsh-ep-043",)),
    ("guest", "jimmy soni", ("dsh-ep-081",)),
    ("guest", "david kopec", ("dsh-ep-067",)),
    ("guest", "Filip Piekniewski", ("dsh-ep-034",)),
    ("guest", "eliseo ferrante", ("dsh-ep-003",)),
    ("guest", "johannes castner", ("dsh-ep-038-part-1", "dsh-ep-038-part-2")),
    ("guest", "the guy from koh young research", ("dsh-ep-034",)),
    ("guest", "oliver zeigermann", ("dsh-ep-060",)),
    # British / American spellings (the query spells it the other way)
    ("spelling", "optimization strategies deep learning", ("dsh-ep-021",)),
    ("spelling", "parallelizing deep learning", ("dsh-ep-022",)),
    ("spelling", "how to scale AI in your organization", ("dsh-ep-079",)),
    ("spelling", "memorization and generalization", ("dsh-ep-087",)),
    ("spelling", "decentralised machine learning data marketplace", ("dsh-ep-050", "dsh-ep-051")),
    ("spelling", "analyze sentiment on twitter", ("dsh-ep-064",)),
    ("spelling", "bayesian modeling of uncertainty", ("dsh-ep-053",)),
    # As typed, the last word unfinished
    ("prefix", "replicat", ("dsh-ep-078",)),
    ("prefix", "markov clust", ("dsh-ep-073",)),
    ("prefix", "collective intel", ("dsh-ep-038-part-1", "dsh-ep-038-part-2")),
    ("prefix", "financial time ser", ("dsh-ep-063",)),
]


def test_the_query_set_is_large_and_every_expected_episode_exists(by_guid: dict[str, StoredEpisode]) -> None:
    assert len(QUERIES) >= 40
    assert {guid for _, _, guids in QUERIES for guid in guids} <= set(by_guid)


@pytest.mark.timeout(30)
async def test_every_keyword_query_finds_its_episode_first(
    search: EpisodeSearch, by_guid: dict[str, StoredEpisode], capsys: pytest.CaptureFixture[str]
) -> None:
    top1: dict[str, list[bool]] = defaultdict(list)
    top3: dict[str, list[bool]] = defaultdict(list)
    misses: list[str] = []
    for kind, query, expected in QUERIES:
        hits = [hit.episode.guid for hit in await search.search(query, limit=3)]
        top1[kind].append(bool(hits) and hits[0] in expected)
        top3[kind].append(any(guid in expected for guid in hits))
        if not top1[kind][-1]:
            misses.append(f"  {query!r}: expected {expected}, got {hits}")

    def rate(results: list[bool]) -> str:
        return f"{sum(results) / len(results):6.1%}"

    everything1 = [hit for results in top1.values() for hit in results]
    everything3 = [hit for results in top3.values() for hit in results]
    with capsys.disabled():
        print(
            f"\nsearch quality, {len(QUERIES)} queries: top-1 {rate(everything1)}, top-3 {rate(everything3)}"
        )
        for kind in top1:
            print(f"  {kind:<10} n={len(top1[kind]):>2}  top-1 {rate(top1[kind])}  top-3 {rate(top3[kind])}")
        print("\n".join(["not first:", *misses]) if misses else "every expected episode came first")
    assert not misses, "\n".join(misses)


@pytest.mark.parametrize(
    ("query", "accepted"),
    [
        # The questions issue 12 reported answered wrong, each with the episodes that answer it.
        ("how do I become a data analyst", ("dsh-ep-006", "dsh-ep-025", "dsh-ep-014")),
        ("which optimizer should I use adam or sgd", ("dsh-ep-020", "dsh-ep-021", "dsh-ep-058")),
        ("why do predictions need error bars", ("dsh-ep-053",)),
        ("AI in hospitals", ("dsh-ep-036", "dsh-ep-026")),
    ],
)
async def test_the_questions_once_answered_wrong_find_their_episode_first(
    search: EpisodeSearch, catalogue: list[StoredEpisode], query: str, accepted: tuple[str, ...]
) -> None:
    hits = await search.search(query, limit=3)
    assert hits[0].episode.guid in accepted
