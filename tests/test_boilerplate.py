"""Widget lines, title repeats and links to other stories leave the body; the story stays."""

from __future__ import annotations

import lxml.html

from feedd.article import Block
from feedd.boilerplate import drop_boilerplate, link_texts

STORY = [
    Block(
        "paragraph", "The regional parliament approved the budget on Thursday after an eleven-hour debate."
    ),
    Block("heading", "What changes for schools"),
    Block("paragraph", "Rural schools get more money; read more: the minister's statement is online."),
    Block("list", items=("Schools: +4%", "Hospitals: +2%")),
]
PAGE = lxml.html.fromstring(
    "<html><body>"
    "<a href='/other'>Minister resigns after budget row</a>"
    "<a href='/more'>Five things to know about the budget</a><a href='/x'>Floods hit the north</a>"
    "<a href='#what-changes'>What changes for schools</a>"
    "<a href='/budget'>budget</a>"
    "</body></html>"
)


def test_widgets_title_repeats_and_related_links_are_dropped() -> None:
    junk = [
        Block("paragraph", "Budget approved"),
        Block("paragraph", "Thanks for signing up!"),
        Block("paragraph", "There was an error processing your subscription."),
        Block("paragraph", "Get the latest updates right in your inbox. Subscribe to Example's newsletters."),
        Block("paragraph", "Read more: Minister resigns after budget row"),
        Block("paragraph", "Minister resigns after budget row"),
        Block("paragraph", "https://news.example/a/1"),
        Block("paragraph", "Copyright ©2019 Example Media, Inc. All Rights Reserved"),
        Block("list", items=("Five things to know about the budget", "Floods hit the north")),
        Block("list", items=("Order Reprints", "Print Article")),
    ]
    blocks = [STORY[0], *junk[:5], STORY[1], STORY[2], *junk[5:], STORY[3]]
    assert drop_boilerplate(blocks, link_texts(PAGE), "Budget approved") == STORY


def test_the_story_itself_is_kept() -> None:
    # Its subheading is linked from a table of contents; a one-word link is part of a sentence.
    assert drop_boilerplate(STORY, link_texts(PAGE), "Budget approved") == STORY
    long_subscribe = Block("paragraph", "Subscribers to the scheme " + "will pay less next year, " * 20)
    assert drop_boilerplate([long_subscribe], frozenset(), "") == [long_subscribe]
