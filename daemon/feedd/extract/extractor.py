"""Page HTML (or, failing that, the feed entry's own HTML) to an Article: main text only.

The page's main text comes from a site rule when one applies, else from trafilatura (main_text);
blocks turns HTML into Blocks, title and credit tidy the head and the foot of the story."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urljoin, urlsplit

import lxml.html
from trafilatura.utils import load_html

from feedd.config import SiteRule
from feedd.errors import NoTextError
from feedd.extract.blocks import (
    hide_nbsp,
    html_to_blocks,
    mark_quoted,
    normalise_space,
    restore_nbsp,
    text_length,
)
from feedd.extract.boilerplate import drop_boilerplate, link_texts
from feedd.extract.credit import split_credit
from feedd.extract.hydration import hydrated_text
from feedd.extract.main_text import declared_share, main_text, rest_of_split_body
from feedd.extract.metadata import read_metadata
from feedd.extract.page_header import displayed_headlines, find_standfirst, same_words
from feedd.extract.page_kind import live_blog, not_an_article
from feedd.extract.records import Article, Block, ExtractionFailure, PageInput, blocks_text
from feedd.extract.rules import RuledParts, apply_rule
from feedd.extract.title import clean_title, distinct_lead, squash, title_from
from feedd.feeds import Entry, canonical_url, decode_html, is_web_url, registrable_domain

#: Below this many characters a page's text is not trusted over a longer feed body.
_THIN_PAGE_CHARS = 200
_WHOLE_PAGE_CHARS = 2000
_MAX_HEADLINE_CHARS = 200
#: Below this share of the body the page declares, the text is retried with trafilatura's
#: fallbacks, and the retry kept when it holds this much more of it.
_DECLARED_HELD = 0.6
_DECLARED_BETTER_BY = 0.2


def try_extract(page: PageInput) -> Article | ExtractionFailure:
    """extract_article for worker processes: every failure comes back as a value."""
    try:
        return extract_article(page)
    except NoTextError as exc:
        return ExtractionFailure(str(exc))
    except Exception as exc:  # a parser bug on one hostile page must not end the pass
        return ExtractionFailure(f"extraction failed: {type(exc).__name__}: {exc}")


def extract_article(page: PageInput) -> Article:
    """Extract from the page when it yields text; fall back to the entry's own content."""
    entry = page.entry
    feed_blocks = html_to_blocks(entry.content_html or entry.summary_html)
    if page.html is not None and page.page_url is not None:
        html = decode_html(page.html, page.content_type)
        feed_chars = text_length(feed_blocks)
        vouched = _vouched_domains(page, page.page_url)
        found = _from_page(html, page.page_url, entry, page.site_rule, feed_chars, vouched)
        if isinstance(found, Article):
            page_chars = text_length(found.blocks)
            if page_chars >= _THIN_PAGE_CHARS or page_chars >= feed_chars:
                return found
            reason = f"page text too thin ({page_chars} characters)"
        elif isinstance(found, _FeedTextPreferred):
            if not feed_blocks:
                return found.page_article
            from_entry = _from_entry(entry, feed_blocks, found.reason)
            if not found.page_is_the_story:
                return from_entry
            # A paywall's page names the story's own link and canonical home: copies of it under
            # other links share them.
            page_article = found.page_article
            return replace(from_entry, url=page_article.url, canonical_url=page_article.canonical_url)
        else:
            reason = found
    else:
        reason = page.fetch_problem or "page not fetched"
    if not feed_blocks:
        raise NoTextError(f"{reason}, and the entry has no text of its own")
    return _from_entry(entry, feed_blocks, reason)


@dataclass(frozen=True, slots=True)
class _FeedTextPreferred:
    """The page holds the story's text, but not the best copy of it (a live blog's snapshot, a
    paywall's teaser): the entry's own text is, and the page's stands in where there is none."""

    reason: str
    page_article: Article
    #: The page is this one story (a paywalled article), so its link and canonical URL are the
    #: entry's; a live blog holds many, and each entry of its feed may be one post of it.
    page_is_the_story: bool


