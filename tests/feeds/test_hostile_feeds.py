"""What a hostile or careless publisher puts in a feed: DTDs that slip past a pattern, terminal
escapes, bare GUIDs, repeated text, and more entries than a poll should take."""

from __future__ import annotations

import json
import resource
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pydantic import ValidationError

from conftest import dtd_evasions, entity_bomb
from feedd.config import FeedConfig
from feedd.errors import FeedParseError
from feedd.feeds import parse_feed

URL = "https://www.reddit.com/r/rust/.rss"

_BODY = b'<rss version="2.0"><channel><title>t</title><item><title>&a9;</title><link>http://x.example/a</link></item></channel></rss>'


def _bomb() -> bytes:
    return entity_bomb(b"rss", _BODY)


EVASIONS = {
    **dtd_evasions(b"rss", _BODY),
    # feedparser copies entity declarations out of the prolog with a pattern, comments and all.
    "an entity declaration in a comment of the prolog": b'<!-- <!ENTITY a9 "x"> -->' + _BODY,
}


@pytest.mark.parametrize("document", EVASIONS.values(), ids=EVASIONS.keys())
def test_every_dtd_evasion_is_refused_at_once(document: bytes) -> None:
    _assert_refused_at_once(document, "application/rss+xml")


def test_a_dtd_in_utf_16_named_only_by_the_content_type_is_refused() -> None:
    document = _bomb().replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16-le")
    _assert_refused_at_once(document, "application/xml; charset=utf-16le")


def _assert_refused_at_once(document: bytes, content_type: str) -> None:
    started, peak_before = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(FeedParseError, match="declares XML entities or other DTD declarations"):
        parse_feed(document, {"content-type": content_type}, URL)
    assert time.monotonic() - started < 0.5  # expanding the bomb took 0.7-1 s; refusing it takes ms
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 10 * 1024  # KiB


def test_an_internal_subset_without_entities_is_refused_and_an_external_dtd_is_not() -> None:
    with pytest.raises(FeedParseError, match="DTD"):
        parse_feed(b"<!DOCTYPE rss [<!ELEMENT rss ANY>]>" + _BODY.replace(b"&a9;", b"T"), {}, URL)
    netscape = (
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    assert parse_feed(netscape + _BODY.replace(b"&a9;", b"T"), {}, URL).entries[0].title == "T"


def _rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        + "".join(f"<item>{item}</item>" for item in items)
        + "</channel></rss>"
    ).encode()


def test_guids_are_kept_as_written_and_never_become_links() -> None:
    document = _rss(
        "<title>Bare GUID, no link</title><guid>t3_157kyrd</guid>",
        "<title>Bare GUID and a link</title><guid>t3_157kyrz</guid><link>/r/rust/comments/157kyrz/</link>",
        "<title>Permalink GUID</title><guid>https://news.example/story/1</guid>",
    )
    bare, linked, permalink = parse_feed(document, {}, URL).entries
    assert (bare.key, bare.guid, bare.link) == ("guid:t3_157kyrd", "t3_157kyrd", None)
    assert (linked.key, linked.link) == ("guid:t3_157kyrz", "https://www.reddit.com/r/rust/comments/157kyrz/")
    assert permalink.key == "guid:https://news.example/story/1"
    assert permalink.link == "https://news.example/story/1"
    # A moved feed (or a redirect) changes no key.
    moved = parse_feed(document, {}, "https://old.reddit.com/r/rust/top/.rss").entries
    assert [entry.key for entry in moved] == [bare.key, linked.key, permalink.key]


def test_atom_ids_are_kept_as_written() -> None:
    document = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>r/rust</title><entry><id>t3_157kyrd</id>'
        b'<title>A</title><link href="https://www.reddit.com/r/rust/comments/157kyrd/"/></entry></feed>'
    )
    (entry,) = parse_feed(document, {}, URL).entries
    assert entry.key == "guid:t3_157kyrd" and entry.link == "https://www.reddit.com/r/rust/comments/157kyrd/"


def test_absolute_guids_keep_the_keys_stored_before() -> None:
    # Spelled as urljoin(feed URL, GUID) wrote them when feedparser resolved every GUID.
    document = _rss(
        "<title>A</title><guid>https://news.example/a?</guid>",
        "<title>B</title><guid>http://b.example/x</guid>",
    )
    assert [entry.key for entry in parse_feed(document, {}, URL).entries] == [
        "guid:https://news.example/a",
        "guid:http://b.example/x",
    ]


def _dated(text: str, day: int) -> str:
    published = format_datetime(datetime(2025, 1, day, 9, tzinfo=UTC), usegmt=True)
    return f"<title>Markets closed</title><description>{text}</description><pubDate>{published}</pubDate>"


