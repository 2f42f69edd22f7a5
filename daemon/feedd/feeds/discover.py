"""Feed autodiscovery from a site's page: the feeds it announces (`<link rel="alternate">` with a
feed type, as browsers and feed readers read it), and the paths where sites put feeds when
they announce none."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.html

from feedd.feeds.urls import is_web_url

#: Media types of <link rel="alternate"> that name a feed.
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
    }
)
#: Where feeds usually are when a page announces none (WordPress, Ghost, Hugo, Blogger, ...).
COMMON_PATHS = ("/feed", "/rss", "/feed.xml", "/rss.xml", "/atom.xml", "/index.xml", "/feeds/posts/default")


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A feed a page announces."""

    url: str
    title: str | None


def announced_feeds(html: bytes, base_url: str) -> list[FeedLink]:
    """The feeds the page's <link rel="alternate"> elements announce, in page order."""
    try:
        tree = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return []
    base = next(iter(tree.xpath("//head/base/@href")), None)
    found: dict[str, FeedLink] = {}
    for link in tree.iterfind(".//link[@rel][@href]"):
        if "alternate" not in link.get("rel", "").lower().split():
            continue
        if link.get("type", "").split(";")[0].strip().lower() not in FEED_TYPES:
            continue
        try:
            url = urljoin(urljoin(base_url, base) if base else base_url, link.get("href", "").strip())
        except ValueError:  # "http://[bad" and the like: not a link to follow
            continue
        if is_web_url(url) and url not in found:
            found[url] = FeedLink(url, (link.get("title") or "").strip() or None)
    return list(found.values())
