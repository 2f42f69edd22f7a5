"""Page HTML (or, failing that, the feed entry's own HTML) to an Article: main text only."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from html import unescape
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from trafilatura import bare_extraction
from trafilatura.utils import load_html

from feedd.errors import NoTextError
from feedd.extract.boilerplate import drop_boilerplate, link_texts
from feedd.extract.metadata import read_metadata
from feedd.extract.page_header import displayed_headlines, find_standfirst, same_words
from feedd.extract.page_kind import not_an_article
from feedd.extract.records import Article, Block, ExtractionFailure, PageInput, SiteRule, blocks_text
from feedd.feeds.charset import decode_html
from feedd.feeds.parse import Entry
from feedd.feeds.urls import canonical_url, is_web_url

#: trafilatura folds every whitespace run, no-break spaces included, into one space; FORMAT.md
#: keeps the page's no-break spaces. A noncharacter stands in for them during extraction.
_NBSP_STAND_IN = "\ufdd0"
_NBSP_SPELLINGS = re.compile(r"\xa0|&nbsp;|&#160;|&#[xX]0*[aA]0;")
_SPACE_RUN = re.compile(r"[ \t\n\r\f\v\u2028\u2029]+")  # not \xa0: FORMAT.md keeps it
#: Below this many characters a page's text is not trusted over a longer feed body.
_THIN_PAGE_CHARS = 200
_WHOLE_PAGE_CHARS = 2000
_MAX_HEADLINE_CHARS = 200


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
        feed_chars = _text_length(feed_blocks)
        article = _from_page(html, page.page_url, entry, page.site_rule, feed_chars)
        if isinstance(article, Article):
            page_chars = _text_length(article.blocks)
            if page_chars >= _THIN_PAGE_CHARS or page_chars >= feed_chars:
                return article
            reason = f"page text too thin ({page_chars} characters)"
        else:
            reason = article
    else:
        reason = page.fetch_problem or "page not fetched"
    if not feed_blocks:
        raise NoTextError(f"{reason}, and the entry has no text of its own")
    return _from_entry(entry, feed_blocks, reason)


def _text_length(blocks: Sequence[Block]) -> int:
    return sum(len(block.text) + sum(map(len, block.items)) for block in blocks)


def _from_page(
    html: str, page_url: str, entry: Entry, rule: SiteRule | None, feed_chars: int
) -> Article | str:
    """The article the page holds, or why the page does not hold it."""
    tree = load_html(_NBSP_SPELLINGS.sub(_NBSP_STAND_IN, html))
    if tree is None:
        return "page yielded no article text"
    links = _declared_links(tree, page_url)
    metadata = read_metadata(tree)
    ruled = _apply_rule(tree, rule) if rule else _Ruled()
    blocks = ruled.blocks
    if not blocks:
        blocks = _main_text(tree, page_url, fast=True)
        thin = _text_length(blocks) < _THIN_PAGE_CHARS
        # One long run of text is trafilatura's last resort, the whole page's text: its
        # fallback algorithms may still find the article in it.
        if thin or (len(blocks) == 1 and len(blocks[0].text) > _WHOLE_PAGE_CHARS):
            retried = _main_text(tree, page_url, fast=False)
            if thin or _THIN_PAGE_CHARS <= _text_length(retried):
                blocks = retried
        blocks += _rest_of_split_body(tree, blocks)
    printed_headlines = [_restore(h) for h in displayed_headlines(tree)]
    title = ruled.title or clean_title(
        _restore(metadata.title or ""), metadata.site_name, page_url, entry.title, printed_headlines
    )
    title = title or entry.title or _title_from(blocks)
    blocks = drop_boilerplate(blocks, link_texts(tree), title)
    # The page's headline often opens the extracted text, as a heading or a short paragraph, in
    # the words of the title or of another version of it; the title block already says it.
    headlines = [title, entry.title, *printed_headlines]
    while (
        blocks
        and (blocks[0].kind == "heading" or len(blocks[0].text) <= _MAX_HEADLINE_CHARS)
        and any(same_words(blocks[0].text, headline) for headline in headlines)
    ):
        blocks.pop(0)
    standfirst = ruled.lead or find_standfirst(tree, [b.text for b in blocks if b.kind == "paragraph"], title)
    lead: str | None
    if standfirst:
        lead = normalise_space(_restore(standfirst))
        squashed_lead = _squash(lead)
        while blocks and blocks[0].text and _squash(blocks[0].text) in squashed_lead:
            blocks.pop(0)
    else:
        lead = _lead(_restore(metadata.description or ""), blocks)
    blocks, credit = _split_credit(blocks)
    if not blocks:
        return "page yielded no article text"
    if not ruled.blocks and (reason := not_an_article(metadata, blocks_text(blocks), page_url)):
        return reason
    if metadata.paywalled and _text_length(blocks) < feed_chars:
        return "page is paywalled (only a teaser is public)"
    return Article(
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


@dataclass(frozen=True, slots=True)
class _Ruled:
    """What a site rule picked out of a page; empty fields are left to generic extraction."""

    title: str = ""
    lead: str = ""
    blocks: list[Block] = field(default_factory=list)


def _apply_rule(tree: lxml.html.HtmlElement, rule: SiteRule) -> _Ruled:
    for expression in rule.remove:
        for element in _select(tree, expression):
            _drop_keeping_tail(element)
    title = lead = ""
    if rule.title and (found := _select(tree, rule.title)):
        title = _selected_text(found[0])
    if rule.lead and (found := _select(tree, rule.lead)):
        lead = _selected_text(found[0])
    blocks = []
    if rule.body:
        for element in _select(tree, rule.body):
            blocks += [_restored(block) for block in _element_blocks(element)]
    return _Ruled(title, lead, blocks)


@lru_cache(maxsize=512)
def _compiled(expression: str) -> etree.XPath:
    return etree.XPath(expression)


def _select(tree: lxml.html.HtmlElement, expression: str) -> list[lxml.html.HtmlElement]:
    """The elements a rule's XPath matches, in document order."""
    found = _compiled(expression)(tree)
    return [element for element in found if isinstance(element, etree._Element)]  # type: ignore[union-attr]


