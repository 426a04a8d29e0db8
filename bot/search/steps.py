"""Work done in a worker thread in small steps, so that the event loop, which shares the GIL with it,
never waits long: a single C call (a big sort, freeing a big container) holds the GIL throughout.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

SWITCH_INTERVAL = 0.001  # seconds such work runs before it hands the GIL over (Python's default: 0.005)
RELEASED_AT_ONCE = 1000  # items of a list or dict that release_in_steps takes out in one step
SPLIT_AT_ONCE = 20_000  # characters split_in_steps splits in one call (a few thousand words)


class ProcessSetting:
    """A process-wide setting changed while any piece of work that asks for it runs: changed when
    the first starts, put back when the last ends (builds and releases overlap, in their threads).
    """

    def __init__(self, change: Callable[[], Callable[[], object]]) -> None:
        self._change = change  # changes the setting and returns what puts it back
        self._lock = threading.Lock()
        self._running = 0
        self._put_back: Callable[[], object] = lambda: None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._put_back = self._change()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._put_back()


def _switch_often() -> Callable[[], object]:
    usual = sys.getswitchinterval()
    sys.setswitchinterval(min(usual, SWITCH_INTERVAL))
    return lambda: sys.setswitchinterval(usual)


# Shortens the interpreter's switch interval while such work runs in a thread: the event loop,
# waking up, waits that long for the thread to hand over the GIL (at 50,000 episodes the loop's worst
# lag during an edit's rebuild went from 24-34 ms to about 12 ms, medians of 7).
switching_often = ProcessSetting(_switch_often).held


def sorted_in_steps(items: Iterable[T], key: Callable[[T], str] = str) -> list[T]:
    """sorted(items, key=key) for string keys, one sort per first two letters: a single sort of a
    hundred thousand items holds the GIL (and so the event loop) for tens of milliseconds.
    """
    by_start: dict[str, list[T]] = {}
    for item in items:
        by_start.setdefault(key(item)[:2], []).append(item)
    ordered: list[T] = []
    for start in sorted(by_start):
        ordered.extend(sorted(by_start[start], key=key))
    return ordered


def split_in_steps(text: str) -> Iterator[str]:
    """text.split(" "), SPLIT_AT_ONCE characters or so per call: splitting the 52,000 words a catalogue
    of 50,000 episodes has under one letter (numbers, mostly) held the GIL for 4 ms a call.
    """
    start = 0
    while start < len(text):
        end = text.find(" ", start + SPLIT_AT_ONCE)
        if end == -1:
            end = len(text)
        yield from text[start:end].split(" ")
        start = end + 1


def release_in_steps(objects: list[object], settle: Callable[[], object] = lambda: None) -> None:
    """Drops `objects`, freeing what only they hold a few objects at a time.

    Dropping a container at once is one call that holds the GIL while it frees everything in it: for
    a view of 50,000 episodes 50-90 ms, the event loop waiting. Here every object this owns alone is
    taken apart first, its parts freed one by one: the GIL changes hands between them. A list or a
    dict is emptied RELEASED_AT_ONCE items at a time: listing the 91,000 words of a vocabulary in
    one call was seen taking up to 32 ms. `settle` runs first: it waits for whoever may still use the
    objects (then this thread, not the event loop, drops the last reference). `objects` is emptied.
    """
    settle()
    pending = list(objects)
    objects.clear()
    with switching_often():
        while pending:
            item = pending.pop()
            # 2: `item` and getrefcount's argument; any more, and something else keeps it alive.
            if sys.getrefcount(item) == 2:
                pending.extend(_parts(item))
            del item


def _parts(item: object) -> list[object]:
    """What `item` holds, to free next; a big list or dict gives a slice and comes back for more."""
    if isinstance(item, list) and len(item) > RELEASED_AT_ONCE:
        some = item[-RELEASED_AT_ONCE:]
        del item[-RELEASED_AT_ONCE:]
        return [item, *some]  # popped last to first: these items, then the rest of the list
    if isinstance(item, dict) and 2 * len(item) > RELEASED_AT_ONCE:  # a key and a value per entry
        some = [part for _ in range(RELEASED_AT_ONCE // 2) for part in item.popitem()]
        return [item, *some]
    return gc.get_referents(item)
