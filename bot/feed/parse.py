"""Turn a feed document into a ParsedFeed: a typed, hardened adapter around feedparser."""

from __future__ import annotations

import calendar
import codecs
import io
import logging
import math
import re
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from bot.episode_facts import episode_number, is_rebroadcast
from bot.feed.podcast_tags import ItemTags, items_podcast_tags
from bot.models import NO_TAGS, Episode, ParsedFeed
from bot.text import has_visible

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 20_000_000


# The title of an item that has none (RSS requires only a title or a description).
UNTITLED = "Untitled episode"


class FeedParseError(Exception):
    """The document cannot be read as a podcast feed; the message says why in a few words."""


def parse_feed(body: bytes, base_url: str = "", *, max_bytes: int = MAX_FEED_BYTES) -> ParsedFeed:
    """Parse a feed document; relative links resolve against ``base_url``, guids never do."""
    if len(body) > max_bytes:
        raise FeedParseError(f"feed larger than {max_bytes / 1_000_000:g} MB")
    if not body.translate(None, _CONTROL_BYTES).strip():
        raise FeedParseError("empty document")
    document = sanitise_document(body)
    if not document.strip():
        raise FeedParseError("not a feed")  # not even one element: text, JSON, binary
    # No Content-Location: feedparser would resolve permalink guids against it, and a guid must
    # not change when the feed moves. Links are resolved below instead.
    # Nor sanitising: every HTML value becomes plain text below (html_to_text), scripts and all dropped.
    result = feedparser.parse(io.BytesIO(document), resolve_relative_uris=False, sanitize_html=False)
    feed = _get(result, "feed")
    entries = _mappings(_get(result, "entries"))
    if not _get(result, "version") and not entries:
        raise FeedParseError("not a feed")
    if _get(result, "bozo") and entries and _last_item_unterminated(document):
        # A cut-off document: the loose parser still reports the item it was in the middle of.
        entries.pop()
    title = _plain_line(_get(feed, "title_detail"), _get(feed, "title"))
    if not entries and not title:
        raise FeedParseError("no feed title and no items")
    is_atom = str(_get(result, "version")).startswith("atom")
    podcast_tags = None if is_atom else items_podcast_tags(document, base_url)
    if podcast_tags is not None and len(podcast_tags) != len(entries):
        podcast_tags = None  # items feedparser saw that expat did not: no way to pair them up
    episodes = tuple(
        episode
        for index, entry in enumerate(entries)
        if (episode := _episode(entry, base_url, is_atom, podcast_tags[index] if podcast_tags else None))
        is not None
    )
    return ParsedFeed(
        title=title,
        link=_resolved(base_url, _string(_get(feed, "link"))),
        image=_resolved(base_url, _href(_get(feed, "image"))),
        episodes=episodes,
        new_feed_url=_http_url(_resolved(base_url, _string(_get(feed, "itunes_new-feed-url")))),
    )


# --- Document sanitising -------------------------------------------------------------------------
#
# feedparser copies the internal DTD's entity declarations into its fallback (sgmllib) parser and
# expands them there without limit: a 90 KB document can grow to gigabytes. Nothing a podcast feed
# needs lives in a DTD, so everything between the XML declaration and the root element goes.

_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_DECLARATION = re.compile(rb"\A\s*<\?xml(?P<body>[^>]{0,500}?)\?>")
_DECLARED_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_PROLOG_TOKEN = re.compile(rb"<(?:!--|\?|!|[A-Za-z0-9_:])")
_DECLARATION_TOKEN = re.compile(rb"""["'\[\]>]|<!--|<\?""")
_ASCII_PROBE = bytes(range(0x20, 0x7F))
# (signature, codec): byte-order marks first, then how "<" or "<?" looks without one (XML 1.0 App. F).
_TRANSCODED = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x4c\x6f\xa7\x94", "cp037"),
)


