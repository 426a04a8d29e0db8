"""Text from people and feeds: folding for comparison (the same word whatever its case, accents or
special letters), and what is really there to read."""

from __future__ import annotations

import re
import unicodedata

# A word as SQLite FTS5's unicode61 tokenizer sees it: letters and digits, nothing else.
WORD = re.compile(r"[^\W_]+")

# Letters unicode61's remove_diacritics leaves alone (they do not decompose), folded for matching.
_SPECIAL_LETTERS = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h"}
)


def index_form(word: str) -> str:
    """A word as the unicode61 tokenizer with remove_diacritics 2 stores it: lower case, unaccented."""
    if word.isascii():  # nothing to decompose: 30 times faster, and most text is
        return word.lower()
    decomposed = unicodedata.normalize("NFD", word.lower())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def fold(text: str) -> str:
    """Lower case, accents removed and letters like "ł", "ø", "ß" spelled in ASCII: "same word" keys."""
    return index_form(text).translate(_SPECIAL_LETTERS)


# A joiner inside emoji sequences (👩‍💻) and the emoji presentation selector: format characters
# that belong to what is shown.
_KEPT_FORMAT = frozenset("\u200d\ufe0f")
# Letters and symbols that show as nothing, a favourite of fake-blank names: read as spaces.
_BLANKS = frozenset("\u2800\u3164\u115f\u1160\uffa0")


def readable(text: str, *, lines: bool = False) -> str:
    """`text` without control and invisible format characters (zero-width spaces, direction marks,
    BOMs), tabs as spaces; line breaks kept only with `lines`. Trimmed."""
    kept = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n"):
        category = unicodedata.category(char)
        if char == "\n" and lines:
            kept.append(char)
        elif char in "\t\n" or char in _BLANKS:
            kept.append(" ")
        elif category == "Cc" or (category == "Cf" and char not in _KEPT_FORMAT):
            continue
        else:
            kept.append(char)
    return "".join(kept).strip()


def has_visible(text: str) -> bool:
    """Whether `text` shows anything: a letter, digit, punctuation mark or symbol (emoji included)."""
    return any(unicodedata.category(char)[0] in "LNPS" and char not in _BLANKS for char in text)
