"""Search text normalisation: folding, British/American spellings, stop words, episode numbers."""

from __future__ import annotations

import functools
import re

MAX_QUERY_CHARS = 200

_NUMBER_QUERY = re.compile(
    r"^\s*(?:(?:episode|ep|e|no|number)\s*\.?\s*#?\s*|#\s*)?(\d{1,6})\s*[.!?]*\s*$", re.IGNORECASE
)
# A word as FTS5's unicode61 tokenizer sees it, plus the joiners that make "t-shirt", "gpt-2" one unit.
CHUNK = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*")


STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she should
    so some such than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves also really another any anything come comes coming get gets getting got
    give go goes going know like lot lots make makes making much many new say see take tell use used
    uses using want way ways well
    episode episodes ep podcast podcasts show shows one talk talks talked talking discuss discussed
    discussing listen listened heard guy someone something thing things stuff remember called find
    looking search please think
    """.split()  # noqa: SIM905 - a word list reads better as text
) | frozenset(
    # How listeners ask: question words, requests and filler that say nothing about the topic.
    """
    explain explains explained explaining tell told learn learned wonder wondering curious need needs
    needed keep keeps keeping kept hear hearing possible worth ever truly whether better best good great fine
    actually maybe perhaps kind sort type around across together similar everything everyone
    anyone somebody anybody people person guys idea ideas question questions answer
    would could should might must shall wants wanted trying try tried able
    m d s t re ve ll doesn don isn aren won didn can couldn wouldn shouldn haven hasn wasn weren
    """.split()  # noqa: SIM905
)

# British stem -> American stem, matched at the start of a word ("behaviours" -> "behaviors").
_BRITISH_AMERICAN = (
    ("colour", "color"),
    ("behaviour", "behavior"),
    ("favour", "favor"),
    ("honour", "honor"),
    ("humour", "humor"),
    ("labour", "labor"),
    ("neighbour", "neighbor"),
    ("flavour", "flavor"),
    ("harbour", "harbor"),
    ("rumour", "rumor"),
    ("vapour", "vapor"),
    ("endeavour", "endeavor"),
    ("armour", "armor"),
    ("odour", "odor"),
    ("rigour", "rigor"),
    ("tumour", "tumor"),
    ("vigour", "vigor"),
    ("centre", "center"),
    ("metre", "meter"),
    ("litre", "liter"),
    ("fibre", "fiber"),
    ("theatre", "theater"),
    ("catalogue", "catalog"),
    ("dialogue", "dialog"),
    ("analogue", "analog"),
    ("defence", "defense"),
    ("licence", "license"),
    ("offence", "offense"),
    ("programme", "program"),
    ("grey", "gray"),
    ("ageing", "aging"),
    ("judgement", "judgment"),
    ("sceptic", "skeptic"),
    ("aluminium", "aluminum"),
    ("mould", "mold"),
    ("learnt", "learned"),
)
_IZE = re.compile(r"(?<=[a-z]{3})i([sz])(e|es|ed|er|ers|ing|ation|ations|ational|able)$")
_YZE = re.compile(r"(?<=[a-z]{2})y([sz])(e|es|ed|er|ers|ing)$")
_DOUBLE_L = re.compile(r"(?<=[a-z]{3}[aeiou])(ll?)(ed|ing|er|ers)$")


# --- Text normalisation (pure) -------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def spelling_variants(word: str) -> tuple[str, ...]:
    """Other spellings of a lower-case word: British/American (-ise/-ize, -yse/-yze, -our/-or...)."""
    variants: set[str] = set()
    for pattern in (_IZE, _YZE):
        match = pattern.search(word)
        if match:
            swapped = "z" if match.group(1) == "s" else "s"
            variants.add(f"{word[: match.start()]}{word[match.start()]}{swapped}{match.group(2)}")
    match = _DOUBLE_L.search(word)
    if match:
        other = "l" if match.group(1) == "ll" else "ll"
        variants.add(f"{word[: match.start()]}{other}{match.group(2)}")
    for british, american in _BRITISH_AMERICAN:
        if word.startswith(british):
            variants.add(american + word[len(british) :])
        elif word.startswith(american):
            variants.add(british + word[len(american) :])
    variants.discard(word)
    # A tuple, not a frozenset: the cache keeps tens of thousands, and tuples of strings are left
    # out of the garbage collector's passes (a set never is).
    return tuple(sorted(variants))


def episode_number_in(query: str) -> int | None:
    """The episode number a query asks for directly: "59", "ep 59", "Ep. 59", "episode #59", "#59"."""
    match = _NUMBER_QUERY.match(query)
    return int(match.group(1)) if match else None
