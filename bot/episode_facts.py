"""What a feed item says about its episode beyond its fields: its number, whether it is a rebroadcast,
who the guests are, and the key that matches a rebroadcast to its original.

The one home of these rules: the parser, the search engine, the database and the suggestions all ask
here, so a title means the same thing everywhere. Today they read the title (and itunes:episode);
feed tags such as podcast:person come in beside it here.
"""

from __future__ import annotations

import re

from bot.text import fold

# "Episode 53:", "(Ep. 90)", "ep 12", "Ep90", "episode #4": the number marker in a title.
_NUMBER_MARKER = re.compile(r"\b(?:episode|ep)\.?\s*[#:]?\s*(\d{1,6})(?!\d)\s*:?", re.IGNORECASE)
# "#12", "(#12)", but not "C#" or "&#12".
_HASH_NUMBER = re.compile(r"(?<![\w#&])#\s?(\d{1,6})(?!\d)")
# "[RB]", "(RB)", "(Rebroadcast)", "[rebroadcast from 2018]", "[Re-broadcast]": a bracketed marker.
_REBROADCAST_MARKER = re.compile(
    r"[\[(]\s*RB\s*[\])]|[\[(][^\[\]()]*\bre-?broadcast(?:ed)?\b[^\[\]()]*[\])]", re.IGNORECASE
)
_NON_ALNUM = re.compile(r"[\W_]+")
_WORD = re.compile(r"[^\W_]+")


def episode_number(itunes_episode: str | None, title: str) -> int | None:
    """itunes:episode when it is a positive integer, else "Episode 53:", "(Ep. 90)", "#12" in the title."""
    if itunes_episode is not None:
        value = itunes_episode.strip()
        if value.isascii() and value.isdigit() and 0 < int(value) < 1_000_000:
            return int(value)
    match = _NUMBER_MARKER.search(title) or _HASH_NUMBER.search(title)
    if match is None or int(match.group(1)) == 0:
        return None
    return int(match.group(1))


def is_rebroadcast(title: str) -> bool:
    """Whether the title marks a repeat: [RB], (RB), (Rebroadcast), [rebroadcast from 2018]..."""
    return _REBROADCAST_MARKER.search(title) is not None


def bare_title(title: str) -> str:
    """The title without its rebroadcast marker and episode number: what names the episode itself."""
    return _HASH_NUMBER.sub(" ", _NUMBER_MARKER.sub(" ", _REBROADCAST_MARKER.sub(" ", title)))


def rebroadcast_key(title: str) -> str:
    """Equal keys, same episode: a rebroadcast's key is its original's."""
    return _NON_ALNUM.sub(" ", fold(bare_title(title))).strip()


def bare_title_folded(title: str) -> str:
    """The words a listener reads first, folded: "Episode 59: How to..." -> "how to..."."""
    return " ".join(_WORD.findall(fold(bare_title(title))))


# ---- guests -----------------------------------------------------------------------------------------

_PIECE = re.compile(r"[^\W_](?:[\w.'’-]*[^\W_])?\.?|[^\w\s]")
_TRIGGERS = frozenset({"with", "featuring", "feat", "feat.", "ft."})
_DASHES = frozenset({"–", "—", "-", ":"})
_HONORIFICS = frozenset({"dr", "dr.", "prof", "prof.", "professor", "mr", "mr.", "mrs", "mrs.", "ms", "ms."})
# Lower-case words that may sit inside a name ("Jan van der Berg").
_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "da", "di", "del", "della", "du", "la", "le", "bin"}
)
# Capitalised words of titles that are not part of a person's name: "with Markov Clustering".
_NOT_NAMES = frozenset(
    """
    the a an our my your this these those ai data science deep machine learning neural network networks
    model models artificial intelligence python tensorflow pytorch keras spark hadoop markov bayesian
    gaussian monte carlo clustering regression classification vision language processing transformers
    graph graphs
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_JOINERS = frozenset({"and", "&", ","})
_MAX_DESCRIPTOR_WORDS = 3  # "with data scientist Sebastian Raschka"
_NAME_WORDS = range(2, 5)  # a single capitalised word is usually a product: "with Videoflow"


def guests_column(title: str) -> str:
    """What the episodes table stores (and the search index weighs like the title): "A B, C D"."""
    return ", ".join(guests_in_title(title))


def guests_in_title(title: str) -> tuple[str, ...]:
    """The people a title says the episode is with, in title order, without honorifics."""
    # Markers go first: "SecML Ep. 80" would otherwise read as a two-word name.
    pieces = _PIECE.findall(bare_title(title))
    guests: list[str] = []
    for index in range(len(pieces)):
        start = _names_start(pieces, index)
        if start is not None:
            guests.extend(name for name in _names_from(pieces, start) if name not in guests)
    return tuple(guests)


def _names_start(pieces: list[str], index: int) -> int | None:
    """Where names begin when pieces[index] introduces them ("with", "(With", "w/", "Interview –")."""
    piece = pieces[index]
    following = pieces[index + 1] if index + 1 < len(pieces) else ""
    # A capitalised "With" is a title-case word ("Fun With Data"), unless it opens a parenthesis.
    if piece in _TRIGGERS or (piece == "With" and index > 0 and pieces[index - 1] == "("):
        return index + 1
    if piece.lower() == "w" and following == "/":
        return index + 2
    if piece.lower() == "interview" and following in _DASHES:
        return index + 2
    return None


def _names_from(pieces: list[str], start: int) -> list[str]:
    position = start
    descriptors = 0
    while position < len(pieces) and _is_lower_word(pieces[position]) and descriptors < _MAX_DESCRIPTOR_WORDS:
        position += 1
        descriptors += 1
    names: list[str] = []
    while True:
        while position < len(pieces) and pieces[position].lower() in _HONORIFICS:
            position += 1
        words: list[str] = []
        while position < len(pieces):
            piece = pieces[position]
            if _is_name_word(piece):
                words.append(piece.rstrip("."))
            elif not (words and piece in _PARTICLES and _next_is_name_word(pieces, position)):
                break
            else:
                words.append(piece)
            position += 1
        if len(words) not in _NAME_WORDS:
            return names
        names.append(" ".join(words))
        if position < len(pieces) and pieces[position] in _JOINERS:
            position += 1
        else:
            return names


def _is_lower_word(piece: str) -> bool:
    return piece[0].isalpha() and piece[0].islower()


def _is_name_word(piece: str) -> bool:
    word = piece.rstrip(".")
    return (
        bool(word)
        and word[0].isupper()
        and not (len(word) > 1 and word.isupper())  # acronyms: "GPU", "NLP"
        and word.lower() not in _NOT_NAMES
    )


def _next_is_name_word(pieces: list[str], position: int) -> bool:
    following = pieces[position + 1 : position + 3]
    for piece in following:
        if _is_name_word(piece):
            return True
        if piece not in _PARTICLES:
            return False
    return False
