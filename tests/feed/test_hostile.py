"""parse_feed on hostile and broken documents: each case has a time limit and a checked outcome."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.feed.parse import FeedParseError, parse_feed
from bot.models import Episode, ParsedFeed
from tests.feed.conftest import StartServer

pytestmark = pytest.mark.timeout(20)

ITEM = "<item><title>Episode 1</title><guid>g1</guid><description>{body}</description></item>"


def _feed(description: str, *, prolog: str = "", title: str = "Show") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}\n'
        f"<rss version='2.0'><channel><title>{title}</title>{ITEM.format(body=description)}</channel></rss>"
    )


def _strings(feed: ParsedFeed) -> list[str]:
    values: list[str] = [feed.title, feed.link or "", feed.image or ""]
    for episode in feed.episodes:
        values += [
            episode.guid,
            episode.title,
            episode.description,
            episode.link or "",
            episode.audio_url or "",
        ]
    return values


def _timed(body: bytes, base_url: str = "") -> tuple[ParsedFeed, float]:
    started = time.monotonic()
    feed = parse_feed(body, base_url)
    return feed, time.monotonic() - started


# feedparser copies "safe" internal entities into its fallback parser and expands them without limit:
# unprotected, this 90 KB document takes ~25 s and builds a 600 MB string.
AMPLIFIER = '<!DOCTYPE rss [\n<!ENTITY a "' + "A" * 60_000 + '">\n]>'
AMPLIFIED = "&a;" * 10_000
LAUGHS = (
    "<!DOCTYPE rss [\n<!ENTITY lol0 'lol'>\n"
    + "".join(f"<!ENTITY lol{i} '{f'&lol{i - 1};' * 10}'>\n" for i in range(1, 10))
    + "]>"
)


def _utf16_without_bom(text: str) -> bytes:
    return text.replace('encoding="UTF-8"', 'encoding="UTF-16BE"').encode("utf-16-be")


ENTITY_BOMBS: dict[str, Callable[[], bytes]] = {
    "amplified internal entity": lambda: _feed(AMPLIFIED, prolog=AMPLIFIER).encode(),
    "amplifier on one line": lambda: _feed(AMPLIFIED, prolog=AMPLIFIER.replace("\n", "")).encode(),
    "utf-16 with byte-order mark": lambda: _feed(AMPLIFIED, prolog=AMPLIFIER).encode("utf-16"),
    "utf-16 without byte-order mark": lambda: _utf16_without_bom(_feed(AMPLIFIED, prolog=AMPLIFIER)),
    "utf-32": lambda: _feed(AMPLIFIED, prolog=AMPLIFIER).encode("utf-32"),
    # feedparser's regexes find declarations at any line start before the root, comments included.
    "declarations inside a comment": lambda: _feed(
        AMPLIFIED, prolog="<!--\n" + AMPLIFIER.replace("[", "").replace("]", "") + "\n-->"
    ).encode(),
    "declarations inside a processing instruction": lambda: _feed(
        AMPLIFIED, prolog="<?junk\n" + AMPLIFIER.replace("[", "").replace("]", "") + "\n?>"
    ).encode(),
    "billion laughs": lambda: _feed("&lol9;", prolog=LAUGHS, title="T &lol9;").encode(),
}


@pytest.mark.parametrize("make", ENTITY_BOMBS.values(), ids=ENTITY_BOMBS.keys())
def test_entity_expansion_attacks_are_defused(make: Callable[[], bytes]) -> None:
    feed, elapsed = _timed(make())

    assert elapsed < 2
    assert feed.title.startswith("Show") or feed.title.startswith("T")
    (episode,) = feed.episodes
    assert (episode.guid, episode.title) == ("g1", "Episode 1")
    assert len(episode.description) <= 30_000
    assert "A" * 100 not in episode.description
    assert "lollol" not in episode.description + feed.title


def test_external_entity_does_not_read_local_files() -> None:
    assert "root:" in Path("/etc/passwd").read_text()  # so the check below can fail
    prolog = (
        '<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
        '<!ENTITY % pe SYSTEM "file:///etc/passwd">\n%pe;\n]>'
    )
    body = _feed("&xxe;", prolog=prolog, title="&xxe;").encode()

    feed, elapsed = _timed(body)

    assert elapsed < 2
    assert len(feed.episodes) == 1
    assert not any("root:" in value for value in _strings(feed))


async def test_external_entities_and_dtds_are_never_fetched(start_server: StartServer) -> None:
    requests: list[str] = []

    async def secret(request: web.Request) -> web.Response:
        requests.append(request.path)
        return web.Response(text='SECRET-4f1c <!ENTITY leak "SECRET-4f1c">')

    app = web.Application()
    app.router.add_get("/{name}", secret)
    server = await start_server(app)
    url = str(server.make_url("/"))
    documents = [
        _feed("&xxe;", prolog=f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "{url}entity">\n]>'),
        _feed("&leak;", prolog=f'<!DOCTYPE rss SYSTEM "{url}dtd">'),
        _feed("&leak;", prolog=f'<!DOCTYPE rss [\n<!ENTITY % ext SYSTEM "{url}pe">\n%ext;\n]>'),
        _feed("x", prolog=f'<!DOCTYPE rss PUBLIC "-//Evil//DTD//EN" "{url}public">'),
    ]

    for document in documents:
        # In a thread, so the server could answer if the parser did make a request.
        feed, elapsed = await asyncio.to_thread(_timed, document.encode())
        assert elapsed < 2
        assert len(feed.episodes) == 1
        assert not any("SECRET" in value for value in _strings(feed))
    assert requests == []


def test_50_mb_document_is_refused_at_once() -> None:
    body = b"<rss><channel><title>Big</title>" + b"<item><guid>x</guid></item>" * 1_900_000

    started = time.monotonic()
    with pytest.raises(FeedParseError, match=r"^feed larger than 20 MB$"):
        parse_feed(body)

    assert len(body) > 50_000_000
    assert time.monotonic() - started < 0.5


# The fifth item of the fixture has non-ASCII text in its title ("Stanisław Jastrzębski").
CUT_ITEM = 4


def _cut_points(feed: bytes) -> dict[str, int]:
    starts = [i for i in range(len(feed)) if feed.startswith(b"<item>", i)]
    item, end = starts[CUT_ITEM], feed.index(b"</item>", starts[CUT_ITEM])
    non_ascii = next(i for i in range(item, end) if feed[i] >= 0x80)
    return {
        "after the previous item": item,
        "inside the start tag": item + 3,
        "inside the title": feed.index(b"<title>", item) + 12,
        "inside the guid": feed.index(b"<guid", item) + 30,
        "inside the description": feed.index(b"CDATA[", item) + 500,
        "inside a multi-byte character": non_ascii + 1,
        "before the end tag": end,
        "inside the end tag": end + 3,
    }


@pytest.mark.parametrize(
    "cut",
    [
        "after the previous item",
        "inside the start tag",
        "inside the title",
        "inside the guid",
        "inside the description",
        "inside a multi-byte character",
        "before the end tag",
        "inside the end tag",
    ],
)
def test_truncated_feed_keeps_the_complete_items_before_the_cut(dsh_feed: bytes, cut: str) -> None:
    complete = parse_feed(dsh_feed)
    truncated, elapsed = _timed(dsh_feed[: _cut_points(dsh_feed)[cut]])

    assert elapsed < 2
    assert truncated.title == complete.title
    assert truncated.episodes == complete.episodes[:CUT_ITEM]


def test_feed_cut_before_the_first_item_has_a_title_and_no_episodes(dsh_feed: bytes) -> None:
    truncated = parse_feed(dsh_feed[: dsh_feed.index(b"<item>") - 20])

    assert (truncated.title, truncated.episodes) == ("Data Science at Home", ())


def test_nul_and_control_characters_are_dropped() -> None:
    body = (
        b"<?xml version='1.0' encoding='UTF-8'?>\x00<rss version='2.0'><channel><title>Sh\x00ow\x1b</title>"
        b"<item><title>Hello&#0; Wor&#x1;ld\x07</title><guid>g\x00-1</guid>"
        b"<description>line\x0b one\x0c<![CDATA[<p>para&#8;graph\x01</p>]]></description></item>"
        b"</channel></rss>"
    )

    feed, elapsed = _timed(body)

    assert elapsed < 2
    (episode,) = feed.episodes
    assert (feed.title, episode.title, episode.guid) == ("Show", "Hello World", "g-1")
    assert episode.description == "line one\n\nparagraph"
    for value in _strings(feed):
        assert not any(ord(char) < 0x20 and char != "\n" for char in value), repr(value)


VALID = _feed("<p>Notes &amp; more</p>").encode()


def test_carriage_returns_and_tabs_inside_a_guid_become_plain_line_ends_and_spaces() -> None:
    feed = parse_feed(VALID.replace(b"<guid>", b"<guid>g\r1\t", 1))

    assert feed.episodes[0].guid.startswith("g\n1 ")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_a_feed_or_a_parse_error(body: bytes) -> None:
    _assert_total(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_feeds_give_a_feed_or_a_parse_error(data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(VALID)))
    insert = data.draw(
        st.binary(max_size=40) | st.sampled_from([b"<!DOCTYPE", b"]]>", b"<![CDATA[", b"&#0;"])
    )
    keep = data.draw(st.integers(0, len(VALID)))
    _assert_total((VALID[:position] + insert + VALID[position:])[:keep])


def _assert_total(body: bytes) -> None:
    feed: ParsedFeed | None = None
    message = ""
    try:
        feed = parse_feed(body)
    except FeedParseError as error:
        message = str(error)
    if feed is None:
        assert message
        return
    assert all(isinstance(episode, Episode) and episode.guid for episode in feed.episodes)
    for value in _strings(feed):
        assert not any(ord(char) < 0x20 and char != "\n" for char in value), repr(value)
