"""The extract stage's records: what goes in (PageInput) and what comes out (Article, or an
ExtractionFailure). Apart from the extractor so that the processes and stages that only pass
them along (render, dedup, the event loop) never load trafilatura."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from feedd.config import SiteRule
from feedd.feeds import Entry

BlockKind = Literal["paragraph", "heading", "list", "table"]


@dataclass(frozen=True, slots=True)
class Block:
    """One body block: a paragraph, a subheading, a list (one item per line) or a table."""

    kind: BlockKind
    text: str = ""
    items: tuple[str, ...] = ()
    ordered: bool = False
    #: Material the outlet quotes rather than writes: an embedded post, a pull quote, a list or
    #: table of names and results. Rendered like any block; duplicate detection weighs it like
    #: words inside quotation marks (feedd.dedup.verify).
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Article:
    """What the extract stage found; render turns it into the normalised text."""

    title: str
    published: date | None
    lead: str | None
    #: The link shown in the document: the page's short or canonical link, else the entry link.
    url: str
    #: The identity of the article: the page's canonical URL, normalised.
    canonical_url: str
    blocks: tuple[Block, ...]
    credit: str | None = None
    language: str | None = None
    #: "page" when the text came from the article page, "feed" when from the entry itself.
    source: Literal["page", "feed"] = "page"
    #: Why the feed's content was used instead of the page, when it was.
    fallback_reason: str | None = None

    @property
    def body_text(self) -> str:
        return blocks_text(self.blocks)


def blocks_text(blocks: Iterable[Block]) -> str:
    """The blocks' text, one line per paragraph, heading, list item or table row."""
    return "\n".join(block.text or "\n".join(block.items) for block in blocks)


@dataclass(frozen=True, slots=True)
class PageInput:
    """What extraction needs; small and picklable so it can cross to a worker process."""

    entry: Entry
    #: The page as fetched (decoded here, in the worker, to keep the event loop free).
    html: bytes | None
    content_type: str | None
    #: The page's final URL after redirects, or None when it was not fetched.
    page_url: str | None
    #: Why there is no page, when there is none.
    fetch_problem: str | None = None
    #: The problem may pass (a timeout, a 5xx): worth fetching the page again later.
    fetch_transient: bool = False
    #: The publisher's extraction rule, where one applies to the page's final URL.
    site_rule: SiteRule | None = None
    #: The feed the entry came from: a canonical URL on its site is believed (see extractor).
    feed_url: str | None = None


@dataclass(frozen=True, slots=True)
class ExtractionFailure:
    """Why an entry yielded no article."""

    reason: str