def _drop_keeping_tail(element: lxml.html.HtmlElement) -> None:
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _selected_text(element: lxml.html.HtmlElement) -> str:
    # A rule may name a <meta> tag (og:title) when the page prints no better headline.
    if element.tag == "meta":
        return normalise_space(_restore(element.get("content", "")))
    return _text(element)


def _restored(block: Block) -> Block:
    return Block(block.kind, _restore(block.text), tuple(map(_restore, block.items)), block.ordered)


def _from_entry(entry: Entry, blocks: list[Block], reason: str) -> Article:
    blocks, credit = _split_credit(blocks)
    summary = " ".join(b.text for b in html_to_blocks(entry.summary_html)) if entry.content_html else ""
    link = entry.link or ""
    return Article(
        title=entry.title or _title_from(blocks),
        published=_publication_date(None, entry.published),
        lead=_lead(summary, blocks),
        url=link,
        canonical_url=entry.canonical_link or "",
        blocks=tuple(blocks),
        credit=credit,
        source="feed",
        fallback_reason=reason,
    )


def _main_text(tree: lxml.html.HtmlElement, page_url: str, *, fast: bool) -> list[Block]:
    """trafilatura's main-text blocks. `fast` skips its readability/jusText fallback, which
    costs a third of the time and, on AEB, does not help; thin results are retried with it."""
    document = bare_extraction(
        tree,
        url=page_url,
        fast=fast,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        include_formatting=False,
        deduplicate=False,
    )
    if document is None or document.body is None:
        return []
    return _blocks_from_trafilatura(document.body)


def _rest_of_split_body(tree: lxml.html.HtmlElement, blocks: list[Block]) -> list[Block]:
    """Paragraphs trafilatura missed because the page splits its body into several containers of
    one class (around ads or embeds); it keeps only the first. The rest follow, in page order."""
    first = next((b.text for b in blocks if b.kind == "paragraph" and len(b.text) >= 80), None)
    if first is None:
        return []
    probe = first[:60]
    holder = next((p for p in tree.iter("p") if _text(p).startswith(probe)), None)
    container = holder.getparent() if holder is not None else None
    if container is None or not container.get("class"):
        return []
    # Chunks of one body sit side by side: under the same parent, or in same-class wrappers
    # under the same grandparent.
    parent = container.getparent()
    grandparent = parent.getparent() if parent is not None else None
    siblings = [
        element
        for element in tree.iter(container.tag)
        if element is not container
        and element.get("class") == container.get("class")
        and (
            element.getparent() is parent
            or (
                element.getparent() is not None
                and element.getparent().getparent() is grandparent
                and element.getparent().get("class") == parent.get("class")
            )
        )
    ]
    if not siblings:
        return []
    seen = {b.text for b in blocks}
    order = {element: index for index, element in enumerate(tree.iter())}
    rest: list[Block] = []
    for element in siblings:
        if order[element] < order[container] or _link_share(element) > _CHUNK_MAX_LINK_SHARE:
            continue
        element = copy.deepcopy(element)
        for paragraph in list(element.iter("p", "li")):
            if _link_share(paragraph) > 0.5:  # "See more: ...", "Read next: ..."
                _drop_keeping_tail(paragraph)
        chunk = [b for b in map(_restored, _element_blocks(element)) if b.text not in seen]
        # A chunk of the story holds prose, not just a heading or a "See more:" line.
        if any(b.kind == "paragraph" and len(b.text) >= 80 for b in chunk):
            rest += chunk
            seen.update(b.text for b in chunk)
    return rest


