"""Feed lists in and out of the config as OPML, the format every feed reader exports."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import listparser

from feedd.config import Config, FeedConfig, parse_config, redacted_url, replace_keeping_mode
from feedd.errors import ConfigError, OpmlError
from feedd.feeds.dtd import declares_dtd
from feedd.feeds.records import collapse_space
from feedd.feeds.urls import is_web_url


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None
    #: The folders it sits in, outermost first: its tags once imported.
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SkippedOutline:
    """An outline that is not imported, and why."""

    title: str | None
    url: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class OpmlList:
    """What an OPML file holds: the feeds to import, and what was left out."""

    feeds: tuple[OpmlFeed, ...]
    skipped: tuple[SkippedOutline, ...]


def read_opml(path: Path) -> OpmlList:
    """Every outline with a feed URL (http, https, or feed://), at any depth, once each, in
    document order; folders become tags. Parsed by listparser, after the DTD check feeds get."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OpmlError(f"{path}: cannot read: {exc.strerror}") from None
    if declares_dtd(data):
        raise OpmlError(f"{path}: declares XML entities or other DTD declarations; refused")
    try:
        root = ElementTree.fromstring(data)  # listparser reads broken XML leniently: refuse it first
        text = _decoded(data)
    except ElementTree.ParseError as exc:
        raise OpmlError(f"{path}: not valid XML: {exc}") from None
    except (LookupError, UnicodeDecodeError) as exc:
        raise OpmlError(f"{path}: undecodable text: {exc}") from None
    # Bytes of a document that says its encoding: never a URL (listparser fetches what looks like
    # one), and never guessed (it reads undeclared bytes as Latin-1).
    body = _DECLARATION.sub("", text, count=1)
    parsed = listparser.parse(('<?xml version="1.0" encoding="utf-8"?>' + body).encode("utf-8"))
    # Not parsed.bozo: listparser sets it for an ISO 8601 dateCreated, in a valid file.
    if not parsed.version.startswith("opml"):
        raise OpmlError(f"{path}: not an OPML document")
    feeds: dict[str, OpmlFeed] = {}
    # Outlines that are neither a feed nor a folder (a web page's bookmark): listparser drops them.
    skipped = [
        SkippedOutline(
            _text(outline.get("title") or outline.get("text")),
            _text(outline.get("htmlUrl")),
            "no feed URL (a web page only)",
        )
        for outline in root.iter("outline")
        if len(outline) == 0 and not (outline.get("xmlUrl") or outline.get("xmlurl"))
    ]
    for item in parsed.feeds:
        title, written = _text(item.get("title")), _text(item.get("url")) or ""
        url = _feed_scheme_resolved(written)
        if not is_web_url(url):
            skipped.append(SkippedOutline(title, written, "not an http(s) or feed:// URL"))
        elif redacted_url(url) in feeds:  # feedd names a feed by its URL with secrets masked
            skipped.append(SkippedOutline(title, written, "the same feed as an earlier outline"))
        else:
            folders = dict.fromkeys(name for path in item.get("categories", []) for name in path if name)
            feeds[redacted_url(url)] = OpmlFeed(url, title, tuple(collapse_space(name) for name in folders))
    return OpmlList(tuple(feeds.values()), tuple(skipped))


def add_to_config(config_path: Path, feeds: Sequence[OpmlFeed], *, dry_run: bool = False) -> list[OpmlFeed]:
    """Append the feeds the config does not list yet as [[feeds]] tables (comments and layout
    kept; folders as tags); return those added (with `dry_run`, those that would be). The result
    is validated before the file is replaced, and the new file keeps the old one's permissions
    and owner."""
    text = config_path.read_text(encoding="utf-8")
    known = {feed.url for feed in parse_config(text, config_path).feeds}  # secrets masked
    added = [feed for feed in feeds if redacted_url(feed.url) not in known]
    if not added:
        return []
    blocks = []
    for feed in added:
        block = f"\n[[feeds]]\nurl = {json.dumps(feed.url)}\n"
        if feed.title:
            block += f"name = {json.dumps(feed.title, ensure_ascii=False)}\n"
        if feed.tags:
            block += f"tags = {json.dumps(list(feed.tags), ensure_ascii=False)}\n"
        blocks.append(block)
    new_text = text.rstrip("\n") + "\n" + "".join(blocks)
    try:
        parse_config(new_text, config_path)
    except ConfigError as exc:
        raise OpmlError(f"the imported feeds would make the config invalid: {exc}") from None
    if not dry_run:
        replace_keeping_mode(config_path, new_text)
    return added


_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _decoded(data: bytes) -> str:
    """The document's text, in the encoding its XML declaration names (UTF-8 by default)."""
    declared = re.match(
        rb"""\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""", data.lstrip(b"\xef\xbb\xbf")
    )
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    return data.decode(encoding).lstrip("\ufeff")


def _text(value: object) -> str | None:
    return (collapse_space(str(value)) or None) if value else None


def _feed_scheme_resolved(url: str) -> str:
    """feed://host/path is http://host/path; feed:https://... is the URL after the prefix."""
    if url.lower().startswith("feed:"):
        rest = url[5:]
        return rest if rest.lower().startswith(("http://", "https://")) else "http:" + rest
    return url


def to_opml(config: Config) -> str:
    """The config's feeds as an OPML 2.0 document."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = "feedd subscriptions"
    ElementTree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC))
    body = ElementTree.SubElement(root, "body")
    for feed in config.feeds:
        ElementTree.SubElement(body, "outline", _outline(feed))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def _outline(feed: FeedConfig) -> dict[str, str]:
    title = feed.name or feed.url
    # The URL as written: another reader needs its credentials to fetch it.
    return {"type": "rss", "text": title, "title": title, "xmlUrl": feed.fetch_url}
