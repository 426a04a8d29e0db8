"""What of a submitted search is kept for /insights: its words folded as search folds them, and
nothing when the query looks like personal data."""

from __future__ import annotations

import re
import unicodedata

from bot.search.text import MAX_QUERY_CHARS
from bot.text import WORD, fold

# An e-mail address: something, @, a host with a dot.
_EMAIL = re.compile(r"[^\s@<>]+@[^\s@<>]+\.[^\s@<>.]+")
# Six digits or more, also split by spaces, dots, dashes or brackets: a phone number (seven digits
# and more), a Discord id, a card or account number. An episode number has at most four, a year four.
_DIGITS = re.compile(r"\+?\d(?:[\s().\-/]{0,2}\d){5,}")
# A user, role or channel mention as Discord writes it, and the two that reach everyone.
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|@(?:everyone|here)\b", re.I)
# A web address with a query string (?token=...), a fragment or a password: the parts that identify.
_PRIVATE_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S*(?:[?#]\S|:[^/\s]*@)", re.I)

_PERSONAL = (_EMAIL, _DIGITS, _MENTION, _PRIVATE_URL)


def looks_personal(query: str) -> bool:
    """Whether a query holds what may identify someone: an e-mail address, a long run of digits
    (a phone number, an id), a mention, or a URL with a query string. Such a query is not recorded."""
    text = unicodedata.normalize("NFKC", query)
    return any(pattern.search(text) for pattern in _PERSONAL)


def folded_words(query: str) -> str:
    """The query's words as search compares them: NFKC, lower case, accents gone, one space apart."""
    return " ".join(WORD.findall(fold(unicodedata.normalize("NFKC", query)[:MAX_QUERY_CHARS])))


def search_topic(query: str) -> str | None:
    """What /insights keeps of a submitted query, or None: it looks personal, or has no words."""
    if looks_personal(query):
        return None
    return folded_words(query) or None
