"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), which feedparser does not read."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from urllib.parse import urljoin

from feedd.errors import FeedParseError
from feedd.feeds.identity import feed_from_items
from feedd.feeds.records import FeedItem, ParsedFeed, collapse_space, without_controls
from feedd.feeds.urls import is_web_url


def parse_json_feed(content: bytes, feed_url: str, *, max_entries: int | None = None) -> ParsedFeed:
    """A JSON Feed fetched from `feed_url` (its final URL, for relative links)."""
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
    return feed_from_items(
        collapse_space(data.get("title")) or None, items, warnings, max_entries=max_entries
    )


def _item_from_json(raw: dict[str, object], feed_url: str) -> FeedItem:
    link = None
    for field in ("url", "external_url"):
        candidate = raw.get(field)
        if isinstance(candidate, str) and candidate.strip():
            try:
                absolute = urljoin(feed_url, without_controls(candidate).strip())
            except ValueError:
                continue
            if is_web_url(absolute):
                link = absolute
                break
    content = without_controls(raw.get("content_html"))
    if not content and (plain := without_controls(raw.get("content_text"))):
        content = "".join(f"<p>{html.escape(part)}</p>" for part in plain.split("\n\n") if part.strip())
    people = raw.get("authors")
    authors = people if isinstance(people, list) else [raw.get("author")]
    names = (collapse_space(a.get("name")) for a in authors if isinstance(a, dict))
    author = next((name for name in names if name), None)
    guid = raw.get("id")
    return FeedItem(
        guid=collapse_space(str(guid)) or None if isinstance(guid, str | int) else None,
        link=link,
        title=collapse_space(raw.get("title")),
        summary=without_controls(raw.get("summary")),
        content=content,
        published=_iso_datetime(raw.get("date_published")) or _iso_datetime(raw.get("date_modified")),
        author=author,
    )


def _iso_datetime(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
