"""How common a word is in English at large, from wordfreq's word list (its data ships with the
package: nothing is fetched at run time).

In a catalogue of a hundred episodes "made", "part" or "decide" are as rare as "gan": counted in the
catalogue alone, a question's everyday words weigh as much as the field's words that say what the
listener is after. Everyday English weighs less.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

COMMON_ZIPF = 7.0  # "the", "and": a word this common (or more) weighs EVERYDAY_WEIGHT
RARE_ZIPF = 3.0  # "continual", "quant": this rare (or absent from the list) weighs 1
EVERYDAY_WEIGHT = 0.4


@functools.cache
def _zipf() -> dict[str, float]:
    """Word -> Zipf frequency (log10 of uses per billion words) of wordfreq's short English list, the
    words used at least once per million (about 29,000): rarer ones count as rare.
    """
    import wordfreq  # 0.2 s of loading here: done once, off the event loop (see warm_up)

    frequencies = wordfreq.get_frequency_dict("en", wordlist="small")
    return {word: math.log10(frequency * 1e9) for word, frequency in frequencies.items()}


def warm_up() -> None:
    """Loads the word list (0.2 s here): called from a worker thread before the first search."""
    _zipf()


def is_english(word: str) -> bool:
    """Whether a word (lower case) is used at least once per million English words: not a typo."""
    return word in _zipf()


def word_weight(word: str) -> float:
    """1 for a word rare in English, down to EVERYDAY_WEIGHT for the most common ones."""
    zipf = _zipf().get(word, 0.0)
    share = (min(max(zipf, RARE_ZIPF), COMMON_ZIPF) - RARE_ZIPF) / (COMMON_ZIPF - RARE_ZIPF)
    return 1.0 - share * (1.0 - EVERYDAY_WEIGHT)


def phrase_weight(words: Iterable[str]) -> float:
    """A name is as telling as its least common word ("stock market", "neural network")."""
    return max((word_weight(word) for word in words), default=1.0)
