"""Feed bytes to Entry records with feedparser: tolerant of broken feeds, explicit about it."""

from __future__ import annotations

import calendar
import hashlib
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser

from feedd.errors import FeedParseError
from feedd.urls import canonical_url, is_web_url

# Entity declarations are how billion-laughs and XXE payloads arrive; news feeds never need them.
_ENTITY_DECLARATION = re.compile(rb"<!DOCTYPE[^>\[]*\[[^\]]*<!ENTITY", re.IGNORECASE | re.DOTALL)


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


_SY_PERIODS = {
    "hourly": 3600.0,
    "daily": 86400.0,
    "weekly": 7 * 86400.0,
    "monthly": 30 * 86400.0,
    "yearly": 365 * 86400.0,
}


def _feed_hints(channel: feedparser.FeedParserDict) -> tuple[float | None, float | None]:
    ttl = None
    if str(channel.get("ttl", "")).strip().isdigit():
        ttl = int(str(channel["ttl"]).strip()) * 60.0
    period = _SY_PERIODS.get(str(channel.get("sy_updateperiod", "")).strip().lower())
    frequency = str(channel.get("sy_updatefrequency", "1")).strip()
    update = period / int(frequency) if period and frequency.isdigit() and int(frequency) > 0 else None
    return ttl, update


def parse_feed(content: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse a feed document fetched from `url` (its final URL, for relative links)."""
    if _ENTITY_DECLARATION.search(content[:65536]):
        raise FeedParseError("feed declares XML entities (entity-expansion or XXE risk); refused")
    response_headers = {"content-location": url}
    if "content-type" in headers:
        response_headers["content-type"] = headers["content-type"]
    # Never feedparser.parse(url): it would fetch with no timeout. Always bytes.
    parsed = feedparser.parse(content, response_headers=response_headers, sanitize_html=True)
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
    entries = _entries(parsed.entries, url)
    dropped = len(parsed.entries) - len(entries)
    if dropped:
        warnings.append(f"{dropped} entries without a link, title or text were skipped")
    ttl, update_period = _feed_hints(parsed.feed)
    return ParsedFeed(
        title=_clean(parsed.feed.get("title")) or None,
        entries=tuple(entries),
        warnings=tuple(warnings),
        ttl=ttl,
        update_period=update_period,
    )


def _entries(raw_entries: list[feedparser.FeedParserDict], feed_url: str) -> list[Entry]:
    guids = Counter(_clean(raw.get("id")) for raw in raw_entries)
    links = [_link(raw, feed_url) for raw in raw_entries]
    canonical_links = Counter(canonical_url(link) for link in links if link)
    entries: list[Entry] = []
    used_keys: set[str] = set()
    for raw, link in zip(raw_entries, links, strict=True):
        title = _clean(raw.get("title"))
        summary = raw.get("summary") or ""
        content = max((c.get("value") or "" for c in raw.get("content") or ()), key=len, default="")
        if not (link or title or summary or content):
            continue
        guid = _clean(raw.get("id")) or None
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
                published=_published(raw),
                summary_html=summary,
                content_html=content,
                author=_clean(raw.get("author")) or None,
            )
        )
    return entries


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


def _clean(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]
