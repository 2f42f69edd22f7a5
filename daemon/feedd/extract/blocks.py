"""HTML to Blocks: feed entries' fragments, a site rule's elements and trafilatura's main text,
with FORMAT.md's whitespace rules (ASCII whitespace collapsed, no-break spaces kept); and which
blocks are quoted material rather than the outlet's own prose (mark_quoted)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import lxml.html
from lxml import etree

from feedd.extract.records import Block

#: trafilatura folds every whitespace run, no-break spaces included, into one space; FORMAT.md
#: keeps the page's no-break spaces. A noncharacter stands in for them during extraction.
_NBSP_STAND_IN = "\ufdd0"
_NBSP_SPELLINGS = re.compile(r"\xa0|&nbsp;|&#160;|&#[xX]0*[aA]0;")
_SPACE_RUN = re.compile(r"[ \t\n\r\f\v\u2028\u2029]+")  # not \xa0: FORMAT.md keeps it

_BLOCK_TAGS = frozenset(
    "p div section article main header footer aside blockquote pre figure table tr dl dd dt "
    "address center details summary form fieldset".split()
)
_SKIPPED_TAGS = frozenset(
    "script style noscript template iframe object embed svg figcaption img button".split()
)
_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())


def hide_nbsp(html: str) -> str:
    """The page with its no-break spaces, however spelled, replaced by the stand-in."""
    return _NBSP_SPELLINGS.sub(_NBSP_STAND_IN, html)


def restore_nbsp(text: str) -> str:
    """Text with the stand-in turned back into no-break spaces."""
    return text.replace(_NBSP_STAND_IN, "\xa0")


def restored(block: Block) -> Block:
    return replace(block, text=restore_nbsp(block.text), items=tuple(map(restore_nbsp, block.items)))


def normalise_space(text: str) -> str:
    """Collapse runs of ASCII whitespace to one space; no-break spaces stay. A block that holds
    nothing but whitespace of any kind is empty."""
    text = _SPACE_RUN.sub(" ", text).strip(" ")
    return text if text.strip() else ""


def element_text(element: etree._Element) -> str:
    """An element's text, normalised, with its no-break spaces restored."""
    return normalise_space(restore_nbsp("".join(element.itertext())))


def text_length(blocks: Sequence[Block]) -> int:
    return sum(len(block.text) + sum(map(len, block.items)) for block in blocks)


def html_to_blocks(html: str) -> list[Block]:
    """Blocks from an HTML fragment such as a feed entry's content or summary."""
    if not html or not html.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return [Block("paragraph", text=t)] if (t := normalise_space(html)) else []
    return mark_quoted(element_blocks(root), root)


def element_blocks(root: lxml.html.HtmlElement) -> list[Block]:
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


def blocks_from_trafilatura(body: etree._Element) -> list[Block]:
    """Blocks from trafilatura's XML body (<p>, <head>, <list>/<item>, <table>/<row>/<cell>)."""
    # A line break (<br>, <lb/> here) parts words as a space does, as in html_to_blocks: "FL<br>June
    # 10" is "FL June 10", not "FLJune 10".
    for line_break in body.iter("lb"):
        line_break.tail = " " + (line_break.tail or "")
    blocks: list[Block] = []
    # Text the page sets straight after a heading, in no <p>, is a paragraph there: trafilatura
    # keeps it as the tail of the element before it (or of none, the body's own text). Only in
    # its <body>: a fallback may return some other element (a <nav>) whose loose text is chrome.
    loose_text = body.tag == "body"
    if loose_text and (opening := normalise_space(restore_nbsp(body.text or ""))):
        blocks.append(Block("paragraph", text=opening))
    for element in body:
        tag = element.tag
        if tag == "list":
            items = tuple(t for item in element.iter("item") if (t := element_text(item)))
            if items:
                blocks.append(Block("list", items=items, ordered=element.get("rend") == "ol"))
        elif tag == "table":
            rows = tuple(
                " | ".join(c for cell in row.iter("cell") if (c := element_text(cell)))
                for row in element.iter("row")
            )
            rows = tuple(r for r in rows if r)
            if rows:
                blocks.append(Block("table", items=rows))
        elif text := element_text(element):
            blocks.append(Block("heading" if tag == "head" else "paragraph", text=text))
        if loose_text and (tail := normalise_space(restore_nbsp(element.tail or ""))):
            blocks.append(Block("paragraph", text=tail))
    return blocks


def drop_keeping_tail(element: lxml.html.HtmlElement) -> None:
    """Remove an element from its tree, keeping the text that follows it."""
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


#: The class of a social post's embed code (X/Twitter, Instagram, Bluesky, Mastodon, TikTok,
#: Threads): the element holds the post's text. An embed that is only an iframe, or that a
#: script renders, has no text in the page to recognise.
_POST_EMBED_CLASSES = frozenset(
    "twitter-tweet twitter-video instagram-media bluesky-embed mastodon-embed tiktok-embed "
    "text-post-media".split()
)
_PULL_QUOTE_CLASS = re.compile(r"pull[-_]?quote", re.IGNORECASE)
#: A pull quote is a sentence or two; a longer element with such a class is a container of them
#: ("has-pullquotes"), or of the whole story.
_PULL_QUOTE_MAX_CHARS = 600
#: Where embeds and pull quotes sit. Walking these tags with a cheap test of the class costs
#: 0.2 ms a page on AEB; an XPath test of every element's class, 1.7 ms.
_QUOTED_TAGS = ("blockquote", "aside", "figure", "div", "td")
_CLASS_HINT = re.compile(r"uote|UOTE|tweet|media|embed|post")
#: A block inside an embed's text is the embed's when it holds half of it or this many words:
#: a short line of the story may also occur in a post ("Meth. We're on it.").
_MIN_EMBED_WORDS = 10
#: A list or table is a listing (names, results, figures) when it has this many entries (items,
#: or table cells) of at most _LISTING_MAX_WORDS words on average. A list must also read like
#: one: most of its items hold a figure, or are mostly capitalised words (names, titles); a list
#: of short sentences (key points, steps) is the outlet's prose.
_LISTING_MIN_ENTRIES = 3
_LISTING_MAX_WORDS = 10
_LISTING_ITEM_SHARE = 2 / 3
_NAME_WORD_SHARE = 0.6
_NOT_ALNUM = re.compile(r"[\W_]+")


