"""RSS 0.9x, 1.0 (RDF), 2.0 and Atom 0.3, 1.0 through feedparser: tolerant of broken feeds,
explicit about it, and refusing entity declarations."""

from __future__ import annotations

import calendar
import codecs
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser

from feedd.errors import FeedParseError
from feedd.feeds.charset import charset_of, choose_encoding
from feedd.feeds.identity import feed_from_items
from feedd.feeds.records import FeedItem, ParsedFeed, collapse_space
from feedd.feeds.urls import is_web_url

_XML_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
#: Byte-order marks and the UTF-16/32 spellings of "<": feedparser reads those right itself.
_SELF_DESCRIBING_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00", b"\x00<", b"<\x00")
# Entity declarations are how billion-laughs and XXE payloads arrive; news feeds never need them.
_ENTITY_DECLARATION = re.compile(rb"<!DOCTYPE[^>\[]*\[[^\]]*<!ENTITY", re.IGNORECASE | re.DOTALL)

_SY_PERIODS = {
    "hourly": 3600.0,
    "daily": 86400.0,
    "weekly": 7 * 86400.0,
    "monthly": 30 * 86400.0,
    "yearly": 365 * 86400.0,
}


def parse_xml_feed(content: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """An XML feed fetched from `url` (its final URL, for relative links)."""
    if _ENTITY_DECLARATION.search(content[:65536]):
        raise FeedParseError("feed declares XML entities (entity-expansion or XXE risk); refused")
    parsed = run_feedparser(content, headers, url)
    warnings: list[str] = []
    if parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        warnings.append(f"malformed feed, parsed leniently: {reason}")
    if not parsed.entries:
        version = parsed.get("version") or ""
        if not version:
            kind = "not a feed (no RSS or Atom root element)"
        else:
            kind = f"feed ({version}) has no entries"
        detail = f": {parsed.get('bozo_exception')}" if parsed.get("bozo") else ""
        raise FeedParseError(kind + detail)
    items = [_item_from_feedparser(raw, url) for raw in parsed.entries]
    ttl, update_period = _feed_hints(parsed.feed)
    title = collapse_space(parsed.feed.get("title")) or None
    return feed_from_items(title, items, warnings, ttl, update_period)


def run_feedparser(content: bytes, headers: Mapping[str, str], url: str) -> feedparser.FeedParserDict:
    """feedparser's reading of an XML feed, exactly as the parse stage gets it."""
    # Without a Content-Type feedparser flags any HTTP response as bozo; application/xml lets
    # the XML declaration name the encoding, which is what a server that sends nothing means.
    content_type = headers.get("content-type") or "application/xml"
    if not content.isascii() and not content.startswith(_SELF_DESCRIBING_MARKS):
        # Servers often send a charset the document is not in, and feedparser believes them.
        declaration = _XML_ENCODING.match(content)
        declared = [charset_of(content_type), declaration.group(1).decode() if declaration else None]
        encoding = choose_encoding(content, declared)
        # None: no declaration reads as text; feedparser's own fallbacks do as well as a guess.
        if encoding and encoding != _codec_name(next((label for label in declared if label), "utf-8")):
            content_type = f"{content_type.split(';')[0].strip()}; charset={encoding}"
    response_headers = {"content-location": url, "content-type": content_type}
    # Never feedparser.parse(url): it would fetch with no timeout. Always bytes.
    return feedparser.parse(content, response_headers=response_headers, sanitize_html=True)


def _codec_name(label: str) -> str | None:
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _feed_hints(channel: feedparser.FeedParserDict) -> tuple[float | None, float | None]:
    ttl = None
    if str(channel.get("ttl", "")).strip().isdigit():
        ttl = int(str(channel["ttl"]).strip()) * 60.0
    period = _SY_PERIODS.get(str(channel.get("sy_updateperiod", "")).strip().lower())
    frequency = str(channel.get("sy_updatefrequency", "1")).strip()
    update = period / int(frequency) if period and frequency.isdigit() and int(frequency) > 0 else None
    return ttl, update


def _item_from_feedparser(raw: feedparser.FeedParserDict, feed_url: str) -> FeedItem:
    return FeedItem(
        guid=collapse_space(raw.get("id")) or None,
        link=_link(raw, feed_url),
        title=collapse_space(raw.get("title")),
        summary=raw.get("summary") or "",
        content=max((c.get("value") or "" for c in raw.get("content") or ()), key=len, default=""),
        published=_published(raw),
        author=collapse_space(raw.get("author")) or None,
    )


def _link(raw: feedparser.FeedParserDict, feed_url: str) -> str | None:
    candidates = [raw.get("link")]
    candidates += [
        link.get("href") for link in raw.get("links") or () if link.get("rel") in (None, "alternate")
    ]
    # Some feeds put the permalink only in a permalink GUID.
    if raw.get("guidislink"):
        candidates.append(raw.get("id"))
    for candidate in candidates:
        if candidate and isinstance(candidate, str):
            try:
                absolute = urljoin(feed_url, candidate.strip())
            except ValueError:
                continue
            if is_web_url(absolute):
                return absolute
    return None


def _published(raw: feedparser.FeedParserDict) -> datetime | None:
    for field in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: FeedParserDict.get maps updated_parsed to published_parsed with a warning.
        value = dict.get(raw, field)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None