def sanitise_document(body: bytes) -> bytes:
    """Return the document as ASCII-compatible bytes without DTD, prolog clutter or C0 controls."""
    data, encoding = _ascii_compatible(body)
    data = data.translate(None, _CONTROL_BYTES)
    declaration = _XML_DECLARATION.match(data)
    start = 0
    if declaration is not None:
        start = declaration.end()
        if encoding is None:
            declared = _DECLARED_ENCODING.search(declaration.group("body"))
            encoding = declared.group(1).decode("ascii") if declared else None
            if encoding is not None and not _is_ascii_compatible(encoding):
                encoding = None
    if encoding is not None and codecs.lookup(encoding).name == "utf-8":
        # One bad byte (say, a download cut mid-character) would otherwise make feedparser read the
        # whole document as windows-1252.
        data = _valid_utf8(data)
    root = _root_element_start(data, start)
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>\n' if encoding else ""
    return prolog.encode("ascii") + data[root:]


def _ascii_compatible(body: bytes) -> tuple[bytes, str | None]:
    """Transcode UTF-16/32 and EBCDIC to UTF-8 so the markup can be scanned byte by byte."""
    for signature, codec in _TRANSCODED:
        if body.startswith(signature):
            # The codecs with an explicit byte order keep a BOM as U+FEFF.
            text = body.decode(codec, errors="replace").lstrip("\ufeff")
            return text.encode("utf-8", errors="replace"), "utf-8"
    return body, None


def _valid_utf8(data: bytes) -> bytes:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace").encode("utf-8")
    return data


def _is_ascii_compatible(encoding: str) -> bool:
    try:
        return _ASCII_PROBE.decode(encoding) == _ASCII_PROBE.decode("ascii")
    except (LookupError, UnicodeDecodeError):
        return False


def _root_element_start(data: bytes, pos: int) -> int:
    """Skip comments, processing instructions and declarations (with any internal subset)."""
    while True:
        token = _PROLOG_TOKEN.search(data, pos)
        if token is None:
            return len(data)
        kind = token.group()
        if kind == b"<!--":
            pos = _after(data, b"-->", token.end())
        elif kind == b"<?":
            pos = _after(data, b"?>", token.end())
        elif kind == b"<!":
            pos = _declaration_end(data, token.end())
        else:
            return token.start()


def _declaration_end(data: bytes, pos: int) -> int:
    depth = 0
    while True:
        token = _DECLARATION_TOKEN.search(data, pos)
        if token is None:
            return len(data)
        kind = token.group()
        if kind in (b'"', b"'"):
            pos = _after(data, kind, token.end())
        elif kind == b"<!--":
            pos = _after(data, b"-->", token.end())
        elif kind == b"<?":
            pos = _after(data, b"?>", token.end())
        elif kind == b"[":
            depth, pos = depth + 1, token.end()
        elif kind == b"]":
            depth, pos = max(depth - 1, 0), token.end()
        elif depth == 0:
            return token.end()
        else:
            pos = token.end()


def _after(data: bytes, terminator: bytes, pos: int) -> int:
    end = data.find(terminator, pos)
    return len(data) if end < 0 else end + len(terminator)


_ITEM_TAG = re.compile(rb"<(/?)(?:[A-Za-z0-9_.-]+:)?(?:item|entry)\b[^<>]*?(/?)>", re.IGNORECASE)


def _last_item_unterminated(document: bytes) -> bool:
    last: re.Match[bytes] | None = None
    for last in _ITEM_TAG.finditer(document):  # noqa: B007 - only the last tag matters
        pass
    return last is not None and not last.group(1) and not last.group(2)


# --- Items ---------------------------------------------------------------------------------------