def _from_page(
    html: str, page_url: str, entry: Entry, rule: SiteRule | None, feed_chars: int, vouched: set[str]
) -> Article | _FeedTextPreferred | str:
    """The article the page holds, or why the page does not hold it."""
    tree = load_html(hide_nbsp(html))
    if tree is None:
        return "page yielded no article text"
    links = _declared_links(tree, page_url, vouched)
    metadata = read_metadata(tree)
    ruled = apply_rule(tree, rule) if rule else RuledParts()
    printed_headlines = [restore_nbsp(h) for h in displayed_headlines(tree)]
    blocks = ruled.blocks
    if not blocks:
        blocks = main_text(tree, page_url, fast=True)
        thin = text_length(blocks) < _THIN_PAGE_CHARS
        # One long run of text is trafilatura's last resort, the whole page's text: its
        # fallback algorithms may still find the article in it.
        if thin or (len(blocks) == 1 and len(blocks[0].text) > _WHOLE_PAGE_CHARS):
            retried = main_text(tree, page_url, fast=False)
            if thin or _THIN_PAGE_CHARS <= text_length(retried):
                blocks = retried
        elif (held := declared_share(blocks, metadata.declared_body)) is not None and held < _DECLARED_HELD:
            # The text disagrees with the body the page declares: trafilatura's fallbacks vote,
            # and the declared body decides between the two.
            retried = main_text(tree, page_url, fast=False)
            if (declared_share(retried, metadata.declared_body) or 0.0) >= held + _DECLARED_BETTER_BY:
                blocks = retried
        if text_length(blocks) < _THIN_PAGE_CHARS:
            # A client-rendered page: the article is in a script, for the browser to render.
            hydrated = hydrated_text(tree, page_url, [*metadata.titles, entry.title, *printed_headlines])
            if text_length(hydrated) > text_length(blocks):
                blocks = hydrated
        blocks += rest_of_split_body(tree, blocks)
    title = ruled.title or clean_title(
        restore_nbsp(metadata.title or ""), metadata.site_name, page_url, entry.title, printed_headlines
    )
    title = title or entry.title or title_from(blocks)
    blocks = drop_boilerplate(blocks, link_texts(tree), title)
    blocks = mark_quoted(blocks, tree)
    # The page's headline often opens the extracted text, as a heading or a short paragraph, in
    # the words of the title or of another version of it; the title block already says it.
    headlines = [title, entry.title, *printed_headlines]
    while (
        blocks
        and (blocks[0].kind == "heading" or len(blocks[0].text) <= _MAX_HEADLINE_CHARS)
        and any(same_words(blocks[0].text, headline) for headline in headlines)
    ):
        blocks.pop(0)
    body = [b.text for b in blocks if b.kind == "paragraph"]
    declared = [text for text in (title, entry.title, *metadata.titles) if text]
    standfirst = ruled.lead or find_standfirst(tree, body, [*headlines, *metadata.titles], declared)
    lead: str | None
    if standfirst:
        lead = normalise_space(restore_nbsp(standfirst))
        squashed_lead = squash(lead)
        while blocks and blocks[0].text and squash(blocks[0].text) in squashed_lead:
            blocks.pop(0)
    else:
        lead = distinct_lead(restore_nbsp(metadata.description or ""), blocks, metadata.site_name)
    blocks, credit = split_credit(blocks)
    if not blocks:
        return "page yielded no article text"
    live = None if ruled.blocks else live_blog(metadata)
    if not ruled.blocks and (
        reason := not_an_article(metadata, blocks_text(blocks), page_url, live=live is not None)
    ):
        return reason
    article = Article(
        title=title,
        published=_publication_date(metadata.published, entry.published),
        lead=lead,
        url=links.get("shortlink") or links.get("canonical") or page_url,
        canonical_url=links.get("canonical") or canonical_url(page_url),
        blocks=tuple(blocks),
        credit=credit,
        language=metadata.language,
        source="page",
    )
    if live:
        return _FeedTextPreferred(live, article, page_is_the_story=False)
    if metadata.paywalled and text_length(blocks) < feed_chars:
        return _FeedTextPreferred(
            "page is paywalled (only a teaser is public)", article, page_is_the_story=True
        )
    return article


def _from_entry(entry: Entry, blocks: list[Block], reason: str) -> Article:
    blocks, credit = split_credit(blocks)
    summary = " ".join(b.text for b in html_to_blocks(entry.summary_html)) if entry.content_html else ""
    link = entry.link or ""
    return Article(
        title=entry.title or title_from(blocks),
        published=_publication_date(None, entry.published),
        lead=distinct_lead(summary, blocks),
        url=link,
        canonical_url=entry.canonical_link or "",
        blocks=tuple(blocks),
        credit=credit,
        source="feed",
        fallback_reason=reason,
    )


def _declared_links(tree: lxml.html.HtmlElement, page_url: str, vouched: set[str]) -> dict[str, str]:
    """The page's rel=canonical (or og:url) and rel=shortlink, made absolute. A link to another
    site counts only where that site is vouched for (see _vouched_domains): any page may claim
    any URL, and a claimed URL is the identity a story is deduplicated by."""
    found: dict[str, str] = {}
    for link in tree.iterfind(".//head/link[@rel][@href]"):
        rels = link.get("rel", "").lower().split()
        href = urljoin(page_url, link.get("href", "").strip())
        if not is_web_url(href) or registrable_domain(href) not in vouched:
            continue
        for rel in ("canonical", "shortlink"):
            if rel in rels and rel not in found:
                found[rel] = href
    if "canonical" not in found:
        for meta in tree.iterfind(".//head/meta[@property='og:url'][@content]"):
            href = urljoin(page_url, meta.get("content", "").strip())
            if is_web_url(href) and registrable_domain(href) in vouched:
                found["canonical"] = href
                break
    # A canonical pointing at the site's front page is a CMS bug, not the article's URL.
    if "canonical" in found:
        if urlsplit(found["canonical"]).path in ("", "/") and urlsplit(page_url).path not in ("", "/"):
            del found["canonical"]
        else:
            found["canonical"] = canonical_url(found["canonical"])
    return found


def _vouched_domains(page: PageInput, page_url: str) -> set[str]:
    """The sites a page may name as its canonical home: its own (where redirects led), the one
    the entry linked to, and the feed's."""
    urls = [page_url, page.entry.link or "", page.feed_url or ""]
    return {registrable_domain(url) for url in urls if url}


def _publication_date(page_day: date | None, feed_published: datetime | None) -> date | None:
    """The page's date, unless missing, in the future or contradicted by the feed's."""
    today = datetime.now(UTC).date()
    feed_day = feed_published.date() if feed_published else None
    if feed_day and feed_day > today + timedelta(days=1):
        feed_day = None
    if page_day and page_day > today + timedelta(days=1):
        page_day = None
    if page_day and feed_day and abs((page_day - feed_day).days) > 2:
        return feed_day
    return page_day or feed_day
