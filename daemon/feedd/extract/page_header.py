"""What a news page prints above its body: the displayed headline and the standfirst.

trafilatura finds the body; the standfirst (teaser, intro, dek) sits between the headline and the
body, is styled apart from it, and trafilatura either drops it or reads it as the first paragraph.
The page's own markup says which element it is: a class or itemprop such as "lead", "intro",
"standfirst" or "dek", or an opening paragraph set wholly in bold; failing those, the sentence
opening the story's <header> under its headline.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

from lxml import etree

from feedd.extract.blocks import drop_keeping_tail

_STANDFIRST_MARK = re.compile(
    # not "leading-12" (a line height) or "leaderboard"
    r"lead(?!ing|er)|intro|teaser|standfirst|summary|sub-?title|subline|subhead|excerpt|\bdek\b|deck|preface|"
    r"vorspann|einleitung|preamble|epigraph|strapline|abstract|description|chapeau|chapo|entradilla|"
    r"sottotitolo|ingress|synopsis",
    re.I,
)
#: Class words that mark boxes of other stories, not this story's standfirst.
_ELSEWHERE_MARK = re.compile(
    r"related|recommend|teaser-?list|newsletter|promo(?!ted\b)|widget|image|img|photo|media|asset|caption|credit|"
    r"video|figure|gallery|lightbox|slideshow|byline|author|paywall|subscri|premium|consent|cookie|share|social|"
    # a date and place line ("post-subheader__meta meta"), a kicker or label over the headline
    r"(?:^|[\s_-])meta(?:$|[\s_-])|kicker|label|eyebrow|overline|topline|dachzeile",
    re.I,
)
#: Boxes around other stories; a standfirst is never inside one.
_ELSEWHERE_BOX = re.compile(
    r"related|recommend|newsletter|promo(?!ted\b)|teaser-?list|more-?stories|caption|"
    # a class naming a media box: "image-text", "gallery__item" (not "has-image", "post_img_text")
    r"(?:^|\s)(?:image|img|photo|gallery|slide|carousel|figure|media)(?:[-_]|\s|$)",
    re.I,
)
#: A standfirst is text; an element holding these is a media box or a script's placeholder.
_NOT_TEXT = ("script", "style", "noscript", "img", "picture", "figure", "video", "iframe", "svg")
_STANDFIRST_TAGS = frozenset({"p", "div", "h2", "h3", "h4", "span", "section", "strong"})
_OUTSIDE_STORY = frozenset(
    {"nav", "aside", "footer", "a", "li", "figure", "figcaption", "button", "form", "h1"}
)
#: Set in bold by utility CSS (font-bold, font-medium, fw-semibold) or a plain "bold" class.
_BOLD_MARK = re.compile(r"(?:^|\s)(?:bold|font-(?:medium|semibold|bold)|fw-(?:medium|semibold|bold))(?:\s|$)")
#: "By Jane Doe", "Von Hans Muster": a byline, not a standfirst.
_BYLINE = re.compile(r"^(?:by|von|par|por|door|av|af)\s+\w", re.I)
#: "Updated: Nov. 20, 2019", "Aktualisiert 12.03.": a byline box's date, not a standfirst; a short
#: one only ("The report, published on 3 March, shows ..." may open a real standfirst).
_MAX_DATED_CHARS = 120
#: Classes of a kicker, label or caption inside a standfirst box.
_LABEL_MARK = re.compile(
    r"kicker|label|eyebrow|overline|topline|dachzeile|caption|credit|(?:^|[\s_-])meta(?:$|[\s_-])", re.I
)
_MONTH = r"(?:jan|feb|mar|mär|apr|may|mai|jun|jul|aug|sep|oct|okt|nov|dec|dez)"
_DATED = re.compile(
    r"(?:updated|published|aktualisiert|veröffentlicht|mis à jour|publié)\b\W*"
    # then a date: "12.03.", "2019", "Nov. 20", "20 Nov"
    rf"(?:\d{{1,2}}[./]\d|\d{{4}}\b|{_MONTH}\w*\.?\s+\d{{1,2}}\b|\d{{1,2}}\.?\s+{_MONTH})",
    re.I,
)
_MIN_CHARS, _MAX_CHARS = 40, 600
#: A standfirst the markup names as one may be a short phrase ("A big shift, but with some room").
_MIN_MARKED_CHARS = 25
_HEADING_TAGS = frozenset({"h2", "h3", "h4"})
#: How much of a box's text its kickers and labels may be.
_MAX_LABEL_CHARS = 100
_MARK_ATTRIBUTES = frozenset({"class", "id", "itemprop"})
#: A data-* value longer than this is data (a JSON blob, a URL), not a name.
_MAX_MARK_CHARS = 60
_CAMEL_HUMP = re.compile(r"([a-z])([A-Z])")
#: How far past the headline to look, in elements, before giving up.
_SEARCH_SPAN = 400
#: A sentence's end, closing quotes and brackets allowed: a standfirst is prose, a byline or a
#: "4 min read" line is not.
_SENTENCE_END = re.compile(r"""[.!?…]["'»«“”’)]*$""")