_CHUNK_MAX_LINK_SHARE = 0.3


def _link_share(element: lxml.html.HtmlElement) -> float:
    total = len(_text(element))
    linked = sum(len(_text(a)) for a in element.iter("a"))
    return linked / total if total else 1.0


def _declared_links(tree: lxml.html.HtmlElement, page_url: str) -> dict[str, str]:
    """The page's rel=canonical (or og:url) and rel=shortlink, made absolute."""
    found: dict[str, str] = {}
    for link in tree.iterfind(".//head/link[@rel][@href]"):
        rels = link.get("rel", "").lower().split()
        href = urljoin(page_url, link.get("href", "").strip())
        if not is_web_url(href):
            continue
        for rel in ("canonical", "shortlink"):
            if rel in rels and rel not in found:
                found[rel] = href
    if "canonical" not in found:
        for meta in tree.iterfind(".//head/meta[@property='og:url'][@content]"):
            href = urljoin(page_url, meta.get("content", "").strip())
            if is_web_url(href):
                found["canonical"] = href
                break
    # A canonical pointing at the site's front page is a CMS bug, not the article's URL.
    if "canonical" in found:
        if urlsplit(found["canonical"]).path in ("", "/") and urlsplit(page_url).path not in ("", "/"):
            del found["canonical"]
        else:
            found["canonical"] = canonical_url(found["canonical"])
    return found


def _blocks_from_trafilatura(body: etree._Element) -> list[Block]:
    blocks: list[Block] = []
    for element in body:
        tag = element.tag
        if tag == "list":
            items = tuple(t for item in element.iter("item") if (t := _text(item)))
            if items:
                blocks.append(Block("list", items=items, ordered=element.get("rend") == "ol"))
        elif tag == "table":
            rows = tuple(
                " | ".join(c for cell in row.iter("cell") if (c := _text(cell)))
                for row in element.iter("row")
            )
            rows = tuple(r for r in rows if r)
            if rows:
                blocks.append(Block("table", items=rows))
        elif text := _text(element):
            blocks.append(Block("heading" if tag == "head" else "paragraph", text=text))
    return blocks


def _text(element: etree._Element) -> str:
    return normalise_space(_restore("".join(element.itertext())))


def _restore(text: str) -> str:
    return text.replace(_NBSP_STAND_IN, "\xa0")


def normalise_space(text: str) -> str:
    """Collapse runs of ASCII whitespace to one space; no-break spaces stay. A block that holds
    nothing but whitespace of any kind is empty."""
    text = _SPACE_RUN.sub(" ", text).strip(" ")
    return text if text.strip() else ""


_BLOCK_TAGS = frozenset(
    "p div section article main header footer aside blockquote pre figure table tr dl dd dt "
    "address center details summary form fieldset".split()
)
_SKIPPED_TAGS = frozenset(
    "script style noscript template iframe object embed svg figcaption img button".split()
)
_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())


def html_to_blocks(html: str) -> list[Block]:
    """Blocks from an HTML fragment such as a feed entry's content or summary."""
    if not html or not html.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return [Block("paragraph", text=t)] if (t := normalise_space(html)) else []
    return _element_blocks(root)


def _element_blocks(root: lxml.html.HtmlElement) -> list[Block]:
    """The paragraphs, headings and lists of one element's subtree, in document order."""
    blocks: list[Block] = []
    pending: list[str] = []

    def flush() -> None:
        if text := normalise_space("".join(pending)):
            blocks.append(Block("paragraph", text=text))
        pending.clear()

    def walk(node: lxml.html.HtmlElement) -> None:
        if node.text:
            pending.append(node.text)
        for child in node:
            tag = child.tag if isinstance(child.tag, str) else ""
            if not tag or tag in _SKIPPED_TAGS:
                pass
            elif tag in _HEADING_TAGS:
                flush()
                if text := normalise_space(child.text_content()):
                    blocks.append(Block("heading", text=text))
            elif tag in ("ul", "ol"):
                flush()
                items = tuple(t for li in child.iter("li") if (t := normalise_space(li.text_content())))
                if items:
                    blocks.append(Block("list", items=items, ordered=tag == "ol"))
            elif tag == "br":
                pending.append("\n")
            elif tag in _BLOCK_TAGS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)
            if child.tail:
                pending.append(child.tail)

    walk(root)
    flush()
    return blocks


