"""The record a per-site rule becomes (config/site_rules.py reads them): kept apart from pydantic and
cssselect, which the extraction workers that receive it never need."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SiteRule:
    """What to take from one publisher's pages, as XPath translated from the rule's CSS.

    Small and picklable: it travels to the extraction worker with the page."""

    domains: tuple[str, ...]
    #: The displayed headline; replaces the page's declared title.
    title: str | None = None
    #: The standfirst; replaces the one generic extraction would find.
    lead: str | None = None
    #: The body: the matched elements' paragraphs, headings and lists, in document order.
    body: str | None = None
    #: Elements dropped before anything else is read (promo boxes inside the body).
    remove: tuple[str, ...] = ()
