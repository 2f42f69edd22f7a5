"""Feed bytes to Entry records with feedparser: tolerant of broken feeds, explicit about it."""

from __future__ import annotations

import calendar
import codecs
import hashlib
import html
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser

from feedd.errors import FeedParseError
from feedd.feeds.charset import charset_of, choose_encoding
from feedd.feeds.urls import canonical_url, is_web_url

_XML_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
#: Byte-order marks and the UTF-16/32 spellings of "<": feedparser reads those right itself.
_SELF_DESCRIBING_MARKS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00", b"\x00<", b"<\x00")
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
    """Parse a feed document fetched from `url` (its final URL, for relative links): RSS 0.9x,
    1.0, 2.0, Atom 0.3, 1.0 (feedparser) or JSON Feed 1.0, 1.1."""
    if _is_json(content, headers.get("content-type", "")):
        return _parse_json_feed(content, url)
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
    return _finish(_clean(parsed.feed.get("title")) or None, items, warnings, ttl, update_period)


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


@dataclass(frozen=True, slots=True)
class _Item:
    """One entry as a feed format gives it, before feedd decides its identity."""

    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str
    published: datetime | None
    author: str | None


def _finish(
    title: str | None,
    items: list[_Item],
    warnings: list[str],
    ttl: float | None = None,
    update_period: float | None = None,
) -> ParsedFeed:
    entries = _entries(items)
    dropped = len(items) - len(entries)
    if dropped:
        warnings.append(f"{dropped} entries without a link, title or text were skipped")
    if not entries:
        raise FeedParseError("feed has no usable entries")
    return ParsedFeed(title, tuple(entries), tuple(warnings), ttl, update_period)


def _item_from_feedparser(raw: feedparser.FeedParserDict, feed_url: str) -> _Item:
    return _Item(
        guid=_clean(raw.get("id")) or None,
        link=_link(raw, feed_url),
        title=_clean(raw.get("title")),
        summary=raw.get("summary") or "",
        content=max((c.get("value") or "" for c in raw.get("content") or ()), key=len, default=""),
        published=_published(raw),
        author=_clean(raw.get("author")) or None,
    )


def _entries(items: list[_Item]) -> list[Entry]:
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


def _is_json(content: bytes, content_type: str) -> bool:
    if "json" in content_type.lower():
        return True
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _parse_json_feed(content: bytes, feed_url: str) -> ParsedFeed:
    """JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedParseError(f"invalid JSON Feed: {exc}") from None
    if not isinstance(data, dict) or "items" not in data:
        raise FeedParseError('not a feed (JSON without a JSON Feed "items" list)')
    version = str(data.get("version", ""))
    if "jsonfeed.org/version/" not in version and version not in ("1", "1.0", "1.1"):
        raise FeedParseError(f"not a JSON Feed (version {version!r})")
    raw_items = data["items"]
    if not isinstance(raw_items, list) or not raw_items:
        raise FeedParseError("feed (JSON Feed) has no entries")
    warnings: list[str] = []
    items = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            warnings.append("an item that is not a JSON object was skipped")
            continue
        items.append(_item_from_json(raw, feed_url))
    return _finish(_clean(_text(data.get("title"))) or None, items, warnings)


def _item_from_json(raw: dict[str, object], feed_url: str) -> _Item:
    link = None
    for field in ("url", "external_url"):
        candidate = raw.get(field)
        if isinstance(candidate, str) and candidate.strip():
            try:
                absolute = urljoin(feed_url, candidate.strip())
            except ValueError:
                continue
            if is_web_url(absolute):
                link = absolute
                break
    content = _text(raw.get("content_html"))
    if not content and (plain := _text(raw.get("content_text"))):
        content = "".join(f"<p>{html.escape(part)}</p>" for part in plain.split("\n\n") if part.strip())
    people = raw.get("authors")
    authors = people if isinstance(people, list) else [raw.get("author")]
    author = next(
        (_text(a.get("name")) for a in authors if isinstance(a, dict) and _text(a.get("name"))), None
    )
    guid = raw.get("id")
    return _Item(
        guid=_clean(str(guid)) or None if isinstance(guid, str | int) else None,
        link=link,
        title=_clean(_text(raw.get("title"))),
        summary=_text(raw.get("summary")),
        content=content,
        published=_iso_datetime(raw.get("date_published")) or _iso_datetime(raw.get("date_modified")),
        author=author,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _iso_datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


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
