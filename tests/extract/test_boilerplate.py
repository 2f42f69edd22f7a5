"""Widget lines, title repeats and links to other stories leave the body; the story stays."""

from __future__ import annotations

import lxml.html

from feedd.extract import Block
from feedd.extract.boilerplate import drop_boilerplate, link_texts

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
        Block("paragraph", "Updated at 1:23 p.m."),
        Block("paragraph", "Published 18 November 2019"),
        Block("paragraph", "5:45 AM PST 11/19/2019 by Jane Doe"),
        Block("heading", "Comments"),
        Block("paragraph", "Tempo de leitura: 2 minutos"),
        Block("paragraph", "Email Jane Doe at jdoe@news.example or follow her @janedoe."),
        Block("paragraph", "Follow Newsbeat on Instagram, Facebook, Twitter and YouTube."),
        Block("paragraph", "You may also like..."),
        Block("paragraph", "Copyright ⓒ News Example. All rights reserved."),
        Block("paragraph", "We use cookies to improve your experience. By continuing you accept them."),
    ]
    blocks = [STORY[0], *junk[:5], STORY[1], STORY[2], *junk[5:], STORY[3]]
    assert drop_boilerplate(blocks, link_texts(PAGE), "Budget approved") == STORY


def test_linked_headings_above_the_story_are_teasers() -> None:
    teaser = Block("heading", "Minister resigns after budget row")
    assert drop_boilerplate([teaser, *STORY], link_texts(PAGE), "Budget approved") == STORY


def test_the_story_itself_is_kept() -> None:
    # Its subheading is linked from a table of contents; a one-word link is part of a sentence.
    assert drop_boilerplate(STORY, link_texts(PAGE), "Budget approved") == STORY
    long_subscribe = Block("paragraph", "Subscribers to the scheme " + "will pay less next year, " * 20)
    dated = Block(
        "paragraph",
        "Published in 1998, the first report on the river found the water clean enough to swim in.",
    )
    linked_subheading = Block("heading", "Minister resigns after budget row")  # below a paragraph
    blocks = [long_subscribe, dated, linked_subheading, STORY[0]]
    assert drop_boilerplate(blocks, link_texts(PAGE), "") == blocks
