"""The article a client-rendered page carries only in its hydration data.

Single-page apps (Next.js, React Query, Nuxt) ship the article as a JSON string inside a <script>
and render it in the browser: the HTML itself has no text for trafilatura to find. The longest
string in the page's scripts that is HTML holding paragraphs is the article's body.
"""

from __future__ import annotations

import json
import re

import lxml.html
from trafilatura.utils import load_html

from feedd.extract.blocks import hide_nbsp
from feedd.extract.main_text import main_text
from feedd.extract.records import Block

#: A JSON string literal long enough to be an article ("\\u003c" is how JSON escapes "<").
_LONG_STRING = re.compile(r'"((?:[^"\\]|\\.){400,})"')
_PARAGRAPH = re.compile(r"<p[\s>]", re.I)
_MIN_PARAGRAPHS = 3


def hydrated_text(tree: lxml.html.HtmlElement, page_url: str) -> list[Block]:
    """The main text of the article in the page's hydration data; [] when there is none."""
    body = hydrated_body_html(tree)
    if body is None:
        return []
    document = load_html(f"<html><body><article>{hide_nbsp(body)}</article></body></html>")
    return [] if document is None else main_text(document, page_url, fast=True)


def hydrated_body_html(tree: lxml.html.HtmlElement) -> str | None:
    """The HTML of the longest paragraph-holding string in the page's inline scripts, if any."""
    best: str | None = None
    for script in tree.iter("script"):
        source = script.text or ""
        if "\\u003cp" not in source and "<p" not in source:
            continue
        for match in _LONG_STRING.finditer(source):
            try:
                value = json.loads(f'"{match.group(1)}"')
            except ValueError:
                continue
            if len(_PARAGRAPH.findall(value)) >= _MIN_PARAGRAPHS and (best is None or len(value) > len(best)):
                best = value
    return best
