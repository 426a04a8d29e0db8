"""Episode facts read from titles: numbers, rebroadcast markers, the rebroadcast key, guests."""

import pytest

from bot.episode_facts import (
    episode_number,
    guests_column,
    guests_in_title,
    is_rebroadcast,
    rebroadcast_key,
)


@pytest.mark.parametrize(
    ("title", "guests"),
    [
        (
            "Replicating GPT-2, the most dangerous NLP model (with Aaron Gokaslan) (Ep. 78)",
            ("Aaron Gokaslan",),
        ),
        ("Validate neural networks without data with Dr. Charles Martin (Ep. 70)", ("Charles Martin",)),
        ("Episode 7: 30 min with data scientist Sebastian Raschka", ("Sebastian Raschka",)),
        ("Founder Interview – Francesco Gadaleta of Fitchain", ("Francesco Gadaleta",)),
        (
            "Have you met Shannon? Conversation with Jimmy Soni and Rob Goodman about one of the greatest",
            ("Jimmy Soni", "Rob Goodman"),
        ),
        (
            "What if I train a neural network with random data? (with Stanisław Jastrzębski) (Ep. 87)",
            ("Stanisław Jastrzębski",),
        ),
        (
            "Episode 43: Applied Text Analysis with Python (interview with Rebecca Bilbro)",
            ("Rebecca Bilbro",),
        ),
        ("Episode 68: AI and the future of banking with Chris Skinner [RB]", ("Chris Skinner",)),
        ("Causal inference feat. Judea Pearl", ("Judea Pearl",)),
        ("Vision w/ Yann LeCun", ("Yann LeCun",)),
        ("A chat with Fei-Fei Li", ("Fei-Fei Li",)),
        ("Fairness with Cathy O'Neil", ("Cathy O'Neil",)),
        ("Dutch data with Jan van der Berg and Anna de Vries", ("Jan van der Berg", "Anna de Vries")),
        ("Interview: Cassie Kozyrkov", ("Cassie Kozyrkov",)),
        (
            "Panel with Prof. Geoffrey Hinton, Yoshua Bengio & Yann LeCun",
            ("Geoffrey Hinton", "Yoshua Bengio", "Yann LeCun"),
        ),
    ],
)
def test_guests_are_read_from_the_title(title: str, guests: tuple[str, ...]) -> None:
    assert guests_in_title(title) == guests


@pytest.mark.parametrize(
    "title",
    [
        "Attacking machine learning for fun and profit (with the authors of SecML Ep. 80)",
        "Complex video analysis made easy with Videoflow (Ep. 69)",
        "Episode 59: How to fool a smart camera with deep learning",
        "Training neural networks faster without GPU (Ep. 71)",
        "How to cluster tabular data with Markov Clustering (Ep. 73)",
        "Deep learning With Neural Networks",
        "Fun with Python",
        "with",
        "",
    ],
)
def test_titles_without_a_person_have_no_guests(title: str) -> None:
    assert guests_in_title(title) == ()


def test_guests_column_joins_the_names() -> None:
    assert guests_column("Conversation with Jimmy Soni and Rob Goodman") == "Jimmy Soni, Rob Goodman"
    assert guests_column("The graph network") == ""


@pytest.mark.parametrize(
    ("itunes_episode", "title", "number"),
    [
        ("7", "Whatever", 7),
        (" 12 ", "Episode 3: x", 12),
        ("-1", "Episode 53: Estimating uncertainty", 53),
        ("0", "Ep. 90", 90),
        ("12.5", "Nothing", None),
        (None, "Episode 53: Estimating uncertainty", 53),
        (None, "The dark side of AI (Ep. 90)", 90),
        (None, "Ep. 90 - recap", 90),
        (None, "Ep90", 90),
        (None, "Attacking machine learning (with the authors of SecML Ep. 80)", 80),
        (None, "#12 Cleaning data", 12),
        (None, "Cleaning data (#12)", 12),
        (None, "Episode 16: 2017 Predictions in Data Science", 16),
        (None, "Episode 38: Collective intelligence (Part 2)", 38),
        (None, "episode #4: lower case", 4),
        (None, "Founder Interview – Francesco Gadaleta of Fitchain", None),
        (None, "Deep learning and the 2019 review", None),
        (None, "Episodes 3 and 4 recap", None),
        (None, "C# for data science", None),
        (None, "Repeat 5 times", None),
        (None, "Episode 0: the pilot", None),
    ],
)
def test_episode_numbers(itunes_episode: str | None, title: str, number: int | None) -> None:
    assert episode_number(itunes_episode, title) == number


@pytest.mark.parametrize(
    ("title", "rebroadcast"),
    [
        ("[RB] How to generate very large images with GANs (Ep. 85)", True),
        ("Training neural networks faster without GPU [RB] (Ep. 77)", True),
        ("Something (RB)", True),
        ("More powerful deep learning with transformers (Ep. 84) (Rebroadcast)", True),
        ("Episode 47: Are you ready for AI winter? [Rebroadcast]", True),
        ("Episode 42: Attacking deep learning models (rebroadcast)", True),
        ("AI winter (rebroadcast from 2018)", True),
        ("AI winter [Re-broadcast]", True),
        ("Rebroadcasting the news with AI", False),
        ("RBF kernels explained [RBF]", False),
        ("Episode 38: Collective intelligence (Part 2)", False),
        ("Trailer", False),
    ],
)
def test_rebroadcast_markers(title: str, rebroadcast: bool) -> None:
    assert is_rebroadcast(title) is rebroadcast


def test_rebroadcast_key_ignores_markers_and_numbers() -> None:
    original = rebroadcast_key("Training neural networks faster without GPU (Ep. 71)")
    assert rebroadcast_key("Training neural networks faster without GPU [RB] (Ep. 77)") == original
    assert rebroadcast_key(
        "Episode 68: AI and the future of banking with Chris Skinner [RB]"
    ) == rebroadcast_key("Episode 62: AI and the future of banking with Chris Skinner")
    assert rebroadcast_key("More powerful deep learning with transformers (Ep. 84) (Rebroadcast)") == (
        "more powerful deep learning with transformers"
    )


@pytest.mark.parametrize(
    ("original", "rebroadcast"),
    [
        (
            "More powerful deep learning with transformers (Ep. 84)",
            "More powerful deep learning with transformers (Ep. 84) [rebroadcast from 2018]",
        ),
        ("Are you ready for AI winter? (Ep. 34)", "[Re-broadcast] Are you ready for AI winter? #47"),
        ("Episode 62: AI and the future of banking", "AI and the future of banking (Rebroadcasted, Ep. 68)"),
    ],
)
def test_every_rebroadcast_marker_the_parser_knows_is_left_out_of_the_key(
    original: str, rebroadcast: str
) -> None:
    assert is_rebroadcast(rebroadcast)
    assert not is_rebroadcast(original)
    assert rebroadcast_key(rebroadcast) == rebroadcast_key(original)
    assert guests_in_title(rebroadcast) == guests_in_title(original)
