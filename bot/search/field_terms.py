"""The field's vocabulary (vocabulary.json): abbreviations, synonyms and near concepts, with sources."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from bot.search.text import spelling_variants
from bot.text import WORD

Phrase = tuple[str, ...]
KINDS = frozenset({"abbreviation", "synonym", "narrower"})
_SUFFIXES = re.compile(r"(?<=[a-z]{3})(?:s|ing|ed|ation|ations)$")


@dataclass(frozen=True, slots=True)
class TermGroup:
    """Names the field uses for one concept, and where that is written down."""

    kind: str  # abbreviation: the same thing; synonym: near concepts; narrower: the first, broad,
    # name also means the others ("artificial intelligence": "machine learning"), not the reverse
    terms: tuple[Phrase, ...]
    source: str
    entry: str


@functools.lru_cache(maxsize=65536)  # every query word, at every search
def match_key(word: str) -> str:
    """A word's form for matching against the vocabulary: one spelling, no plural or -ing/-ed ending."""
    spellings = sorted({word, *spelling_variants(word)})
    base = spellings[-1]  # "-ize" after "-ise": one spelling whichever was typed
    if base.endswith("ies") and len(base) > 4:
        return base[:-3] + "y"
    if base.endswith(("ss", "us", "is")):
        return base
    stripped = _SUFFIXES.sub("", base)
    # A verb's final e goes with its endings: "penalize" as "penalizing", "sample" as "sampling".
    if len(stripped) >= 5 and stripped[-1] == "e" and stripped[-2] not in "aeiou":
        return stripped[:-1]
    return stripped


def phrase_key(phrase: Sequence[str]) -> Phrase:
    return tuple(match_key(word) for word in phrase)


@dataclass(frozen=True, slots=True)
class Meaning:
    """What a name means: the names of the same thing (abbreviation, expansion, its own spellings)
    and the field's other names for that concept (synonyms, near concepts), which rank just below.
    """

    same: tuple[Phrase, ...]
    related: tuple[Phrase, ...]
    several: bool  # more than one name for the same thing, its spellings aside


@dataclass(frozen=True, slots=True)
class FieldTerms:
    """Every group, and an index from the matching form of each name to the names it also means."""

    groups: tuple[TermGroup, ...]
    sources: Mapping[str, str]
    phrases: tuple[Phrase, ...]  # every name of several words, in each spelling
    _by_first_word: Mapping[str, tuple[tuple[Phrase, Meaning], ...]]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> FieldTerms:
        sources = {str(key): str(value) for key, value in document["sources"].items()}
        groups = tuple(
            TermGroup(
                kind=str(group["kind"]),
                terms=tuple(tuple(WORD.findall(term.lower())) for term in group["terms"]),
                source=str(group["source"]),
                entry=str(group["entry"]),
            )
            for group in document["groups"]
        )
        same: dict[Phrase, dict[Phrase, None]] = {}
        named: dict[Phrase, set[Phrase]] = {}  # the same names, spellings aside
        related: dict[Phrase, dict[Phrase, None]] = {}
        for group in groups:
            spelled = [spelling for term in group.terms for spelling in _spellings(term)]
            for term in group.terms:
                key = phrase_key(term)
                if group.kind == "abbreviation":
                    same.setdefault(key, {}).update(dict.fromkeys(spelled))
                    named.setdefault(key, set()).update(group.terms)
                elif group.kind == "narrower":
                    if term == group.terms[0]:
                        related.setdefault(key, {}).update(dict.fromkeys(spelled))
                else:
                    related.setdefault(key, {}).update(dict.fromkeys(spelled))
                same.setdefault(key, {}).update(dict.fromkeys(_spellings(term)))
                named.setdefault(key, set()).add(term)
        by_first_word: dict[str, list[tuple[Phrase, Meaning]]] = {}
        for key, names in same.items():
            # An abbreviation is its expansion: it has the expansion's synonyms too ("ga" those of
            # "genetic algorithm").
            wider = {
                name: None for same_name in named[key] for name in related.get(phrase_key(same_name), {})
            }
            others = tuple(name for name in {**related.get(key, {}), **wider} if name not in names)
            meaning = Meaning(tuple(names), others, len(named[key]) > 1)
            by_first_word.setdefault(key[0], []).append((key, meaning))
        return cls(
            groups=groups,
            sources=sources,
            phrases=tuple(
                {
                    name: None
                    for spelled in (*same.values(), *related.values())
                    for name in spelled
                    if len(name) > 1
                }
            ),
            _by_first_word={
                word: tuple(sorted(candidates, key=lambda candidate: -len(candidate[0])))
                for word, candidates in by_first_word.items()
            },
        )

    def meaning_at(self, words: Sequence[str], position: int) -> tuple[int, Meaning] | None:
        """The longest name starting at words[position]: how many words it spans, and what it means."""
        candidates = self._by_first_word.get(match_key(words[position]), ())
        for key, names in candidates:
            span = words[position : position + len(key)]
            if len(span) == len(key) and phrase_key(span) == key:
                return len(key), names
        return None


def _spellings(phrase: Phrase) -> list[Phrase]:
    """The phrase and its British or American spellings ("organization", "organisation")."""
    spelled = [phrase]
    for position, word in enumerate(phrase):
        spelled.extend(
            (*phrase[:position], variant, *phrase[position + 1 :]) for variant in spelling_variants(word)
        )
    return spelled


@functools.cache
def field_terms() -> FieldTerms:
    """The vocabulary shipped with the bot (package data), read once."""
    text = resources.files("bot.search").joinpath("vocabulary.json").read_text(encoding="utf-8")
    return FieldTerms.from_document(json.loads(text))