def displayed_headlines(tree: etree._Element) -> list[str]:
    """The texts of the page's <h1> elements, in document order."""
    return [text for h1 in tree.iter("h1") if (text := _text(h1))][:5]


def find_standfirst(
    tree: etree._Element, body: Sequence[str], headlines: Sequence[str], titles: Sequence[str] = ()
) -> str | None:
    """The standfirst printed between the page's headline and its body, if the markup marks one.

    `body` is the extracted body's paragraph texts: the search ends at any of them but the first
    (which may be the standfirst itself), so a paragraph marked "intro" deep in the story, or a
    paywall's notice after its free part, is never taken for the standfirst. A candidate that
    restates one of `headlines` (every title and headline the page has) is a headline, not a
    standfirst. Failing a marked standfirst, the story header's opening sentence stands in: the
    first paragraph after a headline restating one of `titles` (those the page declares) in a
    <header> of the page's <article> or <main>, where many sites set the standfirst under
    obfuscated class names ("Ha6", "sc-nmm9yg-6").
    """
    past_start = set(body[1:])
    started = False
    seen = 0
    openings: dict[etree._Element, etree._Element | None] = {}
    opening: str | None = None
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if not started:
            started = element.tag == "h1"
            continue
        seen += 1
        if seen > _SEARCH_SPAN:
            return opening
        if element.tag not in _STANDFIRST_TAGS:
            continue
        text = _text(element)
        if text in past_start:
            return opening
        # Cheap tests first: most elements are far too long or too short, or not marked.
        if not _MIN_MARKED_CHARS <= len(text) <= _MAX_CHARS + _MAX_LABEL_CHARS:
            continue
        if _looks_like_standfirst(element, text):
            text = _text_without_labels(element)
            if _reads_as_standfirst(element, text, headlines):
                return text
        elif (
            opening is None
            and _opens_story_header(element, text, titles, openings)
            and _reads_as_standfirst(element, text, headlines)
        ):
            opening = text
    return opening


def _reads_as_standfirst(element: etree._Element, text: str, headlines: Sequence[str]) -> bool:
    """Not a byline, a dateline, a media box, a headline again, or hidden text."""
    return (
        _long_enough(element, text)
        and not _BYLINE.match(text)
        and not (len(text) <= _MAX_DATED_CHARS and _DATED.search(text))
        and not any(True for _ in element.iter(*_NOT_TEXT))
        and not any(same_words(text, headline) for headline in headlines)
        and not _hidden(element)
    )


def _opens_story_header(
    element: etree._Element,
    text: str,
    titles: Sequence[str],
    openings: dict[etree._Element, etree._Element | None],
) -> bool:
    """Whether the element is its story header's opening paragraph, a sentence in no box named for
    something else (a byline, the meta line, a share bar). `openings` caches each header's."""
    if element.tag != "p" or not _SENTENCE_END.search(text) or _link_share(element, text) >= 0.5:
        return False
    header = next(element.iterancestors("header"), None)
    if header is None:
        return False
    if header not in openings:
        openings[header] = _opening_paragraph(header, titles)
    opening = openings[header]
    if opening is None or opening is not element or _outside_story(element):
        return False
    for box in (element, *element.iterancestors()):
        if _ELSEWHERE_MARK.search(_marks(box)):
            return False
        if box is header:
            return True
    return True


def _opening_paragraph(header: etree._Element, titles: Sequence[str]) -> etree._Element | None:
    """The first paragraph after the headline of a <header> inside the page's <article> or <main>
    (not the site's masthead), where that headline (an <h1>, or an <h2> under the site's <h1>)
    restates a title the page declares (not a related story's card or a section's header)."""
    if not any(True for _ in header.iterancestors("article", "main")):
        return None
    headline_seen = False
    for node in header.iter("h1", "h2", "p"):
        if not headline_seen:
            if node.tag == "p":
                continue
            if not any(same_words(_text(node), title) for title in titles):
                return None
            headline_seen = True
        elif node.tag == "p" and _text(node):
            return node
    return None


def _looks_like_standfirst(element: etree._Element, text: str) -> bool:
    """Whether the markup sets the element apart as a standfirst: by its names or by bold type."""
    if _marked_standfirst(element):
        # An intro box holding one marked standfirst beside a photo's caption: the standfirst
        # inside it is the candidate, next in document order. (A box of several marked parts,
        # "subtitles", is the standfirst whole; a marked kicker or label is too short to count.)
        inner = sum(
            1
            for child in element.iterdescendants(*_STANDFIRST_TAGS)
            if _marked_standfirst(child) and _long_enough(child, _text(child))
        )
        return inner != 1 and not _outside_story(element) and _link_share(element, text) < 0.5
    # An opening paragraph set wholly in bold is the standfirst on many news sites.
    if element.tag == "p" and _BOLD_MARK.search(element.get("class", "")):
        return not _outside_story(element) and _link_share(element, text) < 0.5
    if element.tag == "p" and len(element) >= 1 and not (element.text or "").strip():
        bold = [child for child in element if child.tag in ("strong", "b")]
        bold_chars = sum(len(_text(child)) for child in bold)
        return (
            bold_chars >= 0.9 * len(text) and not _outside_story(element) and _link_share(element, text) < 0.5
        )
    return False