def _episode(
    entry: dict[str, Any], base_url: str, is_atom: bool, item_tags: ItemTags | None
) -> Episode | None:
    raw_audio = _audio_href(entry)
    raw_link = _atom_link(entry) if is_atom else _string(_get(entry, "link"))
    guid = _string(_get(entry, "id")) or raw_link or raw_audio
    if not guid:
        return None
    title = _plain_line(_get(entry, "title_detail"), _get(entry, "title")) or _clean(
        _string(_get(entry, "itunes_title")) or ""
    )
    number = episode_number(
        _string(_get(entry, "itunes_episode")) or (item_tags.episode if item_tags else None), title
    )
    if not has_visible(title):
        # RSS needs a title or a description, not both; Discord needs a name for every suggestion,
        # menu option and thread.
        title = UNTITLED if number is None else f"Episode {number}"
    return Episode(
        guid=guid,
        title=title,
        number=number,
        published=_published(entry),
        duration_seconds=parse_duration(_string(_get(entry, "itunes_duration"))),
        audio_url=_resolved(base_url, raw_audio),
        link=_resolved(base_url, raw_link),
        description=_description(entry),
        image=_resolved(base_url, _href(_get(entry, "image"))),
        rebroadcast=is_rebroadcast(title),
        tags=item_tags.tags if item_tags else NO_TAGS,
    )


def _atom_link(entry: dict[str, Any]) -> str | None:
    # Not entry["link"]: feedparser treats an Atom <id> like an RSS permalink guid, and an id is
    # never a link.
    for link in _mappings(_get(entry, "links")):
        if (_string(_get(link, "rel")) or "alternate") == "alternate" and _string(_get(link, "href")):
            return _string(_get(link, "href"))
    return None


def _audio_href(entry: dict[str, Any]) -> str | None:
    enclosures = [
        link
        for link in _mappings(_get(entry, "links"))
        if _get(link, "rel") == "enclosure" and _string(_get(link, "href"))
    ]
    for enclosure in enclosures:
        if (_string(_get(enclosure, "type")) or "").lower().startswith("audio/"):
            return _string(_get(enclosure, "href"))
    for media in _mappings(_get(entry, "media_content")):
        is_audio = (_string(_get(media, "type")) or "").lower().startswith("audio/") or (
            _string(_get(media, "medium")) or ""
        ).lower() == "audio"
        if is_audio and _string(_get(media, "url")):
            return _string(_get(media, "url"))
    return _string(_get(enclosures[0], "href")) if enclosures else None


_DURATION_PART = re.compile(r"\d+", re.ASCII)
_DURATION_LAST_PART = re.compile(r"\d*(?:[.,]\d+)?", re.ASCII)


def parse_duration(value: str | None) -> int | None:
    """Seconds from itunes:duration: "1233", "1233.5", "MM:SS", "H:MM:SS"; None when unusable."""
    if value is None:
        return None
    parts = [part.strip() for part in value.strip().split(":")]
    if not 1 <= len(parts) <= 3 or not parts[-1] or not _DURATION_LAST_PART.fullmatch(parts[-1]):
        return None
    if not all(_DURATION_PART.fullmatch(part) for part in parts[:-1]):
        return None
    numbers = [float(part) for part in parts[:-1]] + [float(parts[-1].replace(",", "."))]
    if any(number >= 60 for number in numbers[1:]):
        return None  # "1:75" is not a time; only the leading unit may overflow ("90:00")
    seconds = sum(number * 60**power for power, number in enumerate(reversed(numbers)))
    rounded = math.floor(seconds + 0.5)
    return rounded if rounded > 0 else None


