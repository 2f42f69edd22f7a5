"""What news sites print inside and around every story that is not the story: newsletter and
subscription boxes, share, print and reprint prompts, and links to other stories.

trafilatura removes most of it by markup; what slips through is recognised by what it says (a
short line in the words of a sign-up box) or by being a link (a paragraph, heading or list whose
text is the text of a link on the page: "related stories" lists, all-caps teaser links).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from feedd.extract.records import Block

#: Words of sign-up, share, reprint, comment and "more stories" widgets, and of contact lines.
#: Matched at the start of short paragraphs only.
_WIDGET_LINE = re.compile(
    r"^(?:"
    # newsletters and subscriptions
    r"thanks? (?:you )?for (?:signing up|subscribing|reading)|sign up (?:for|to|now)|"
    r"subscribe(?: (?:to|for|now)|!?$)|get the latest .{0,60}(?:inbox|newsletter)|keep an eye on your inbox|"
    r"(?:an|there was an) error (?:has )?(?:occurred|processing)|sorry!?$|thank you!?$|"
    r"if you enjoyed this article|"
    # share, print, reprint
    r"this (?:article|story) has been sent to|order reprints|print article|"
    r"this copy is for your personal, non-commercial use|like this (?:story|article)\? share|"
    r"share (?:this|on) |click here (?:to|for) |"
    # other stories
    r"see more:|don'?t miss\b|read more:|related(?: posts?| articles?| stories| coverage)?:|\[related:|"
    r"also: see |you may also like|popular on |most read\b|explore further$|more great .{0,30} stories$|"
    r"more:$|filed under:|leggi anche|lesen sie auch|lire aussi|leia também|lea también|"
    # cookie notices
    r"(?:we|this (?:web)?site) uses? cookies|we value your privacy|"
    # comments, reading time
    r"(?:\d+ )?comments?$|"
    r"(?:estimated )?(?:reading time|tempo de leitura|lesedauer|temps de lecture|tiempo de lectura):? ?\d|"
    # follow and contact lines
    r"follow (?:us|@\w+) on |follow .{1,40} on (?:facebook|twitter|instagram|youtube)|"
    r"follow .{1,20}'s full coverage|listen to .{1,40} live|have a tip\?|"
    r"email .{1,40} at \S+@|reach (?:the reporters?|.{1,40}) (?:on twitter )?at |"
    r"\S+@\S+\.\w+$|(?:https?://)?(?:www\.)?twitter\.com/\S+$|advertisement$|"
    # time stamps: "Updated at 1:23 p.m.", "Published 18 November 2019", "5:45 AM PST 11/19/2019"
    r"(?=.{0,80}$)(?=.*\d)(?:(?:last )?(?:updated|published|posted|modified)|aktualisiert|veröffentlicht|"
    r"publié|mis à jour|atualizado|publicado|actualizado|기사입력)\b|\d{1,2}:\d\d\s?(?:am|pm)\b.{0,60}$|"
    # copyright lines and the page's own address, printed for the print view
    r"(?:copyright\s*)?[©ⓒ]|copyright\b.{0,60}\b(?:19|20)\d\d\b|https?://\S+$"
    r")",
    re.I,
)
#: ... and phrases that give a widget away wherever they stand in a short paragraph.
_WIDGET_PHRASE = re.compile(
    r"(?:sign up|subscribe)\b.{0,80}\bnewsletters?\b|delivered to your inbox|click here for more information",
    re.I,
)
_WIDGET_MAX_CHARS = 400
#: A link's text must be this long to identify a block: short ones ("Home", "More") are common
#: words inside real paragraphs.
_MIN_LINK_WORDS = 3


def link_texts(tree: etree._Element) -> frozenset[str]:
    """The normalised texts of the page's links that are long enough to identify a block."""
    found = set()
    for anchor in tree.iter("a"):
        if anchor.get("href", "").startswith("#"):
            continue  # a table of contents links the story's own subheadings
        text = _key("".join(anchor.itertext()))
        if text.count(" ") + 1 >= _MIN_LINK_WORDS:
            found.add(text)
    return frozenset(found)


def drop_boilerplate(blocks: Iterable[Block], links: frozenset[str], title: str) -> list[Block]:
    """The blocks without widget lines, repeats of the title, and blocks that are only links to
    elsewhere (headings too, before the story's first paragraph: teasers above the article)."""
    kept: list[Block] = []
    title_key = _key(title)
    for block in blocks:
        if block.kind == "heading" and not kept and _key(block.text) in links:
            continue
        if block.kind == "list":
            items = tuple(item for item in block.items if not _is_widget(item))
            keys = [_key(item) for item in items]
            if not items or sum(key in links for key in keys) >= 0.6 * len(keys):
                continue
            block = Block(block.kind, block.text, items, block.ordered)
        elif _is_widget(block.text):
            continue
        elif block.kind == "paragraph" and (_key(block.text) in links or _key(block.text) == title_key):
            continue
        kept.append(block)
    return kept


def _is_widget(text: str) -> bool:
    return len(text) <= _WIDGET_MAX_CHARS and bool(_WIDGET_LINE.match(text) or _WIDGET_PHRASE.search(text))


def _key(text: str) -> str:
    return " ".join(text.split()).lower()
