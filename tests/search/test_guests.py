import pytest

from bot.feed.guests import guests_column, guests_in_title


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
