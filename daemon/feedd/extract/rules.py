"""A publisher's site rule applied to its page: elements removed, then the title, the lead and
the body taken from what the rule's XPath selects."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import lxml.html
from lxml import etree

from feedd.config import SiteRule
from feedd.extract.blocks import (
    drop_keeping_tail,
    element_blocks,
    element_text,
    normalise_space,
    restore_nbsp,
    restored,
)
from feedd.extract.records import Block


@dataclass(frozen=True, slots=True)
class RuledParts:
    """What a site rule picked out of a page; empty fields are left to generic extraction."""

    title: str = ""
    lead: str = ""
    blocks: list[Block] = field(default_factory=list)


def apply_rule(tree: lxml.html.HtmlElement, rule: SiteRule) -> RuledParts:
    """Drop the rule's `remove` elements from `tree`, then read what its selectors name."""
    for expression in rule.remove:
        for element in _select(tree, expression):
            drop_keeping_tail(element)
    title = lead = ""
    if rule.title and (found := _select(tree, rule.title)):
        title = _selected_text(found[0])
    if rule.lead and (found := _select(tree, rule.lead)):
        lead = _selected_text(found[0])
    blocks = []
    if rule.body:
        for element in _select(tree, rule.body):
            blocks += [restored(block) for block in element_blocks(element)]
    return RuledParts(title, lead, blocks)


@lru_cache(maxsize=512)
def _compiled(expression: str) -> etree.XPath:
    return etree.XPath(expression)


def _select(tree: lxml.html.HtmlElement, expression: str) -> list[lxml.html.HtmlElement]:
    """The elements a rule's XPath matches, in document order."""
    found = _compiled(expression)(tree)
    return [element for element in found if isinstance(element, etree._Element)]  # type: ignore[union-attr]


def _selected_text(element: lxml.html.HtmlElement) -> str:
    # A rule may name a <meta> tag (og:title) when the page prints no better headline.
    if element.tag == "meta":
        return normalise_space(restore_nbsp(element.get("content", "")))
    return element_text(element)
