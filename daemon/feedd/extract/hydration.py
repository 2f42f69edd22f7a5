"""The article a client-rendered page carries only in its hydration data.

Single-page apps (Next.js, React Query, Nuxt) ship the article as a JSON string inside a <script>
and render it in the browser: the HTML itself has no text for trafilatura to find. The article's
body is the longest string in the page's scripts that is HTML holding paragraphs and sits beside
the page's own headline (a key of the same record, "title" next to "contentHtml"): a string
without one may be a related story's body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import lxml.html
from trafilatura.utils import load_html

from feedd.extract.blocks import hide_nbsp
from feedd.extract.main_text import main_text
from feedd.extract.page_header import same_words
from feedd.extract.records import Block

#: A JSON string literal, unrolled so that matching keeps no state per character (a megabyte
#: string would otherwise cost ~130 MB), and matching every string keeps the quotes paired.
_STRING = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"')
_PARAGRAPH = re.compile(r"<p[\s>]", re.I)
_MIN_PARAGRAPHS = 3
_MIN_BODY_CHARS = 400
#: How many strings either side of a body its record's headline may be.
_NEARBY_STRINGS = 40
_MAX_HEADLINE_CHARS = 300
#: What follows a key: its colon.
_KEY_END = re.compile(r"\s*:\s*")
_TITLE_KEY = re.compile(r"title|headline", re.I)  # whole keys: not "subTitle", "seoTitle"


def hydrated_text(tree: lxml.html.HtmlElement, page_url: str, headlines: Sequence[str]) -> list[Block]:
    """The main text of the article in the page's hydration data; [] when there is none."""
    body = hydrated_body_html(tree, headlines)
    if body is None:
        return []
    document = load_html(f"<html><body><article>{hide_nbsp(body)}</article></body></html>")
    return [] if document is None else main_text(document, page_url, fast=True)


def hydrated_body_html(tree: lxml.html.HtmlElement, headlines: Sequence[str]) -> str | None:
    """The HTML of the longest paragraph-holding string in the page's inline scripts whose record
    is the page's story, if any."""
    headlines = [h for h in headlines if h]
    best: str | None = None
    for script in tree.iter("script"):
        source = script.text or ""
        if not any(mark in source for mark in ("<p", "\\u003cp", "\\u003Cp")):
            continue
        strings = _strings(source)
        for at, found in enumerate(strings):
            value = found.value
            if (
                len(value) >= _MIN_BODY_CHARS
                and (best is None or len(value) > len(best))
                and len(_PARAGRAPH.findall(value)) >= _MIN_PARAGRAPHS
                and _the_pages_story(strings, at, headlines)
            ):
                best = value
    return best


@dataclass(frozen=True, slots=True)
class _String:
    """A string literal of a script, decoded, and the key it is the value of, if any."""

    value: str
    key: str | None


def _strings(source: str, *, nested: bool = False) -> list[_String]:
    """The decoded string literals of a script, in order; a string that is itself JSON text
    (`JSON.parse("{...}")`) gives its own strings instead."""
    found: list[_String] = []
    key: str | None = None
    key_end = -1
    for match in _STRING.finditer(source):
        try:
            value = json.loads(f'"{match.group(1)}"')
        except ValueError:
            continue
        if _KEY_END.match(source, match.end()):
            key, key_end = value, match.end()
            continue
        owner = key if key is not None and _KEY_END.fullmatch(source, key_end, match.start()) else None
        if not nested and value[:1] in ("{", "[") and len(value) >= _MIN_BODY_CHARS:
            found.extend(_strings(value, nested=True))
        else:
            found.append(_String(value, owner))
    return found


def _the_pages_story(strings: Sequence[_String], at: int, headlines: Sequence[str]) -> bool:
    """Whether the record around strings[at] is the page's story: its nearest "title" (or
    "headline") says one of `headlines`; with none near, any short string near it that does."""
    near = sorted(
        range(max(0, at - _NEARBY_STRINGS), min(len(strings), at + _NEARBY_STRINGS)),
        key=lambda i: abs(i - at),
    )
    titled = next((i for i in near if (key := strings[i].key) and _TITLE_KEY.fullmatch(key)), None)
    candidates = [strings[titled]] if titled is not None else [strings[i] for i in near]
    return any(
        same_words(found.value, headline)
        for found in candidates
        if len(found.value) <= _MAX_HEADLINE_CHARS
        for headline in headlines
    )
