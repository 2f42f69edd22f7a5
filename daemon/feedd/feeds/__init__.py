"""The feeds stage: feed bytes to entries with a stable identity, and the URL and charset rules
the other stages share.

parse_feed dispatches on the format: `json_feed` reads JSON Feed, `xml_feed` every XML format
through feedparser; `identity` keys the entries; `filters` applies a feed's include and exclude
patterns; `opml` reads and writes feed lists as OPML (loaded on first use: it needs the config
loader, which extraction workers never do)."""

from typing import TYPE_CHECKING

from feedd._lazy import lazy_exports
from feedd.feeds.charset import charset_of, choose_encoding, decode_html
from feedd.feeds.discover import COMMON_PATHS, FeedLink, announced_feeds
from feedd.feeds.filters import EntryFilter
from feedd.feeds.parse import parse_feed
from feedd.feeds.records import Entry, ParsedFeed
from feedd.feeds.urls import canonical_url, document_id, is_web_url, registrable_domain

if TYPE_CHECKING:
    from feedd.feeds.opml import OpmlFeed, OpmlList, SkippedOutline, add_to_config, read_opml, to_opml

_LAZY = {
    name: "feedd.feeds.opml"
    for name in ("OpmlFeed", "OpmlList", "SkippedOutline", "add_to_config", "read_opml", "to_opml")
}

__all__ = [
    "COMMON_PATHS",
    "Entry",
    "EntryFilter",
    "FeedLink",
    "OpmlFeed",
    "OpmlList",
    "ParsedFeed",
    "SkippedOutline",
    "add_to_config",
    "announced_feeds",
    "canonical_url",
    "charset_of",
    "choose_encoding",
    "decode_html",
    "document_id",
    "is_web_url",
    "registrable_domain",
    "parse_feed",
    "read_opml",
    "to_opml",
]


__getattr__ = lazy_exports(__name__, _LAZY)
