"""The article a client-rendered page carries only in its hydration data.

Single-page apps (Next.js, React Query, Nuxt) ship the article as a JSON string inside a <script>
and render it in the browser: the HTML itself has no text for trafilatura to find. The article's
body is the longest string in the page's scripts that is HTML holding paragraphs and whose record
(the nearest enclosing object with a title: a "title", "headline" or "name" key, quoted or not, or
a title record such as WordPress's {"rendered": ...}) is titled with the page's headline: a body in
a record titled otherwise, or beyond a list of titled records, is a related story's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

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
#: An unquoted key right before a string: `title:"..."` in JavaScript data (Nuxt).
_UNQUOTED_KEY = re.compile(r"([A-Za-z_$][\w$]*)\s*:\s*$")
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
        for body in scan.bodies:
            if (best is None or len(body.html) > len(best)) and _titled_as_page(scan, body, headlines):
                best = body.html
    return best


class _Scan:
    """What a script's data holds: its records (objects) and lists, which record or list holds
    which, the title of each record that has one, and the strings that may be an article's body
    with the records and lists enclosing them, innermost last."""

    __slots__ = ("_holders", "_next_id", "_parents", "bodies", "lists", "titled_lists", "titles")

    def __init__(self) -> None:
        self.titles: dict[int, _Title] = {}
        self.lists: set[int] = set()
        #: Lists holding a titled record: lists of other stories.
        self.titled_lists: set[int] = set()
        self.bodies: list[_Body] = []
        self._parents: dict[int, int | None] = {}
        #: Records that are a title ("title": {"rendered": "..."}), and the record they title.
        self._holders: dict[int, _Title] = {}
        self._next_id = 0

    def read(self, source: str, outer: tuple[int, ...]) -> None:
        path = list(outer)
        key: str | None = None
        end = 0
        for match in _strings(source):
            gap = source[end : match.start()]
            if key is not None and "," in gap:
                key = None  # the key's value was no string
            for bracket in _BRACKET.findall(gap):
                if bracket in "{[":
                    self._open(path, key, is_list=bracket == "[")
                    key = None
                elif len(path) > len(outer):
                    path.pop()
            if key is None and (unquoted := _UNQUOTED_KEY.search(gap)):
                key = unquoted.group(1)  # {title:"..."}: JavaScript, not JSON
            end = match.end()
            raw = match.group(1)
            value = raw if "\\" not in raw else _decoded(raw)
            if value is None:
                key = None
                continue
            if _KEY_END.match(source, end):
                key = value
                continue
            self._value(value, key, path)
            key = None

    def _open(self, path: list[int], key: str | None, *, is_list: bool) -> None:
        container = self._next_id
        self._next_id += 1
        parent = path[-1] if path else None
        self._parents[container] = parent
        if is_list:
            self.lists.add(container)
        elif key is not None and parent is not None and (rank := _title_rank(key)) is not None:
            self._holders[container] = _Title(rank, "", parent)
        path.append(container)

    def _value(self, value: str, key: str | None, path: list[int]) -> None:
        record = path[-1] if path else None
        if record is not None and record not in self.lists:
            if key is not None and (rank := _title_rank(key)) is not None:
                self._title(record, _Title(rank, value, record))
            elif (holder := self._holders.get(record)) is not None:
                self._title(holder.record, _Title(holder.rank, value, holder.record))
        if len(value) >= _MIN_BODY_CHARS:
            self._consider(value, tuple(path))

    def _title(self, record: int, title: _Title) -> None:
        known = self.titles.get(record)
        if known is None or title.rank < known.rank:
            self.titles[record] = title
            if (parent := self._parents.get(record)) is not None and parent in self.lists:
                self.titled_lists.add(parent)

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
            self.bodies.append(_Body(value, path))


@dataclass(frozen=True, slots=True)
class _Title:
    #: 0 for a "title" or "headline", 1 for a "name": a record's title is its best-ranked one.
    rank: int
    value: str
    record: int


@dataclass(frozen=True, slots=True)
class _Body:
    html: str
    #: The records and lists around it, innermost last.
    path: tuple[int, ...]


def _title_rank(key: str) -> int | None:
    if _TITLE_KEY.fullmatch(key):
        return 0
    return 1 if key.lower() == "name" else None


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


def _titled_as_page(scan: _Scan, body: _Body, headlines: Sequence[str]) -> bool:
    """Whether the nearest record around a body that has a title is titled as the page is. A list
    of titled records on the way out is a list of other stories: a title beyond it is not the
    body's (a list of untitled parts, "sections", is the story's own)."""
    for container in reversed(body.path):
        if container in scan.titled_lists:
            return False
        if (title := scan.titles.get(container)) is not None:
            return any(same_words(title.value, headline) for headline in headlines)
    return False
