"""The pure parts of search: normalising text, reading a query, weighing its terms."""

import numpy as np
import pytest

from bot.search.english import is_english, phrase_weight, word_weight
from bot.search.query import Term, Vocabulary, parse_query
from bot.search.ranking import coverage_band, rarity
from bot.search.text import episode_number_in, spelling_variants
from bot.text import fold, index_form

VOCABULARY = Vocabulary(
    {
        "optimisation": 3,
        "optimization": 2,
        "gpt": 2,
        "2": 9,
        "replicating": 1,
        "stanisław": 1,
        "deep": 40,
        "learning": 80,
        "deeplearning": 2,
        "monte": 1,
        "carlo": 1,
        "montecarlo": 1,
        "adversarial": 4,
        "patch": 1,
        "patches": 1,
        "camera": 3,
        "cameras": 2,
    },
    sorted_stems=sorted(
        [
            "optim",
            "optimis",
            "gpt",
            "2",
            "replic",
            "stanisław",
            "deep",
            "learn",
            "deeplearn",
            "adversari",
            "camera",
        ]
    ),
)


@pytest.mark.parametrize(
    ("query", "number"),
    [
        ("59", 59),
        ("ep 59", 59),
        ("Ep. 59", 59),
        ("episode 59", 59),
        ("Episode #59", 59),
        ("#59", 59),
        ("ep59", 59),
        ("  #7 ", 7),
        ("no. 12", 12),
        ("59?", 59),
    ],
)
def test_episode_number_queries(query: str, number: int) -> None:
    assert episode_number_in(query) == number


@pytest.mark.parametrize("query", ["59 camera", "episode", "gpt2", "2017 predictions", "ep -5", "", "5.5"])
def test_text_is_not_an_episode_number(query: str) -> None:
    assert episode_number_in(query) is None


def test_folding_removes_accents_and_spells_special_letters_in_ascii() -> None:
    assert fold("Stanisław Jastrzębski") == "stanislaw jastrzebski"
    assert fold("Øresund STRAßE") == "oresund strasse"
    # The FTS tokenizer keeps "ł" (it does not decompose): index_form mirrors it.
    assert index_form("Stanisław Jastrzębski") == "stanisław jastrzebski"


@pytest.mark.parametrize(
    ("word", "variant"),
    [
        ("optimisation", "optimization"),
        ("optimization", "optimisation"),
        ("parallelising", "parallelizing"),
        ("analyse", "analyze"),
        ("analyzed", "analysed"),
        ("colour", "color"),
        ("behaviours", "behaviors"),
        ("favorite", "favourite"),
        ("centre", "center"),
        ("modelling", "modeling"),
        ("labeled", "labelled"),
        ("catalog", "catalogue"),
    ],
)
def test_british_and_american_spellings_are_variants_of_each_other(word: str, variant: str) -> None:
    assert variant in spelling_variants(word)


@pytest.mark.parametrize("word", ["analysis", "rise", "wise", "filled", "learning"])
def test_words_without_another_spelling_have_no_variant_that_is_a_real_word(word: str) -> None:
    assert not set(spelling_variants(word)) & {"analyzis", "rize", "wize", "filed", "learnning"}


def names(term: Term) -> str:
    """A term's alternatives, a prefix marked with a star: "(a OR b OR c*)"."""
    parts = [" ".join(phrase) for phrase in term.alternatives]
    if term.prefix is not None:
        parts.append(" ".join(term.prefix) + "*")
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


def fts(query: str) -> list[str]:
    return [names(term) for term in parse_query(query, VOCABULARY)]


def test_search_syntax_is_read_as_plain_words() -> None:
    terms = parse_query('title: "camera" NEAR(deep learning) AND OR NOT ^adversarial -patch *', VOCABULARY)
    assert {"title", "camera", "near", "adversarial", "patch"} <= {
        word for term in terms for word in term.source.split()
    }
    assert all(word.isalnum() for term in terms for phrase in term.alternatives for word in phrase)


def test_the_last_word_also_matches_as_a_prefix_while_typing() -> None:
    assert fts("adversarial cam")[-1] == "(cam OR cam*)"
    assert fts("adversarial cam ")[-1] == "cam"