# Credit lines printed at the foot of news stories.
_CREDIT_PATTERNS = (
    # DW: "ess/lo (AFP, Reuters)", "dh/rt (dpa, AP)"
    re.compile(r"^[a-z]{1,5}(?:/[a-z]{1,5})+[\s\xa0]*(?:\([^()]{1,80}\))?\.?$"),
    # Reuters: "Reporting by ...; Editing by ...", "(Reporting by ...)"
    re.compile(
        r"^[(\[]?(?:additional\s+)?(?:reporting|writing|editing|compiled|research)\b.{0,40}\bby\b", re.I
    ),
    # AP and others: "Associated Press writer Jane Doe contributed to this report."
    re.compile(r"\bcontributed(?:\s+(?:to\s+)?(?:this|the)\s+(?:report|story|article))?\.?\)?$", re.I),
    re.compile(r"^[-—–]*\s*with (?:files|reporting) from\b", re.I),
    re.compile(r"^\(?(?:©|copyright)\s.{0,80}(?:associated press|reuters|afp|agence france|dpa)\b", re.I),
)
_MAX_CREDIT_CHARS = 300


# Lines news sites print after every story; not the story's text.
_TRAILING_CHROME = (
    re.compile(r"^our standards: the thomson reuters trust principles\.?$", re.I),
    re.compile(r"^(?:copyright|©) \d{4} the associated press\. all rights reserved\.?$", re.I),
    re.compile(r"^(?:this|the) (?:article|story) (?:was|has been) (?:updated|amended)\b.{0,80}$", re.I),
)
_SEPARATOR = re.compile(r"^[\W_]+$")


def _split_credit(blocks: list[Block]) -> tuple[list[Block], str | None]:
    """Drop separator lines and trailing site boilerplate; move a trailing agency/author credit
    line out of the body."""
    blocks = [b for b in blocks if not (b.text and _SEPARATOR.match(b.text))]
    while (
        blocks and blocks[-1].kind == "paragraph" and any(p.match(blocks[-1].text) for p in _TRAILING_CHROME)
    ):
        blocks.pop()
    if len(blocks) >= 2 and blocks[-1].kind == "paragraph":
        last = blocks[-1].text
        if len(last) <= _MAX_CREDIT_CHARS and any(p.search(last) for p in _CREDIT_PATTERNS):
            return blocks[:-1], last
    return blocks, None


_TITLE_SEPARATOR = re.compile(r"(\s+[|\-–—:·•»/*]\s+)")
_DATE_LIKE = re.compile(r"^[\d./\-\s]+$")


def clean_title(
    title: str, sitename: str | None, page_url: str, entry_title: str, headlines: Sequence[str] = ()
) -> str:
    """Drop site suffixes such as " | DW | 19.01.2020" or " - BBC News" from a page title.

    A suffix is recognised by the site's name or host, or because the feed's title or a headline
    printed on the page (`headlines`) is the title without it ("Dax falls | Börsen-Zeitung")."""
    # Some sites escape their titles twice ("zerst&ouml;ren" after the parser's own unescaping).
    title = normalise_space(unescape(title) if "&" in title else title)
    site_keys = {_squash(sitename or "")}
    if host := (urlsplit(page_url).hostname or "").removeprefix("www."):
        site_keys |= {_squash(host), _squash(host.split(".")[0])}
    site_keys.discard("")

    def is_site_suffix(part: str) -> bool:
        squashed = _squash(part)
        return bool(_DATE_LIKE.match(part)) or any(
            squashed == key or (len(key) >= 2 and squashed.startswith(key)) for key in site_keys
        )

    shorter = [
        known
        for known in (entry_title, *headlines)
        if known
        and title.startswith(known)
        and _TITLE_SEPARATOR.match(title[len(known) :])
        and not is_site_suffix(known)  # a logo in an <h1> before "Site - Story" titles
    ]
    if shorter:
        return min(shorter, key=len)

    pieces = _TITLE_SEPARATOR.split(title)  # [part, separator, part, separator, part, ...]
    while len(pieces) >= 3 and is_site_suffix(pieces[-1]):
        del pieces[-2:]
    return "".join(pieces)


_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_MAX_DERIVED_TITLE = 90


def _title_from(blocks: Sequence[Block]) -> str:
    """A title for an article that has none: its first sentence, shortened on a word boundary."""
    first = next((b.text for b in blocks if b.text), "")
    sentence = _SENTENCE_END.split(first, maxsplit=1)[0]
    if len(sentence) <= _MAX_DERIVED_TITLE:
        return sentence
    return sentence[:_MAX_DERIVED_TITLE].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text.lower())


def _lead(candidate: str, blocks: list[Block]) -> str | None:
    """The standfirst, unless it is missing or merely repeats the first paragraph."""
    lead = normalise_space(candidate)
    if not lead:
        return None
    first = next((b.text for b in blocks if b.kind == "paragraph"), "")
    # Descriptions are often the first paragraph, truncated or without its dateline.
    stem = _squash(lead.rstrip(".…").rstrip())
    if stem and stem in _squash(first):
        return None
    return lead


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
