"""HTML to Blocks: feed entries' fragments, a site rule's elements and trafilatura's main text,
with FORMAT.md's whitespace rules (ASCII whitespace collapsed, no-break spaces kept)."""

from __future__ import annotations

import re
from collections.abc import Sequence

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
    return Block(block.kind, restore_nbsp(block.text), tuple(map(restore_nbsp, block.items)), block.ordered)


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
    return element_blocks(root)


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
    blocks: list[Block] = []
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
