"""Entry identity: which item of a feed is which across polls, whatever the format.

An entry's key is its GUID when the feed uses that GUID once, else its canonical link when no
other entry shares it, else a hash of its own text; different articles never collapse into one.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from feedd.errors import FeedParseError
from feedd.feeds.records import Entry, FeedItem, ParsedFeed
from feedd.feeds.urls import canonical_url


def feed_from_items(
    title: str | None,
    items: list[FeedItem],
    warnings: list[str],
    ttl: float | None = None,
    update_period: float | None = None,
) -> ParsedFeed:
    """The feed with each usable item keyed; items without a link, title or text are dropped."""
    entries = _entries(items)
    dropped = len(items) - len(entries)
    if dropped:
        warnings.append(f"{dropped} entries without a link, title or text were skipped")
    if not entries:
        raise FeedParseError("feed has no usable entries")
    return ParsedFeed(title, tuple(entries), tuple(warnings), ttl, update_period)


def _entries(items: list[FeedItem]) -> list[Entry]:
    guids = Counter(item.guid for item in items if item.guid)
    canonical_links = Counter(canonical_url(item.link) for item in items if item.link)
    entries: list[Entry] = []
    used_keys: set[str] = set()
    for item in items:
        title, link, guid, summary, content = item.title, item.link, item.guid, item.summary, item.content
        if not (link or title or summary or content):
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
            key = "sha:" + _digest(title, link or "", guid or "", summary, content)
        if key in used_keys:
            key = f"{key}#{_digest(title, summary, content)[:12]}"
        if key in used_keys:
            continue  # the very same item twice in one document
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
    return entries


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
