"""The article a client-rendered page carries only in its hydration data.

Single-page apps (Next.js, React Query, Nuxt) ship the article as a JSON string inside a <script>
and render it in the browser: the HTML itself has no text for trafilatura to find. The article's
body is the longest string in the page's scripts that is HTML holding paragraphs and whose record
(the nearest enclosing object with a "title" or "headline") is titled with the page's headline: a
body in a record titled otherwise is a related story's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence

import lxml.html
from trafilatura.utils import load_html

from feedd.extract.blocks import hide_nbsp
from feedd.extract.main_text import main_text
from feedd.extract.page_header import same_words
from feedd.extract.records import Block

#: A JSON string literal, or one never closed (to the end of the text). Possessive, so a match
#: keeps no state per character and never rescans: constant memory and linear time on any script.
_STRING = re.compile(r'"([^"\\]*+(?:\\.[^"\\]*+)*+)(?:(")|\\?\Z)', re.S)
#: The brackets between two strings: where objects and arrays open and close.
_BRACKET = re.compile(r"[{}\[\]]")
_KEY_END = re.compile(r"\s*:")
_TITLE_KEY = re.compile(r"title|headline", re.I)  # whole keys: not "subTitle", "seoTitle"
_PARAGRAPH = re.compile(r"<p[\s>]", re.I)
_MIN_PARAGRAPHS = 3
_MIN_BODY_CHARS = 400


def hydrated_text(tree: lxml.html.HtmlElement, page_url: str, headlines: Sequence[str]) -> list[Block]:
    """The main text of the article in the page's hydration data; [] when there is none."""
    body = hydrated_body_html(tree, headlines)
    if body is None:
        return []
    document = load_html(f"<html><body><article>{hide_nbsp(body)}</article></body></html>")
    return [] if document is None else main_text(document, page_url, fast=True)


def hydrated_body_html(tree: lxml.html.HtmlElement, headlines: Sequence[str]) -> str | None:
    """The HTML of the longest paragraph-holding string in the page's inline scripts whose record
    is titled with one of `headlines`, if any."""
    headlines = [h for h in headlines if h]
    best: str | None = None
    for script in tree.iter("script"):
        source = script.text or ""
        if not any(mark in source for mark in ("<p", "\\u003cp", "\\u003Cp")):
            continue
        scan = _Scan()
        scan.read(source, ())
        for value, path in scan.bodies:
            if (best is None or len(value) > len(best)) and _titled_as_page(scan.titles, path, headlines):
                best = value
    return best


class _Scan:
    """What a script's data holds: the title of each record (object) that has one, and the
    strings that may be an article's body with the records enclosing them, innermost last."""

    __slots__ = ("_next_id", "bodies", "titles")

    def __init__(self) -> None:
        self.titles: dict[int, str] = {}
        self.bodies: list[tuple[str, tuple[int, ...]]] = []
        self._next_id = 0

    def read(self, source: str, outer: tuple[int, ...]) -> None:
        path = list(outer)
        key: str | None = None
        end = 0
        for match in _strings(source):
            for bracket in _BRACKET.findall(source, end, match.start()):
                if bracket in "{[":
                    path.append(self._next_id if bracket == "{" else -1)  # arrays hold no titles
                    self._next_id += 1
                elif len(path) > len(outer):
                    path.pop()
            end = match.end()
            raw = match.group(1)
            value = raw if "\\" not in raw else _decoded(raw)
            if value is None:
                key = None
                continue
            if _KEY_END.match(source, end):
                key = value
                continue
            if key is not None and _TITLE_KEY.fullmatch(key) and path and path[-1] >= 0:
                self.titles.setdefault(path[-1], value)
            key = None
            if len(value) >= _MIN_BODY_CHARS:
                self._consider(value, tuple(path))

    def _consider(self, value: str, path: tuple[int, ...]) -> None:
        if value[:1] in ("{", "["):
            # JSON text inside a string (`JSON.parse("{...}")`): its records are read in turn.
            try:
                json.loads(value)
            except ValueError:
                pass
            else:
                self.read(value, path)
                return
        if len(_PARAGRAPH.findall(value)) >= _MIN_PARAGRAPHS:
            self.bodies.append((value, path))


def _strings(source: str) -> Iterator[re.Match[str]]:
    """The string literals of a script, up to one never closed."""
    for match in _STRING.finditer(source):
        if match.group(2) is None:
            return
        yield match


def _decoded(raw: str) -> str | None:
    try:
        value = json.loads(f'"{raw}"')
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _titled_as_page(titles: dict[int, str], path: tuple[int, ...], headlines: Sequence[str]) -> bool:
    """Whether the nearest record around a body that has a title is titled as the page is. A list
    on the way out holds other records (related stories): a title beyond it is not the body's."""
    for record in reversed(path):
        if record < 0:
            return False
        if (title := titles.get(record)) is not None:
            return any(same_words(title, headline) for headline in headlines)
    return False
