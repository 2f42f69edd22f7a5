"""RSS 0.9x, 1.0 (RDF), 2.0 and Atom 0.3, 1.0 through feedparser: tolerant of broken feeds,
explicit about it, and refusing entity declarations."""

from __future__ import annotations

import calendar
import codecs
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8

from feedd.errors import FeedParseError
from feedd.feeds.charset import charset_of, choose_encoding
from feedd.feeds.dtd import declares_dtd
from feedd.feeds.identity import feed_from_items
from feedd.feeds.records import FeedItem, ParsedFeed, collapse_space, without_controls
from feedd.feeds.urls import is_web_url

_XML_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
#: Byte-order marks and the UTF-16/32 spellings of "<": feedparser reads those right itself.
_SELF_DESCRIBING_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00", b"\x00<", b"<\x00")

_SY_PERIODS = {
    "hourly": 3600.0,
    "daily": 86400.0,
    "weekly": 7 * 86400.0,
    "monthly": 30 * 86400.0,
    "yearly": 365 * 86400.0,
}


def parse_xml_feed(
    content: bytes, headers: Mapping[str, str], url: str, *, max_entries: int | None = None
) -> ParsedFeed:
    """An XML feed fetched from `url` (its final URL, for relative links)."""
    feedparser_headers = _feedparser_headers(content, headers)
    # Judged on the UTF-8 text feedparser itself makes of the bytes, so that no encoding (a
    # UTF-16 body, a charset header overriding the declaration) reads differently here and there.
    if declares_dtd(convert_to_utf8(feedparser_headers, content, {})):
        raise FeedParseError(
            "feed declares XML entities or other DTD declarations (entity-expansion or XXE risk); refused"
        )
    parsed = _feedparser(content, feedparser_headers)
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
    return feed_from_items(title, items, warnings, ttl, update_period, max_entries=max_entries)


def run_feedparser(content: bytes, headers: Mapping[str, str], url: str) -> feedparser.FeedParserDict:
    """feedparser's reading of an XML feed, exactly as the parse stage gets it (`url` is not
    feedparser's business: see _feedparser)."""
    return _feedparser(content, _feedparser_headers(content, headers))


def _feedparser(content: bytes, headers: dict[str, str]) -> feedparser.FeedParserDict:
    # No Content-Location: feedparser would resolve every permalink GUID against it ("t3_x" to
    # "https://host/r/feed/t3_x"), so that a moved feed changed every key; entry links are
    # resolved against the feed's URL here instead (_link), and the text of summaries and
    # content does not depend on where their links point.
    # Never feedparser.parse(url): it would fetch with no timeout. Always bytes.
    return feedparser.parse(content, response_headers=headers, sanitize_html=True)


def _feedparser_headers(content: bytes, headers: Mapping[str, str]) -> dict[str, str]:
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
    return {"content-type": content_type}


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
        guid=_guid(raw, feed_url),
        link=_link(raw, feed_url),
        title=collapse_space(raw.get("title")),
        summary=without_controls(raw.get("summary")),
        content=max(
            (without_controls(c.get("value")) for c in raw.get("content") or ()), key=len, default=""
        ),
        published=_published(raw),
        author=collapse_space(raw.get("author")) or None,
    )


def _guid(raw: feedparser.FeedParserDict, feed_url: str) -> str | None:
    """The GUID as the feed writes it. An absolute one is spelled as urljoin writes it, as feedd
    stored it when feedparser still resolved GUIDs against the feed's URL: keys stay as they were."""
    guid = collapse_space(raw.get("id")) or None
    if guid and _is_absolute(guid):
        try:
            return urljoin(feed_url, guid)
        except ValueError:
            return guid
    return guid


def _link(raw: feedparser.FeedParserDict, feed_url: str) -> str | None:
    guid = raw.get("id")
    # feedparser copies a permalink GUID into `link` when the item has no link of its own.
    guid_is_link = bool(raw.get("guidislink"))
    candidates = [] if guid_is_link and raw.get("link") == guid else [raw.get("link")]
    candidates += [
        link.get("href") for link in raw.get("links") or () if link.get("rel") in (None, "alternate")
    ]
    for candidate in candidates:
        if candidate and isinstance(candidate, str):
            try:
                absolute = urljoin(feed_url, without_controls(candidate).strip())
            except ValueError:
                continue
            if is_web_url(absolute):
                return absolute
    # Some feeds put the permalink only in a permalink GUID; one that is not a URL as written
    # ("t3_157kyrd") names the entry, not a page, and must not become a link by resolution.
    if guid_is_link and isinstance(guid, str) and is_web_url(guid := without_controls(guid).strip()):
        return guid
    return None


def _is_absolute(reference: str) -> bool:
    try:
        parts = urlsplit(reference)
    except ValueError:
        return False
    return bool(parts.scheme and parts.netloc)


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
