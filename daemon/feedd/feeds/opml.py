"""Feed lists in and out of the config as OPML, the format every feed reader exports."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from feedd.config import Config, FeedConfig, parse_config
from feedd.errors import ConfigError, OpmlError
from feedd.feeds.dtd import declares_dtd
from feedd.feeds.records import collapse_space
from feedd.feeds.urls import is_web_url


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None


def read_opml(path: Path) -> list[OpmlFeed]:
    """Every outline with an http(s) xmlUrl, at any depth, in document order, once each."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OpmlError(f"{path}: cannot read: {exc.strerror}") from None
    if declares_dtd(data):
        raise OpmlError(f"{path}: declares XML entities or other DTD declarations; refused")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise OpmlError(f"{path}: not valid XML: {exc}") from None
    if root.tag != "opml":
        raise OpmlError(f"{path}: not an OPML document (root element <{root.tag}>)")
    feeds: dict[str, OpmlFeed] = {}
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url and is_web_url(url) and url not in feeds:
            title = collapse_space(outline.get("title") or outline.get("text")) or None
            feeds[url] = OpmlFeed(url, title)
    return list(feeds.values())


def add_to_config(config_path: Path, feeds: list[OpmlFeed]) -> list[OpmlFeed]:
    """Append the feeds the config does not list yet as [[feeds]] tables (comments and layout
    kept); return those added. The result is validated before the file is replaced, and the new
    file keeps the old one's permissions and owner."""
    text = config_path.read_text(encoding="utf-8")
    known = {feed.fetch_url for feed in parse_config(text, config_path).feeds}
    added = [feed for feed in feeds if feed.url not in known]
    if not added:
        return []
    blocks = []
    for feed in added:
        block = f"\n[[feeds]]\nurl = {json.dumps(feed.url)}\n"
        if feed.title:
            block += f"name = {json.dumps(feed.title, ensure_ascii=False)}\n"
        blocks.append(block)
    new_text = text.rstrip("\n") + "\n" + "".join(blocks)
    try:
        parse_config(new_text, config_path)
    except ConfigError as exc:
        raise OpmlError(f"the imported feeds would make the config invalid: {exc}") from None
    _replace_keeping_mode(config_path, new_text)
    return added


def _replace_keeping_mode(path: Path, text: str) -> None:
    """Replace the file at once (a temporary file renamed over it), with its mode and owner: a
    config holding credentials is often 0600, and must not come back world-readable. A symlink
    stays one: its target is replaced."""
    path = path.resolve()
    old = path.stat()
    mode = old.st_mode & 0o7777
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Created with the old mode from the start, so it is never readable by more than the file was.
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o777)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            new = os.fstat(file.fileno())
            if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid):
                try:
                    os.fchown(
                        file.fileno(),
                        -1 if new.st_uid == old.st_uid else old.st_uid,
                        -1 if new.st_gid == old.st_gid else old.st_gid,
                    )
                except PermissionError:
                    raise OpmlError(
                        f"{path}: cannot keep its owner and group ({old.st_uid}:{old.st_gid}) in a "
                        "rewritten copy; run import-opml as its owner, or edit it by hand"
                    ) from None
            os.fchmod(file.fileno(), mode)  # open() left out the bits the umask removes
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


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
