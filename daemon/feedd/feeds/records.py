"""The feeds stage's records: the Entry and ParsedFeed it hands on, and the FeedItem each format's
reader produces before identity is decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed item, with a `key` that identifies it within its feed across polls."""

    key: str
    guid: str | None
    link: str | None
    #: The link, canonicalised; None when there is no link or other entries of the feed share it.
    canonical_link: str | None
    title: str
    published: datetime | None
    summary_html: str
    content_html: str
    author: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    entries: tuple[Entry, ...]
    #: Problems that did not stop parsing (feedparser's bozo reason, dropped items).
    warnings: tuple[str, ...]
    #: How often the feed says it changes, in seconds: RSS <ttl>, sy:updatePeriod/Frequency.
    ttl: float | None = None
    update_period: float | None = None


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry as a feed format gives it, before feedd decides its identity."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str
    published: datetime | None
    author: str | None


#: C0 and C1 controls and DEL, but for tab and line feed: an ESC or CSI in a title is a terminal
#: escape sequence waiting for `feedd explain`, and the document format has no use for either.
_CONTROLS: dict[int, int | None] = dict.fromkeys(
    [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
)
_CONTROLS[0x0D] = 0x0A


def without_controls(value: object) -> str:
    """A string without control characters (carriage returns become line feeds); anything but a
    string is ""."""
    if not isinstance(value, str):
        return ""
    return value.replace("\r\n", "\n").translate(_CONTROLS)


def collapse_space(value: object) -> str:
    """A string on one line without control characters, whitespace runs as single spaces;
    anything but a string is ""."""
    return " ".join(without_controls(value).split())
