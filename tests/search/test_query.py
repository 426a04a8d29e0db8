"""The pure parts of search: normalising text, reading a query, building FTS5 expressions."""

import pytest

from bot.search.query import Term, Vocabulary, coverage_steps, parse_query
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
    stems=[
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
    ],
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


def fts(query: str) -> list[str]:
    return [term.fts() for term in parse_query(query, VOCABULARY)]


def test_every_word_is_quoted_so_fts_syntax_is_plain_text() -> None:
    expressions = fts('title: "camera" NEAR(deep learning) AND OR NOT ^adversarial -patch *')
    assert all(expression.startswith(('"', "(")) for expression in expressions)
    assert '"near"' in expressions
    assert '"title"' in expressions


def test_the_last_word_also_matches_as_a_prefix_while_typing() -> None:
    assert fts("adversarial cam")[-1] == '("cam" OR "cam" *)'
    assert fts("adversarial cam ")[-1] == '"cam"'


def test_an_unfinished_word_the_stemmer_would_miss_gets_its_completions() -> None:
    # "optimiz*" matches no stem ("optim", "optimis"); the completed words do.
    assert fts("optimiz") == ['("optimiz" OR "optimization" OR "optimiz" *)']


def test_stop_words_are_dropped_unless_nothing_else_is_left() -> None:
    assert fts("the one about the camera ") == ['"camera"']
    assert fts("what is it ") == ['"what"', '"is"', '"it"']


def test_spelling_variants_and_folded_letters_become_alternatives() -> None:
    assert fts("optimization ") == ['("optimization" OR "optimisation")']
    assert fts("stanislaw ") == ['("stanislaw" OR "stanisław")']


def test_compounds_are_matched_written_apart_or_together() -> None:
    assert fts("gpt2 ") == ['("gpt2" OR "gpt 2")']
    assert fts("monte carlo ") == ['("monte carlo" OR "montecarlo")']
    assert fts("montecarlo ") == ['("montecarlo" OR "monte carlo")']
    assert fts("t-shirt ") == ['"t shirt"']


def test_abbreviations_match_their_expansion() -> None:
    assert fts("deep learning ") == ['("dl" OR "deep learning" OR "deeplearning")']
    assert fts("GANs ") == ['("gan" OR "generative adversarial network")']


def test_typos_are_corrected_only_once_the_stemmed_index_found_nothing() -> None:
    assert fts("adverserial ") == ['"adverserial"']
    corrected = parse_query("adverserial ", VOCABULARY, {"adverserial": 0})
    assert [term.fts() for term in corrected] == ['("adverserial" OR "adversarial")']
    # A word the stemmer knows ("replication" -> "replic") is not a typo.
    assert [term.fts() for term in parse_query("replication ", VOCABULARY, {"replication": 3})] == [
        '"replication"'
    ]


def test_long_queries_keep_their_most_selective_terms() -> None:
    terms = parse_query(
        "deep learning adversarial patch cameras gpt2 optimisation stanislaw monte ", VOCABULARY
    )
    assert len(terms) == 6
    assert "deep learning" not in {term.source for term in terms}


def term(source: str, documents: int) -> Term:
    return Term(source, ((source,),), None, documents)


def test_coverage_bands_weigh_rare_terms_above_common_ones() -> None:
    steps = coverage_steps([term("agile", 1), term("data", 70), term("science", 30)], episodes=93)
    assert steps[0].band == 1.0
    assert steps[0].expression == '("agile" AND "data" AND "science")'
    # "agile" alone carries more than half the query's weight: it reaches the 0.5 band by itself.
    half = next(step for step in steps if step.band == 0.5)
    assert '("agile")' in half.expression.split(" OR ")
    assert '("data" AND "science")' not in half.expression.split(" OR ")
    assert steps[-1].expression == '("agile") OR ("data") OR ("science")'
    assert steps[-1].most == 101
