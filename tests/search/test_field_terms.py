"""The field's vocabulary: well formed, every group sourced, and it bridges the gaps listeners hit."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from bot.search.field_terms import KINDS, field_terms, match_key
from bot.search.query import Vocabulary, parse_query
from bot.text import WORD


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    text = resources.files("bot.search").joinpath("vocabulary.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_every_group_has_a_kind_a_known_source_an_entry_and_two_names(document: dict[str, Any]) -> None:
    assert len(document["groups"]) >= 50
    for group in document["groups"]:
        assert set(group) == {"kind", "source", "entry", "terms"}, group
        assert group["kind"] in KINDS, group
        assert group["source"] in document["sources"], group
        assert group["entry"].strip(), group
        assert len(group["terms"]) >= 2, group


def test_names_are_lower_case_words_without_punctuation_and_not_repeated(document: dict[str, Any]) -> None:
    for group in document["groups"]:
        for term in group["terms"]:
            assert term == " ".join(WORD.findall(term.lower())), term
        assert len(set(group["terms"])) == len(group["terms"]), group


def test_every_source_is_cited_and_used(document: dict[str, Any]) -> None:
    used = {group["source"] for group in document["groups"]}
    assert used == set(document["sources"])
    assert all(len(citation) > 20 for citation in document["sources"].values())


@pytest.mark.parametrize(
    ("typed", "other"),
    [
        ("error bars", "uncertainty"),
        ("hospitals", "medicine"),
        ("data analyst", "data scientist"),
        ("gan", "generative adversarial network"),
        ("nlp", "natural language processing"),
        ("rl", "reinforcement learning"),
        ("opinion mining", "sentiment analysis"),
        ("dementia", "alzheimer"),
        ("grouping", "clustering"),
        ("graphics card", "gpu"),
        ("sgd", "stochastic gradient descent"),
        ("adam", "optimizer"),
        ("company", "organisation"),
        ("pca", "dimensionality reduction"),
        ("lifelong learning", "continual learning"),
        ("unlabeled data", "unsupervised learning"),
        ("hyperparameters", "grid search"),
        ("hadoop", "big data"),
        ("discriminator", "generator"),
        ("p value", "hypothesis testing"),
        ("saliency map", "explainability"),
        ("evasion attack", "data poisoning"),
        ("differentially private", "homomorphic encryption"),
        ("gdpr", "data protection law"),
        ("stocks", "stock market"),
        ("claude shannon", "entropy"),
        ("mlp", "multilayer perceptron"),
        ("bagging", "bootstrap aggregating"),
        ("forecasting", "prediction"),
        ("beginners", "novice"),
        ("career", "job"),
        ("pitfalls", "danger"),
        ("ant colonies", "swarm intelligence"),
        ("scaling out", "distributed computing"),
        ("minimizer", "optimization"),
        ("explainable", "interpretability"),
        ("data about data", "metadata"),
        ("tdd", "test driven development"),
        ("tdd", "unit testing"),
        ("degree of belief", "frequentist"),
        ("storm", "weather"),
        ("browser", "tensorflow js"),
        ("netflix", "recommender system"),
        ("positive or negative", "sentiment analysis"),
    ],
)
def test_a_name_means_its_other_names(typed: str, other: str) -> None:
    words = typed.split()
    found = field_terms().meaning_at(words, 0)
    assert found is not None
    length, meaning = found
    assert length == len(words)
    assert tuple(other.split()) in (*meaning.same, *meaning.related)


def test_no_name_is_an_abbreviation_of_two_different_things(document: dict[str, Any]) -> None:
    owner: dict[tuple[str, ...], str] = {}
    for group in document["groups"]:
        if group["kind"] != "abbreviation":
            continue
        for term in group["terms"]:
            key = tuple(match_key(word) for word in WORD.findall(term))
            assert owner.setdefault(key, group["entry"]) == group["entry"], (term, owner[key], group["entry"])


def test_plurals_and_british_spellings_find_the_same_name() -> None:
    assert match_key("hospitals") == match_key("hospital")
    assert match_key("clustering") == match_key("clusters")
    assert match_key("penalising") == match_key("penalizing")
    assert field_terms().meaning_at(["error", "bars"], 0) is not None


def test_a_verb_and_its_endings_find_the_same_name() -> None:
    # The vocabulary writes "penalize" and "sample"; listeners write "penalising" and "sampling".
    assert match_key("penalising") == match_key("penalize") == match_key("penalized")
    assert match_key("sampling") == match_key("sample") == match_key("samples")
    assert match_key("processes") == match_key("process")
    assert match_key("scaling") == match_key("scale")
    assert field_terms().meaning_at(["penalising"], 0) is not None


def test_abbreviations_are_the_same_term_and_synonyms_only_widen_it() -> None:
    vocabulary = Vocabulary({}, [])
    [gan] = parse_query("GANs", vocabulary)
    assert ("generative", "adversarial", "network") in gan.alternatives
    [hospital] = parse_query("hospitals ", vocabulary)
    assert hospital.alternatives[0] == ("hospitals",)
    assert ("medicine",) in hospital.related
    assert ("medicine",) not in hospital.alternatives


def test_a_name_of_several_words_is_one_term_with_its_synonyms() -> None:
    # "continual learning" is one thing: "learning" alone would match every episode.
    vocabulary = Vocabulary({"continual": 1, "learning": 50, "lifelong": 1, "chaos": 2}, [])
    terms = parse_query("continual learning chaos", vocabulary)
    assert [term.source for term in terms] == ["continual learning", "chaos"]
    assert terms[0].alternatives == (("continual", "learning"),)
    assert ("lifelong", "learning") in terms[0].related


def test_a_name_the_catalogue_has_under_none_of_its_names_is_read_word_by_word() -> None:
    terms = parse_query("stock market chaos", Vocabulary({"market": 3, "chaos": 2}, []))
    assert [term.source for term in terms] == ["stock", "market", "chaos"]


def test_words_joined_by_a_hyphen_that_never_stand_together_are_read_one_by_one() -> None:
    vocabulary = Vocabulary({"trained": 5, "genetic": 1, "algorithm": 1, "t": 1, "shirt": 1}, [])
    # The stemmed index found "GA-trained" nowhere as a phrase, and "t-shirt" in one episode.
    stemmed = {"ga trained": 0, "t shirt": 1}
    terms = parse_query("GA-trained models in a t-shirt", vocabulary, stemmed)
    assert [term.source for term in terms] == ["ga", "trained", "models", "t shirt"]
    assert ("genetic", "algorithm") in terms[0].alternatives


def test_a_broad_name_also_means_its_narrower_names_not_the_reverse() -> None:
    # "AI in hospitals": an episode on machine learning and medicine answers it.
    vocabulary = Vocabulary({"machine": 5, "learning": 9}, [])
    [ai] = parse_query("AI", vocabulary)
    assert ("machine", "learning") in ai.related
    [machine_learning] = parse_query("machine learning", vocabulary)
    assert ("artificial", "intelligence") not in (*machine_learning.alternatives, *machine_learning.related)


def test_the_plural_of_an_abbreviation_means_the_abbreviation() -> None:
    vocabulary = Vocabulary({}, [])
    for typed, expansion in (("GPUs", "graphics processing unit"), ("NNs", "neural network")):
        [term] = parse_query(typed, vocabulary)
        assert tuple(expansion.split()) in term.alternatives
    # An English word is not taken for a plural: "gas" is not "GA" (genetic algorithm).
    [gas] = parse_query("gas", vocabulary)
    assert gas.alternatives == (("gas",),)


def test_an_abbreviation_has_the_synonyms_of_its_expansion() -> None:
    [ga] = parse_query("GA", Vocabulary({}, []))
    assert ("genetic", "algorithm") in ga.alternatives
    assert ("evolutionary", "algorithm") in ga.related


def test_question_words_and_contractions_are_not_terms() -> None:
    terms = parse_query("I'd like to know: can you explain why it doesn't converge?", Vocabulary({}, []))
    assert [term.source for term in terms] == ["converge"]
