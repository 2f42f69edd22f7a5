"""A page's main text by trafilatura, the chunks of a split body that it misses, and how much of
the body the page declares in its JSON-LD a text holds."""

from __future__ import annotations

import copy
import html
import re

import lxml.html
from trafilatura import bare_extraction
from trafilatura.settings import Document

from feedd.extract.blocks import (
    blocks_from_trafilatura,
    drop_keeping_tail,
    element_blocks,
    element_text,
    restored,
)
from feedd.extract.records import Block

_CHUNK_MAX_LINK_SHARE = 0.3
_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")
#: A declared body is read this far (a page may declare megabytes) ...
_DECLARED_MAX_CHARS = 200_000
#: ... and says something about the page's text from this many word 4-grams.
_DECLARED_MIN_SHINGLES = 20


def main_text(tree: lxml.html.HtmlElement, page_url: str, *, fast: bool) -> list[Block]:
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
    # A Document unless as_dict is asked for, which it is not; None when nothing was found.
    if not isinstance(document, Document) or document.body is None:
        return []
    return blocks_from_trafilatura(document.body)


def rest_of_split_body(tree: lxml.html.HtmlElement, blocks: list[Block]) -> list[Block]:
    """Paragraphs trafilatura missed because the page splits its body into several containers of
    one class (around ads or embeds); it keeps only the first. The rest follow, in page order."""
    first = next((b.text for b in blocks if b.kind == "paragraph" and len(b.text) >= 80), None)
    if first is None:
        return []
    probe = first[:60]
    holder = next((p for p in tree.iter("p") if element_text(p).startswith(probe)), None)
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
                drop_keeping_tail(paragraph)
        chunk = [b for b in map(restored, element_blocks(element)) if b.text not in seen]
        # A chunk of the story holds prose, not just a heading or a "See more:" line.
        if any(b.kind == "paragraph" and len(b.text) >= 80 for b in chunk):
            rest += chunk
            seen.update(b.text for b in chunk)
    return rest


def _link_share(element: lxml.html.HtmlElement) -> float:
    total = len(element_text(element))
    linked = sum(len(element_text(a)) for a in element.iter("a"))
    return linked / total if total else 1.0


def declared_share(blocks: list[Block], declared: str | None) -> float | None:
    """How much of the body the page declares (JSON-LD articleBody, HTML or plain text) `blocks`
    hold: the share of its word 4-grams found in them; None when the page declares none, or
    too little to say anything about the page's extraction (a teaser, a stub)."""
    if declared is None:
        return None
    # Only words count: tags and entities (some bodies are escaped twice) are dropped, not parsed.
    text = _TAG.sub(" ", html.unescape(declared[:_DECLARED_MAX_CHARS]))
    wanted = _shingles(text)
    if len(wanted) < _DECLARED_MIN_SHINGLES:
        return None
    return len(wanted & _shingles(" ".join(b.text or " ".join(b.items) for b in blocks))) / len(wanted)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 4]) for i in range(len(words) - 3)}