def _marked_standfirst(element: etree._Element) -> bool:
    """Whether the element's names say standfirst."""
    marks = _marks(element)
    return bool(_STANDFIRST_MARK.search(marks)) and not _ELSEWHERE_MARK.search(marks)


def _marks(element: etree._Element) -> str:
    """The element's names: class, id, itemprop, and data-* attributes, where front-end frameworks
    name an element's role (data-testid="article-summary"); camelCase split into words."""
    marks = " ".join(
        value
        for name, value in element.items()
        if name in _MARK_ATTRIBUTES or (name.startswith("data-") and len(value) <= _MAX_MARK_CHARS)
    )
    return _CAMEL_HUMP.sub(r"\1 \2", marks)  # "ContentHeaderDek" -> "Content Header Dek"


def _text_without_labels(element: etree._Element) -> str:
    """The element's text less the kickers, labels and captions marked inside it ("Exclusive",
    "In short:"): a standfirst box may hold them beside the standfirst. Links stay: their words
    are the sentence's."""
    if not any(_is_label(node) for node in element.iterdescendants()):
        return _text(element)
    box = copy.deepcopy(element)
    for label in [node for node in box.iterdescendants() if _is_label(node)]:
        if label.getparent() is not None:
            drop_keeping_tail(label)
    return _text(box)


def _is_label(node: etree._Element) -> bool:
    return isinstance(node.tag, str) and node.tag != "a" and bool(_LABEL_MARK.search(node.get("class", "")))


def _long_enough(element: etree._Element, text: str) -> bool:
    """40-600 characters; from 25, where the markup names it a standfirst and it is no heading
    (a short marked heading is a subhead between paragraphs)."""
    if len(text) > _MAX_CHARS:
        return False
    if len(text) >= _MIN_CHARS:
        return True
    return len(text) >= _MIN_MARKED_CHARS and element.tag not in _HEADING_TAGS and _marked_standfirst(element)


def _hidden(element: etree._Element) -> bool:
    """A tooltip, a popover, a dialog, a share button's toast: text the reader does not see until
    asked for. (React's streamed rendering parks the page's real content in <div hidden id="S:1">:
    not that.)"""
    return any(
        node.get("aria-hidden") == "true"
        or (node.get("hidden") is not None and not node.get("id", "").startswith("S:"))
        or node.get("popover") is not None
        or node.get("role") in ("tooltip", "dialog")
        or node.tag == "dialog"
        or _overlay(node)
        or _hidden_by_class(node.get("class", ""))
        for node in (element, *element.iterancestors())
    )


#: A class (or custom element) naming a box shown over the page on demand: "k-popover",
#: "share-modal", "modal-dialog"; not a state class such as "has-modal" on the page itself.
_OVERLAY_NAME = re.compile(r"(?:[\w-]*[-_])?(?:popover|modal|tooltip)(?:[-_][\w-]*)?", re.I)
_STATE_PREFIXES = ("has-", "is-", "no-", "with-")


def _overlay(node: etree._Element) -> bool:
    if node.tag in ("html", "body"):
        return False
    names = [str(node.tag), *node.get("class", "").split()]
    return any(_OVERLAY_NAME.fullmatch(name) and not name.startswith(_STATE_PREFIXES) for name in names)


#: Utility classes that hide an element ("hidden", "d-none", "sr-only"), unless a breakpoint
#: shows it again ("hidden md:block", "d-none d-lg-flex").
_HIDING_CLASS = re.compile(r"(?:^|\s)(?:hidden|d-none|is-hidden|sr-only|visually-hidden)(?:\s|$)")
_SHOWN_AT_BREAKPOINT = re.compile(
    r"(?:^|\s)(?:\w+:(?:block|flex|grid|inline|table)|d-\w+-(?:block|flex|grid|inline))"
)


def _hidden_by_class(classes: str) -> bool:
    return bool(_HIDING_CLASS.search(classes)) and not _SHOWN_AT_BREAKPOINT.search(classes)


def same_words(a: str, b: str, threshold: float = 0.6) -> bool:
    """Whether two texts are versions of one headline (word Jaccard >= threshold)."""
    words_a, words_b = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    if not words_a or not words_b:
        return False
    return len(words_a & words_b) / len(words_a | words_b) >= threshold


_WORD = re.compile(r"\w+")


def _outside_story(element: etree._Element) -> bool:
    return any(
        ancestor.tag in _OUTSIDE_STORY or _ELSEWHERE_BOX.search(ancestor.get("class", ""))
        for ancestor in element.iterancestors()
    )


def _link_share(element: etree._Element, text: str) -> float:
    linked = sum(len(_text(a)) for a in element.iter("a"))
    return linked / len(text) if text else 1.0


def _text(element: etree._Element) -> str:
    return " ".join("".join(element.itertext()).split())