def mark_quoted(blocks: Sequence[Block], root: etree._Element) -> list[Block]:
    """The blocks, those that are quoted material marked `quoted`: the text of an embedded social
    post or of a pull quote in `root` (the page the blocks were extracted from, whose markup
    extraction may have dropped), and listings."""
    found = _quoted_elements(root)
    # A pull quote that repeats a whole paragraph of the story is quoted only where a block says
    # it again (extraction often drops the pull quote itself, leaving the paragraph the story's);
    # one that repeats part of a longer paragraph is the quote wherever it stands.
    squashed = (
        [_squashed(block.text or " ".join(block.items)) for block in blocks] if found.pull_quotes else []
    )
    copies = Counter(squashed)
    seen: set[str] = set()
    marked: list[Block] = []
    previous: str | None = None  # the post the block before belongs to
    for index, block in enumerate(blocks):
        post = _embed_holding(block, found.posts, previous)
        pulled = False
        if _embed_holding(block, found.pull_quotes, None):
            text = squashed[index]
            pulled = text not in found.prose or (copies[text] > 1 and text in seen)
        if squashed:
            seen.add(squashed[index])
        quoted = block.quoted or post is not None or pulled or _is_listing(block)
        marked.append(replace(block, quoted=True) if quoted and not block.quoted else block)
        previous = post
    return marked


@dataclass(frozen=True, slots=True)
class _QuotedElements:
    """The squashed texts of a page's embedded posts and pull quotes, and of its paragraphs
    outside the pull quotes (the story's own, where a pull quote repeats one whole)."""

    posts: list[str]
    pull_quotes: list[str]
    prose: frozenset[str]


def _quoted_elements(root: etree._Element) -> _QuotedElements:
    posts: list[str] = []
    pull_quotes: list[str] = []
    pull_quote_elements = []
    for element in root.iter(_QUOTED_TAGS):
        names = element.get("class")
        if not names or not _CLASS_HINT.search(names):
            continue
        if _POST_EMBED_CLASSES.intersection(names.split()):
            found = posts
        elif _PULL_QUOTE_CLASS.search(names):
            if len(normalise_space("".join(element.itertext()))) > _PULL_QUOTE_MAX_CHARS:
                continue
            found = pull_quotes
            pull_quote_elements.append(element)
        else:
            continue
        if squashed := _squashed("".join(element.itertext())):
            found.append(squashed)
    if not pull_quotes:
        return _QuotedElements(posts, pull_quotes, frozenset())
    inside = {p for element in pull_quote_elements for p in element.iter("p")}
    prose = frozenset(_squashed("".join(p.itertext())) for p in root.iter("p") if p not in inside)
    return _QuotedElements(posts, pull_quotes, prose)


def _embed_holding(block: Block, embeds: list[str], previous: str | None) -> str | None:
    """The embed whose text holds the block's: most of it, or a sentence of it, or the rest of
    the embed the block before began (a post's byline, a caption's next paragraph)."""
    if not embeds:
        return None
    text = block.text or " ".join(block.items)
    squashed = _squashed(text)
    if not squashed:
        return None
    if previous is not None and squashed in previous:
        return previous
    long_enough = len(text.split()) >= _MIN_EMBED_WORDS
    return next(
        (embed for embed in embeds if squashed in embed and (long_enough or 2 * len(squashed) >= len(embed))),
        None,
    )


def _is_listing(block: Block) -> bool:
    if block.kind == "list":
        entries: Sequence[str] = block.items
    elif block.kind == "table":
        entries = [cell for row in block.items for cell in row.split(" | ")]
    else:
        return False
    words = sum(len(entry.split()) for entry in entries)
    if len(entries) < _LISTING_MIN_ENTRIES or words > _LISTING_MAX_WORDS * len(entries):
        return False
    if block.kind == "table":
        return True
    return sum(map(_reads_like_an_entry, entries)) >= _LISTING_ITEM_SHARE * len(entries)


def _reads_like_an_entry(item: str) -> bool:
    """A result or a name ("England (Group A): 10th appearance", "Ann Lee, Harbour Trust"), not a
    short sentence ("Search engines will drive people to your information")."""
    words = [word for word in item.split() if any(c.isalnum() for c in word)]
    capitalised = sum(1 for word in words if word[0].isupper() or not word[0].isalpha())
    return any(c.isdigit() for c in item) or (bool(words) and capitalised >= _NAME_WORD_SHARE * len(words))


def _squashed(text: str) -> str:
    """Letters and digits only, case-folded: the same text whatever whitespace and punctuation
    extraction gave it (trafilatura runs a post's lines together, the page's markup may not)."""
    return _NOT_ALNUM.sub("", text.casefold())