def test_items_with_the_same_text_on_different_days_stay_apart() -> None:
    closed = "Closed for the holiday."
    three = parse_feed(_rss(_dated(closed, 1), _dated(closed, 2), _dated(closed, 3)), {}, URL)
    assert len(three.entries) == 3 and not three.warnings
    both = parse_feed(_rss(_dated(closed, 1), _dated(closed, 2)), {}, URL)
    assert len(both.entries) == 2 and not both.warnings
    # Each key comes from the item alone: the second day's note, once the first left the feed,
    # is not taken for it.
    (first,) = parse_feed(_rss(_dated(closed, 1)), {}, URL).entries
    (second,) = parse_feed(_rss(_dated(closed, 2)), {}, URL).entries
    assert [entry.key for entry in both.entries] == [first.key, second.key] and first.key != second.key


def test_an_exact_repeat_is_reported_as_a_repeat() -> None:
    feed = parse_feed(_rss(_dated("Closed.", 1), _dated("Closed.", 1), "<title></title>"), {}, URL)
    assert len(feed.entries) == 1
    assert feed.warnings == (
        "1 entries without a link, title or text were skipped",
        "1 entries repeating an earlier entry exactly were skipped",
    )


ESC, CSI, BEL = "\x1b", "\x9b", "\x07"


def test_json_feed_controls_are_stripped() -> None:
    item = {
        "id": f"1{ESC}[2J",
        "url": f"https://news.example/{ESC}]8;;x{BEL}a",
        "title": f"{ESC}[2JHarbour{CSI}31m reopens{ESC}]0;pwned{BEL}",
        "summary": f"Ferries{ESC}[5m run{BEL}",
        "content_text": "First\r\nline\x00.\r\n\r\nSecond\x85 paragraph\tend.",
        "authors": [{"name": f"Jane{ESC}[1m Doe"}],
    }
    document = json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": f"News{ESC}[2J", "items": [item]}
    )
    feed = parse_feed(document.encode(), {"content-type": "application/feed+json"}, URL)
    (entry,) = feed.entries
    assert feed.title == "News[2J"
    assert entry.title == "[2JHarbour31m reopens]0;pwned"
    assert entry.link == "https://news.example/]8;;xa"
    assert entry.summary_html == "Ferries[5m run"
    assert entry.content_html == "<p>First\nline.</p><p>Second paragraph\tend.</p>"
    assert entry.guid == "1[2J" and entry.author == "Jane[1m Doe"


def test_xml_feed_controls_are_stripped() -> None:
    # C0 controls make feedparser fall back to its lenient parser, which keeps them; C1 ones it
    # reads as windows-1252 (a CSI becomes "›").
    document = _rss(
        f"<title>Storm{ESC}[2J warning</title><link>https://news.example/s{ESC}1</link>"
        f"<description>Rain{ESC}[31m all day{BEL}</description>"
        f"<content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
        f"&lt;p&gt;Wind too{ESC}]0;x{BEL}&lt;/p&gt;</content:encoded>"
    )
    (entry,) = parse_feed(document, {}, URL).entries
    assert entry.title == "Storm[2J warning" and entry.link == "https://news.example/s1"
    assert entry.summary_html == "Rain[31m all day" and entry.content_html == "<p>Wind too]0;x</p>"


def _numbered(count: int, *, dated: bool) -> bytes:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    items = []
    for n in range(count):
        # Dates out of document order: the newest are not simply the first ones.
        date = f"<pubDate>{format_datetime(start + timedelta(hours=(n * 7) % count), usegmt=True)}</pubDate>"
        items.append(f"<title>Story {n}</title><guid>s{n}</guid>{date if dated else ''}")
    return _rss(*items)


def test_only_the_newest_entries_are_taken() -> None:
    feed = parse_feed(_numbered(600, dated=True), {}, URL, max_entries=500)
    assert len(feed.entries) == 500
    hours = sorted(
        (entry.published - datetime(2025, 1, 1, tzinfo=UTC)) // timedelta(hours=1) for entry in feed.entries
    )
    assert hours == list(range(100, 600))  # the 100 oldest were skipped
    positions = [int(entry.guid[1:]) for entry in feed.entries]
    assert positions == sorted(positions)  # kept in document order
    assert feed.warnings == (
        "100 older entries beyond max_entries = 500 were skipped (kept those from 2025-01-05 04:00 UTC on)",
    )


def test_undated_entries_are_taken_in_document_order() -> None:
    feed = parse_feed(_numbered(30, dated=False), {}, URL, max_entries=10)
    assert [entry.guid for entry in feed.entries] == [f"s{n}" for n in range(10)]
    assert feed.warnings == ("20 older entries beyond max_entries = 10 were skipped",)


def test_max_entries_is_a_per_feed_setting() -> None:
    assert FeedConfig(url="https://news.example/feed").max_entries == 500
    assert FeedConfig(url="https://news.example/feed", max_entries=20).max_entries == 20
    with pytest.raises(ValidationError):
        FeedConfig(url="https://news.example/feed", max_entries=0)


def test_a_page_announcing_a_broken_feed_link_is_read_without_it() -> None:
    from feedd.feeds import announced_feeds

    page = (
        b'<html><head><link rel="alternate" type="application/rss+xml" href="http://[bad/feed">'
        b'<link rel="alternate" type="application/rss+xml" href="/good.xml"></head></html>'
    )
    assert [link.url for link in announced_feeds(page, "https://example.org/")] == [
        "https://example.org/good.xml"
    ]
