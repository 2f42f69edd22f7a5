"""The head of a story: its title without the site's suffix (or one derived from the text when
there is none), and a lead that says more than the first paragraph."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import unescape
from urllib.parse import urlsplit

from feedd.extract.blocks import normalise_space
from feedd.extract.records import Block

#: " | ", " - ", " : "...; and the full-width bar and colon that CJK titles set without spaces
#: ("津波注意報：朝日新聞デジタル").
_TITLE_SEPARATOR = re.compile(r"(\s+[|\-–—:·•»/*]\s+|\s*[｜：]\s*)")
_DATE_LIKE = re.compile(r"^[\d./\-\s]+$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_MAX_DERIVED_TITLE = 90
#: A description that opens with one of these and has no more than a few words is what a
#: template leaves when the story's part of it is empty ("| Lebanon News", "- Example Times").
_TEMPLATE_SEPARATORS = "|-–—·•:/"
_TEMPLATE_MAX_WORDS = 4


def clean_title(
    title: str, sitename: str | None, page_url: str, entry_title: str, headlines: Sequence[str] = ()
) -> str:
    """Drop site suffixes such as " | DW | 19.01.2020" or " - BBC News" from a page title.

    A suffix is recognised by the site's name or host, or because the feed's title or a headline
    printed on the page (`headlines`) is the title without it ("Dax falls | Börsen-Zeitung")."""
    # Some sites escape their titles twice ("zerst&ouml;ren" after the parser's own unescaping).
    title = normalise_space(unescape(title) if "&" in title else title)
    site_keys = {squash(sitename or "")}
    if host := (urlsplit(page_url).hostname or "").removeprefix("www."):
        site_keys |= {squash(host), squash(host.split(".")[0])}
    site_keys.discard("")

    def is_site_suffix(part: str) -> bool:
        squashed = squash(part)
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


def title_from(blocks: Sequence[Block]) -> str:
    """A title for an article that has none: its first sentence, shortened on a word boundary."""
    first = next((b.text for b in blocks if b.text), "")
    sentence = _SENTENCE_END.split(first, maxsplit=1)[0]
    if len(sentence) <= _MAX_DERIVED_TITLE:
        return sentence
    return sentence[:_MAX_DERIVED_TITLE].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def distinct_lead(candidate: str, blocks: list[Block], site_name: str | None = None) -> str | None:
    """The standfirst, unless it is missing, merely repeats the first paragraph, or says nothing but
    the site's name ("| Lebanon News": a template's description with its story part empty)."""
    lead = normalise_space(candidate)
    template_remains = lead[:1] in _TEMPLATE_SEPARATORS and len(lead[1:].split()) <= _TEMPLATE_MAX_WORDS
    if not lead or template_remains or (site_name and squash(lead) == squash(site_name)):
        return None
    first = next((b.text for b in blocks if b.kind == "paragraph"), "")
    # Descriptions are often the first paragraph, truncated or without its dateline.
    stem = squash(lead.rstrip(".…").rstrip())
    if stem and stem in squash(first):
        return None
    return lead


def squash(text: str) -> str:
    """Lower-case letters and digits only: how titles and leads are compared."""
    return re.sub(r"\W+", "", text.lower())
