"""Feed bytes to a ParsedFeed: JSON Feed by its own reader, every XML format by feedparser."""

from __future__ import annotations

from collections.abc import Mapping

from feedd.feeds.json_feed import parse_json_feed
from feedd.feeds.records import ParsedFeed
from feedd.feeds.xml_feed import parse_xml_feed


def parse_feed(
    content: bytes, headers: Mapping[str, str], url: str, *, max_entries: int | None = None
) -> ParsedFeed:
    """Parse a feed document fetched from `url` (its final URL, for relative links): RSS 0.9x,
    1.0, 2.0, Atom 0.3, 1.0 (feedparser) or JSON Feed 1.0, 1.1. With `max_entries`, only that
    many of the newest entries are kept (a warning says how many were skipped).

    CPU-bound (a 10k-entry feed takes over a second): callers on an event loop run it in a
    thread."""
    if _is_json(content, headers.get("content-type", "")):
        return parse_json_feed(content, url, max_entries=max_entries)
    return parse_xml_feed(content, headers, url, max_entries=max_entries)


def _is_json(content: bytes, content_type: str) -> bool:
    if "json" in content_type.lower():
        return True
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"