def _published(entry: dict[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = _get(entry, key)
        if isinstance(parsed, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, OSError, ValueError):
                continue
    return None


def _description(entry: dict[str, Any]) -> str:
    candidates = [*_mappings(_get(entry, "content")), *_mappings([_get(entry, "summary_detail")])]
    subtitle = _string(_get(entry, "subtitle")) or ""
    # The richest wins: content:encoded usually, but some feeds put the full notes in <description>.
    # Judged by the text outside the tags, so that only the winner's HTML is cleaned.
    richest = max(candidates, key=_text_length, default=None)
    if richest is None or _text_length(richest) < len(subtitle):
        return _clean_block(subtitle)
    return _detail_text(richest)


_TAG = re.compile(r"<[^>]*>")


def _text_length(detail: dict[str, Any]) -> int:
    value = _string(_get(detail, "value")) or ""
    if (_string(_get(detail, "type")) or "text/html") in ("text/plain", "text"):
        return len(value)
    return len(_TAG.sub("", value))


# --- Text ----------------------------------------------------------------------------------------

_BREAK_TAGS = {"br": 1, "div": 1, "li": 1, "tr": 1, "dt": 1, "dd": 1, "figcaption": 1, "hr": 2}
_PARAGRAPH_TAGS = {
    "p", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table",
    "section", "article", "header", "footer", "figure", "aside", "nav", "address",
}  # fmt: skip
_HIDDEN_TAGS = {"script", "style", "head", "template", "noscript", "iframe", "object", "svg"}
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2007\u202f\u3000]+")
_INVISIBLE = re.compile("[\u200b\ufeff]")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    """Collects text runs and line breaks from HTML; knows nothing about whitespace rules."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[str | int] = []  # text, or a break: 1 = new line, 2 = new paragraph
        self.saw_block = False
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag in _PARAGRAPH_TAGS or tag in _BREAK_TAGS:
            self.saw_block = True
            self.events.append(2 if tag in _PARAGRAPH_TAGS else _BREAK_TAGS[tag])
            if tag == "li":
                self.events.append("• ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HIDDEN_TAGS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth = max(self._hidden_depth - 1, 0)
        elif tag in _PARAGRAPH_TAGS:
            self.events.append(2)
        elif tag in _BREAK_TAGS and tag != "br":
            self.events.append(1)

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.events.append(data)


def html_to_text(markup: str) -> str:
    """Plain text from HTML: block elements become line breaks, list items "• ", whitespace tidied."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    pieces: list[str] = []
    pending_break = 0
    for event in extractor.events:
        if isinstance(event, int):
            pending_break = max(pending_break, event)
            continue
        # In real HTML a newline is just a space; markup without any block tag is plain text
        # that happens to contain an entity or inline tag, so its newlines are kept.
        text = event.replace("\r\n", "\n").replace("\r", "\n")
        if extractor.saw_block:
            text = re.sub(r"\s+", " ", text)
        if not text.strip():
            if pieces and not pending_break:
                pieces.append(" ")
            continue
        if pending_break and pieces:
            pieces.append("\n" * pending_break)
        pending_break = 0
        pieces.append(text)
    return _clean_block("".join(pieces))


def _clean_block(text: str) -> str:
    text = _INVISIBLE.sub("", _CONTROL_CHARS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _clean(text: str) -> str:
    return " ".join(_INVISIBLE.sub("", _CONTROL_CHARS.sub("", text)).split())


def _detail_text(detail: dict[str, Any]) -> str:
    value = _string(_get(detail, "value")) or ""
    if (_string(_get(detail, "type")) or "text/html") in ("text/plain", "text"):
        return _clean_block(value)
    return html_to_text(value)


def _plain_line(detail: object, fallback: object) -> str:
    if isinstance(detail, dict):
        return _clean(_detail_text(detail))
    return _clean(_string(fallback) or "")


# --- Untyped feedparser values -------------------------------------------------------------------


def _get(mapping: object, key: str) -> Any:
    # dict.get, not FeedParserDict.get: that one maps missing keys to others ("updated_parsed" to
    # "published_parsed", with a DeprecationWarning) and invents keys such as "enclosures".
    return dict.get(mapping, key) if isinstance(mapping, dict) else None


def _string(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    # Line ends as "\n" and tabs as spaces, like every other text: a guid such as "g\r1" must not
    # carry a carriage return into a message or a database key.
    unified = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    cleaned = _CONTROL_CHARS.sub("", unified).strip()
    return cleaned or None


def _href(value: object) -> str | None:
    return _string(_get(value, "href"))


def _mappings(value: object) -> list[dict[str, Any]]:
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, dict)]
    return []


def _http_url(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL a feed could live at, else None."""
    if url is None:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _resolved(base_url: str, url: str | None) -> str | None:
    if url is None:
        return None
    try:
        return urljoin(base_url, url) if base_url else url
    except ValueError:
        log.debug("Cannot resolve %r against %r", url, base_url)
        return url


__all__ = [
    "MAX_FEED_BYTES",
    "FeedParseError",
    "html_to_text",
    "parse_duration",
    "parse_feed",
    "sanitise_document",
]
