"""Page metadata (title, date, description, site name, language) from structured markup.

JSON-LD and <meta> tags say what the publisher means and are cheap to read; trafilatura's
heuristic metadata search costs about as much as the text extraction itself, so it is not used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from lxml import etree

_ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "blogposting",
        "liveblogposting",
        "report",
        "webpage",
        "scholarlyarticle",
        "techarticle",
        "socialmediaposting",
    }
)
_DATE_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "dcterms.date",
    "sailthru.date",
    "parsely-pub-date",
    "cxenseparse:recs:publishtime",
    "article.published",
    "published_time",
    "article_date_original",
    "original-publish-date",
)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
#: Microdata types (itemtype) that say what the whole page is; other itemtypes mark parts of it.
_MICRODATA_PAGE_KINDS = frozenset({"liveblogposting", "imagegallery", "mediagallery"})
#: Class names of one update in a live blog ("live-blog-post", "live-events__entry"): the class of
#: the entry itself, not of the parts inside it. Not "live-item" or "live-ticker__item": menus and
#: score boxes use those beside articles.
_LIVE_UPDATE_CLASS = re.compile(
    r"live-?(?:blog|events?|updates?|story)[-_]+(?:entry|post|update|item|event)s?"
    r"|live[-_]+(?:entry|post|update)s?",
    re.I,
)
#: One pass over the document for both (two passes cost 1.1 ms a page, this one 0.5 ms). The
#: page's own type is on an itemscope inside no other but a page ("WebPage" on <body>: nested
#: ones are what it holds, a teaser, an author); types and update entries in an <aside> or <nav>
#: are a box about another page.
_MARKUP = etree.XPath(
    "//*[@itemtype][not(ancestor::*[@itemscope][not(contains(@itemtype, 'Page'))]"
    " or ancestor::aside or ancestor::nav)]/@itemtype"
    " | //@class[contains(., 'live') or contains(., 'Live') or contains(., 'LIVE')]"
)


@dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str | None = None
    #: Every title the page declares (JSON-LD headline, og:title, twitter:title, <title>): a
    #: publisher may word each differently, and each is a headline wherever the page prints it.
    titles: tuple[str, ...] = ()
    published: date | None = None
    description: str | None = None
    site_name: str | None = None
    language: str | None = None
    #: What the page says it is: og:type and every JSON-LD @type, lower-case ("article", "website").
    kinds: frozenset[str] = frozenset()
    #: The page declares an article (a JSON-LD article type, or og:type "article").
    declares_article: bool = False
    #: The article's JSON-LD says isAccessibleForFree: false (the page shows a paywall teaser).
    paywalled: bool = False
    #: The article's text as its JSON-LD declares it (articleBody): HTML or plain text.
    declared_body: str | None = None
    #: Elements whose class marks them as updates of a live blog.
    live_updates: int = 0


def read_metadata(tree: etree._Element) -> PageMetadata:
    """What the page declares about itself; fields it does not declare are None."""
    meta: dict[str, str] = {}
    for element in tree.iterfind(".//meta[@content]"):
        name = (
            (element.get("property") or element.get("name") or element.get("itemprop") or "").strip().lower()
        )
        content = (element.get("content") or "").strip()
        if name and content and name not in meta:
            meta[name] = content
    article = next(_json_ld_articles(tree), {})
    declared = [_string(article.get("headline")), meta.get("og:title"), meta.get("twitter:title")]
    title_element = _text_of(tree.find(".//title"))
    title = next(filter(None, declared), None) or title_element or _text_of(tree.find(".//h1"))
    published = _date(_string(article.get("datePublished")))
    for name in _DATE_META:
        if published:
            break
        published = _date(meta.get(name))
    if not published:
        time_element = tree.find(".//article//time[@datetime]")
        if time_element is None:
            time_element = tree.find(".//time[@datetime]")
        if time_element is not None:
            published = _date(time_element.get("datetime"))
    description = (
        meta.get("og:description")
        or meta.get("description")
        or _string(article.get("description"))
        or meta.get("twitter:description")
    )
    publisher = article.get("publisher")
    site_name = meta.get("og:site_name") or (
        _string(publisher.get("name")) if isinstance(publisher, dict) else None
    )
    language = (tree.get("lang") or meta.get("og:locale") or "").replace("_", "-").split("-")[0].lower()
    microdata_kinds, live_updates = _markup(tree)
    kinds = set(_json_ld_types(tree)) | microdata_kinds
    if og_type := meta.get("og:type", "").lower():
        kinds.add(og_type)
    free = article.get("isAccessibleForFree")
    return PageMetadata(
        kinds=frozenset(kinds),
        declares_article=bool(article) or og_type == "article",
        paywalled=free is False or (isinstance(free, str) and free.strip().lower() == "false"),
        declared_body=body if isinstance(body := article.get("articleBody"), str) and body.strip() else None,
        live_updates=live_updates,
        title=title or None,
        titles=tuple(dict.fromkeys(filter(None, [*declared, title_element]))),
        published=published,
        description=description or None,
        site_name=site_name or None,
        language=language or None,
    )


def _json_ld_articles(tree: etree._Element) -> Iterator[dict[str, Any]]:
    for data in _json_ld(tree):
        yield from _articles_in(data)


def _json_ld(tree: etree._Element) -> Iterator[Any]:
    for script in tree.iterfind(".//script[@type]"):
        if script.get("type", "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            yield json.loads(script.text)
        except ValueError:
            continue


def _json_ld_types(tree: etree._Element) -> Iterator[str]:
    """Every @type named at the top of a JSON-LD block or its @graph."""
    for data in _json_ld(tree):
        nodes = data if isinstance(data, list) else [data]
        for node in nodes:
            if not isinstance(node, dict):
                continue
            graph = node.get("@graph")
            for item in [node, *(graph if isinstance(graph, list) else [])]:
                kinds = item.get("@type") if isinstance(item, dict) else None
                for kind in kinds if isinstance(kinds, list) else [kinds]:
                    if isinstance(kind, str):
                        yield kind.lower()


def _markup(tree: etree._Element) -> tuple[set[str], int]:
    """The page-level microdata types, and how many elements are classed as live-blog updates."""
    kinds: set[str] = set()
    live_updates = 0
    for value in _MARKUP(tree):
        if value.attrname == "itemtype":
            types = (url.rstrip("/").rsplit("/", 1)[-1].lower() for url in value.split())
            kinds.update(kind for kind in types if kind in _MICRODATA_PAGE_KINDS)
        elif (
            any(_LIVE_UPDATE_CLASS.fullmatch(name) for name in value.split())
            and next(value.getparent().iterancestors("aside", "nav"), None) is None
        ):
            live_updates += 1
    return kinds, live_updates


def _articles_in(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for item in data:
            yield from _articles_in(item, depth + 1)
    elif isinstance(data, dict):
        kinds = data.get("@type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in kinds) and (
            data.get("headline") or data.get("datePublished")
        ):
            yield data
        if "@graph" in data:
            yield from _articles_in(data["@graph"], depth + 1)


def _string(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _text_of(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return " ".join("".join(element.itertext()).split()) or None


def _date(value: str | None) -> date | None:
    """The calendar day of an ISO 8601 timestamp, as written (the publisher's own day)."""
    if not value:
        return None
    match = _ISO_DATE.search(value)
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
