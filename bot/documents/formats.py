"""Read transcripts (WebVTT, SRT, Podcasting 2.0 JSON, HTML, plain text) and JSON chapters into
typed records. Pure functions: they run in the parser worker, under its time and memory limits."""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any

from bot.feed.parse import FeedParseError, html_to_text

MAX_DOCUMENT_BYTES = 5_000_000
# Cues are grouped into moments of about this long: a listener jumps to a passage, not a sentence.
MOMENT_SECONDS = 45.0
_MAX_MOMENT_CHARACTERS = 2_000
_MAX_CHAPTERS = 500
_MAX_TITLE = 200

_CUE_TIMES = re.compile(
    r"(?P<start>(?:\d{1,3}:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<end>(?:\d{1,3}:)?\d{1,2}:\d{2}[.,]\d{1,3})"
)
_TAG = re.compile(r"<[^>]*>")
_SPEAKER = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_HTML_TIME = re.compile(r"<time>\s*((?:\d{1,3}:)?\d{1,2}:\d{2}(?:[.,]\d+)?)\s*</time>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)


@dataclass(frozen=True, slots=True)
class Moment:
    """A passage of a transcript: where it starts (None: the transcript has no times) and its words."""

    start_seconds: float | None
    text: str


@dataclass(frozen=True, slots=True)
class Chapter:
    start_seconds: float
    title: str
    url: str | None = None


def parse_transcript(body: bytes, _base_url: str = "") -> tuple[Moment, ...]:
    """The transcript's moments, whatever its format: told by its content, since hosts often serve
    every format as text/plain or application/octet-stream."""
    text = _decoded(body)
    stripped = text.lstrip()
    if stripped.startswith("WEBVTT") or _CUE_TIMES.search(text[:4000]):
        cues = _timed_cues(text)
    elif stripped.startswith("{"):
        cues = _json_cues(text)
    elif _HTML_TIME.search(text):
        cues = _html_cues(text)
    elif stripped.startswith("<"):
        return _untimed(html_to_text(text))
    else:
        return _untimed(text)
    if not cues:
        raise FeedParseError("no transcript text found")
    return _grouped(cues)


def parse_chapters(body: bytes, _base_url: str = "") -> tuple[Chapter, ...]:
    """The chapters of a JSON chapters file (application/json+chapters), in time order; chapters
    marked `"toc": false` are not part of the table of contents and are left out."""
    document = _json(_decoded(body))
    entries = document.get("chapters") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise FeedParseError("not a chapters file")
    chapters = []
    for entry in entries[:_MAX_CHAPTERS]:
        if not isinstance(entry, dict) or entry.get("toc") is False:
            continue
        start, title = _number(entry.get("startTime")), _clean(entry.get("title"))
        if start is None or not title:
            continue
        url = entry.get("url")
        link = url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
        chapters.append(Chapter(start, title[:_MAX_TITLE], link))
    return tuple(sorted(chapters, key=lambda chapter: chapter.start_seconds))


# ---- formats ------------------------------------------------------------------------------------


def _timed_cues(text: str) -> list[tuple[float, str]]:
    """WebVTT and SRT alike: a line of times starts a cue, the lines after it up to a blank are text."""
    cues: list[tuple[float, str]] = []
    start: float | None = None
    lines: list[str] = []
    for line in text.splitlines():
        times = _CUE_TIMES.search(line)
        if times is not None:
            _flush(cues, start, lines)
            start, lines = _clock_seconds(times.group("start")), []
        elif not line.strip():
            _flush(cues, start, lines)
            start, lines = None, []
        elif start is not None:
            lines.append(_SPEAKER.sub(r"\1: ", line))
    _flush(cues, start, lines)
    return cues


def _flush(cues: list[tuple[float, str]], start: float | None, lines: list[str]) -> None:
    words = _clean(html_to_text(" ".join(lines))) if lines else ""
    if start is not None and words:
        cues.append((start, words))


def _json_cues(text: str) -> list[tuple[float, str]]:
    document = _json(text)
    segments = document.get("segments") if isinstance(document, dict) else None
    if not isinstance(segments, list):
        raise FeedParseError("not a JSON transcript")
    cues = []
    for segment in segments:
        if isinstance(segment, dict):
            start, words = _number(segment.get("startTime")), _clean(segment.get("body"))
            if start is not None and words:
                cues.append((start, words))
    return cues


def _html_cues(text: str) -> list[tuple[float, str]]:
    """The namespace's HTML transcript: <cite>speaker</cite> <time>0:53</time> <p>text</p>."""
    cues = []
    pieces = _HTML_TIME.split(text)
    # split() alternates: text before the first time, then (time, text after it) pairs.
    for time_text, after in zip(pieces[1::2], pieces[2::2], strict=True):
        words = _clean(html_to_text(re.sub(r"<cite>.*?</cite>", " ", after, flags=re.DOTALL)))
        if words:
            cues.append((_clock_seconds(time_text), words))
    return cues


def _untimed(text: str) -> tuple[Moment, ...]:
    """Plain text has no times: its moments are runs of words of about a moment's length."""
    words = _clean(text).split(" ")
    size = 120  # about 45 s of speech
    moments = tuple(
        Moment(None, " ".join(words[index : index + size])) for index in range(0, len(words), size)
    )
    if not moments or not moments[0].text:
        raise FeedParseError("no transcript text found")
    return moments


def _grouped(cues: list[tuple[float, str]]) -> tuple[Moment, ...]:
    moments: list[Moment] = []
    start: float | None = None
    parts: list[str] = []
    length = 0
    for cue_start, words in sorted(cues, key=lambda cue: cue[0]):
        if start is not None and (
            cue_start - start >= MOMENT_SECONDS or length + len(words) > _MAX_MOMENT_CHARACTERS
        ):
            moments.append(Moment(start, " ".join(parts)))
            start, parts, length = None, [], 0
        if start is None:
            start = cue_start
        parts.append(words)
        length += len(words) + 1
    if start is not None:
        moments.append(Moment(start, " ".join(parts)))
    return tuple(moments)


# ---- values -------------------------------------------------------------------------------------


def _decoded(body: bytes) -> str:
    if len(body) > MAX_DOCUMENT_BYTES:
        raise FeedParseError(f"document larger than {MAX_DOCUMENT_BYTES / 1_000_000:g} MB")
    for bom, codec in _BYTE_ORDER_MARKS:
        if body.startswith(bom):
            return _CONTROL_CHARS.sub("", body[len(bom) :].decode(codec, errors="replace"))
    return _CONTROL_CHARS.sub("", body.decode("utf-8", errors="replace"))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise FeedParseError("not valid JSON") from error


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value < 1_000_000 else None


def _clean(value: object) -> str:
    return _SPACES.sub(" ", value).strip() if isinstance(value, str) else ""


def _clock_seconds(text: str) -> float:
    """ "01:02:03.500", "02:03,5" or "2:03" as seconds."""
    seconds = 0.0
    for part in text.replace(",", ".").split(":"):
        seconds = seconds * 60 + float(part)
    return seconds
