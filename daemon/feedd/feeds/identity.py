"""Entry identity: which item of a feed is which across polls, whatever the format.

An entry's key is its GUID when the feed uses that GUID once, else its canonical link when no
other entry shares it, else a hash of its own text and date; different articles never collapse
into one.

A feed may carry more entries than one poll takes (`max_entries`): the newest are kept, by date
where dated, and undated ones after them in document order (feeds list their newest first).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from feedd.errors import FeedParseError
from feedd.feeds.records import Entry, FeedItem, ParsedFeed
from feedd.feeds.urls import canonical_url


@dataclass(frozen=True, slots=True)
class _Keyed:
    entries: list[Entry]
    empty: int
    repeated: int


def feed_from_items(
    title: str | None,
    items: list[FeedItem],
    warnings: list[str],
    ttl: float | None = None,
    update_period: float | None = None,
    *,
    max_entries: int | None = None,
) -> ParsedFeed:
    """The feed with each usable item keyed, the newest `max_entries` of them; items without a
    link, title or text are dropped, and so is an item that repeats an earlier one exactly."""
    keyed = _entries(items)
    if keyed.empty:
        warnings.append(f"{keyed.empty} entries without a link, title or text were skipped")
    if keyed.repeated:
        warnings.append(f"{keyed.repeated} entries repeating an earlier entry exactly were skipped")
    if not keyed.entries:
        raise FeedParseError("feed has no usable entries")
    entries = keyed.entries
    if max_entries is not None and len(entries) > max_entries:
        entries = _newest(entries, max_entries)
        skipped = len(keyed.entries) - len(entries)
        oldest_kept = min((entry.published for entry in entries if entry.published), default=None)
        since = f" (kept those from {oldest_kept:%Y-%m-%d %H:%M} UTC on)" if oldest_kept else ""
        warnings.append(f"{skipped} older entries beyond max_entries = {max_entries} were skipped{since}")
    return ParsedFeed(title, tuple(entries), tuple(warnings), ttl, update_period)


def _newest(entries: list[Entry], count: int) -> list[Entry]:
    """The `count` newest entries, in document order."""

    def age(position: int) -> tuple[bool, float, int]:
        published = entries[position].published
        return (published is None, -published.timestamp() if published else 0.0, position)

    kept = sorted(sorted(range(len(entries)), key=age)[:count])
    return [entries[position] for position in kept]


def _entries(items: list[FeedItem]) -> _Keyed:
    guids = Counter(item.guid for item in items if item.guid)
    canonical_links = Counter(canonical_url(item.link) for item in items if item.link)
    entries: list[Entry] = []
    used_keys: set[str] = set()
    empty = repeated = 0
    for item in items:
        title, link, guid, summary, content = item.title, item.link, item.guid, item.summary, item.content
        if not (link or title or summary or content):
            empty += 1
            continue
        canonical = canonical_url(link) if link else None
        if canonical and canonical_links[canonical] > 1:
            # Several entries share this link (often the site's front page): it names none of them.
            canonical = None
        # A GUID identifies an entry only if this feed uses it once; otherwise fall back to
        # the link, and to the entry's own text, so that different articles never collapse.
        if guid and guids[guid] == 1:
            key = f"guid:{guid}"
        elif canonical:
            key = f"url:{canonical}"
        else:
            # The date too: a daily "markets closed" note repeats its text, not its day.
            key = "sha:" + _digest(title, link or "", guid or "", summary, content, *_date(item.published))
        if key in used_keys:
            # Only text keys can meet (GUID and link keys are unique by construction), and they
            # cover everything the item says: this is the very same item twice in one document.
            repeated += 1
            continue
        used_keys.add(key)
        entries.append(
            Entry(
                key=key,
                guid=guid,
                link=link,
                canonical_link=canonical,
                title=title,
                published=item.published,
                summary_html=summary,
                content_html=content,
                author=item.author,
            )
        )
    return _Keyed(entries, empty, repeated)


def _date(published: datetime | None) -> tuple[str, ...]:
    # Nothing for an undated item: its key stays what it was before dates counted.
    return (published.isoformat(),) if published else ()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