def test_an_unfinished_word_the_stemmer_would_miss_gets_its_completions() -> None:
    # "optimiz*" matches no stem ("optim", "optimis"); the completed words do.
    assert fts("optimiz") == ["(optimiz OR optimization OR optimiz*)"]


def test_stop_words_are_dropped_unless_nothing_else_is_left() -> None:
    assert fts("the one about the camera ") == ["camera"]
    assert fts("what is it ") == ["what", "is", "it"]


def test_spelling_variants_and_folded_letters_become_alternatives() -> None:
    assert fts("optimization ") == ["(optimization OR optimisation)"]
    assert fts("stanislaw ") == ["(stanislaw OR stanisław)"]


def test_compounds_are_matched_written_apart_or_together() -> None:
    assert fts("gpt2 ") == ["(gpt2 OR gpt 2)"]
    assert fts("monte carlo ") == ["(monte carlo OR montecarlo)"]
    assert fts("montecarlo ") == ["(montecarlo OR monte carlo)"]
    assert fts("t-shirt ") == ["t shirt"]


def test_abbreviations_match_their_expansion() -> None:
    assert fts("deep learning ") == ["(dl OR deep learning OR deeplearning)"]
    assert fts("GANs ") == ["(gan OR generative adversarial network)"]


def test_typos_are_corrected_only_once_the_stemmed_index_found_nothing() -> None:
    assert fts("adverserial ") == ["adverserial"]
    corrected = parse_query("adverserial ", VOCABULARY, {"adverserial": 0})
    assert [names(term) for term in corrected] == ["(adverserial OR adversarial)"]
    # A word the stemmer knows ("replication" -> "replic") is not a typo.
    assert [names(term) for term in parse_query("replication ", VOCABULARY, {"replication": 3})] == [
        "replication"
    ]


def test_an_english_word_the_catalogue_lacks_is_not_a_typo_of_one_it_has() -> None:
    vocabulary = Vocabulary({"patients": 3, "cars": 2, "network": 5}, [])
    # "payments" and "card" are words; "netwrok" is not.
    terms = parse_query("payments card netwrok ", vocabulary, {"payments": 0, "card": 0, "netwrok": 0})
    assert [names(term) for term in terms] == ["payments", "card", "(netwrok OR network)"]


def test_a_shortened_word_the_catalogue_lacks_means_the_words_it_begins() -> None:
    vocabulary = Vocabulary({"bayesian": 3, "bayesians": 1, "bases": 4, "frequentist": 2, "free": 9}, [])
    # "bayes" and "freq" begin the catalogue's words: shortenings, not misspellings of "bases", "free".
    terms = parse_query("freq or bayes ", vocabulary, {"freq": 0, "bayes": 0})
    assert [names(term) for term in terms] == ["(freq OR frequentist)", "(bayes OR bayesian OR bayesians)"]


def test_everyday_english_words_weigh_less_than_the_fields() -> None:
    assert word_weight("made") < word_weight("picture") < word_weight("overfitting") == 1.0
    assert word_weight("gradient") > 0.7
    assert phrase_weight(["neural", "network"]) == word_weight("neural")
    assert is_english("stolen")
    assert not is_english("adverserial")


def test_long_queries_keep_their_most_selective_terms() -> None:
    terms = parse_query(
        "deep learning adversarial patch cameras gpt2 optimisation stanislaw monte ", VOCABULARY
    )
    assert len(terms) == 6
    assert "deep learning" not in {term.source for term in terms}


def test_coverage_bands_weigh_rare_terms_above_common_ones() -> None:
    # "agile" is in 1 episode of 93, "data" in 70, "science" in 30.
    rarities = np.array([rarity(1, 93), rarity(70, 93), rarity(30, 93)])
    agile, data, science = rarities
    bands = coverage_band(np.array([agile + data + science, agile, data + science, data]), rarities)
    assert bands[0] == 1.0
    # "agile" alone carries more than half the query's weight; "data science" without it, a quarter.
    assert bands[1] == 0.5
    assert bands[2] == 0.25
    assert bands[3] == 0.0  # any term at all: the lowest band
