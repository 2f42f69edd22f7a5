"""Page metadata from JSON-LD and <meta> tags, and the fallbacks when a page declares little."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import lxml.html

from feedd.extract.metadata import PageMetadata, read_metadata


def _page(head: str = "", body: str = "", lang: str | None = None) -> PageMetadata:
    html_attributes = f' lang="{lang}"' if lang is not None else ""
    return read_metadata(
        lxml.html.fromstring(f"<html{html_attributes}><head>{head}</head><body>{body}</body></html>")
    )


def _json_ld(data: Any) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def _meta(**tags: str) -> str:
    """<meta> tags; `og_title="x"` is written property="og:title"."""
    return "".join(
        f'<meta property="{name.replace("_", ":", 1)}" content="{value}">' for name, value in tags.items()
    )


NEWS_ARTICLE = {
    "@type": ["NewsArticle", "Article"],
    "headline": "  Council   approves the harbour budget ",
    "datePublished": "2024-03-05T23:30:00-05:00",
    "description": "The vote was close.",
    "publisher": {"@type": "Organization", "name": "Harbour Gazette"},
}


def test_an_article_in_a_json_ld_graph_is_read() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [{"@type": "WebSite", "name": "Gazette site"}, {"@type": "BreadcrumbList"}, NEWS_ARTICLE],
    }
    metadata = _page(_json_ld(graph) + "<title>Page title | Gazette</title>", "<h1>Printed headline</h1>")
    assert metadata == PageMetadata(
        title="Council approves the harbour budget",  # whitespace collapsed
        titles=("Council approves the harbour budget", "Page title | Gazette"),
        # The publisher's own calendar day, not converted to UTC (that would be March 6).
        published=date(2024, 3, 5),
        description="The vote was close.",
        site_name="Harbour Gazette",
        language=None,
        kinds=frozenset({"website", "breadcrumblist", "newsarticle", "article"}),
        declares_article=True,
        paywalled=False,
    )


def test_json_ld_as_a_top_level_list_and_a_headline_list() -> None:
    article = {"@type": "BlogPosting", "headline": ["First headline", "Second"], "datePublished": "2023-1-9"}
    metadata = _page(_json_ld([{"@type": "Organization", "name": "Blog"}, article]))
    assert metadata.title == "First headline"
    assert metadata.published == date(2023, 1, 9)
    assert metadata.kinds == {"organization", "blogposting"}
    assert metadata.declares_article


def test_an_article_type_without_headline_or_date_does_not_declare_an_article() -> None:
    metadata = _page(_json_ld({"@type": "NewsArticle", "name": "teaser"}) + "<title>Section</title>")
    assert metadata.kinds == {"newsarticle"}
    assert not metadata.declares_article
    assert metadata.title == "Section"


def test_og_type_article_declares_an_article() -> None:
    metadata = _page(_meta(og_type="Article"))
    assert metadata.kinds == {"article"} and metadata.declares_article
    website = _page(_meta(og_type="website"))
    assert website.kinds == {"website"} and not website.declares_article


def test_bad_json_ld_is_skipped_and_the_next_block_read() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "broken",</script>'
        '<script type="application/ld+json"></script>'
        + _json_ld({"@type": "Article", "headline": "From the good block"})
    )
    metadata = _page(head)
    assert metadata.title == "From the good block"
    assert metadata.kinds == {"article"}


def test_scripts_of_other_types_are_not_json_ld() -> None:
    head = '<script type="application/json">{"@type": "NewsArticle", "headline": "Not metadata"}</script>'
    head += '<script>{"@type": "NewsArticle", "headline": "Nor this"}</script>'
    metadata = _page(head + "<title>Real title</title>")
    assert metadata.title == "Real title" and metadata.kinds == frozenset()


def test_paywall_is_read_from_is_accessible_for_free_as_bool_or_string() -> None:
    for free, paywalled in (
        (False, True),
        ("False", True),
        (" false ", True),
        (True, False),
        ("true", False),
    ):
        metadata = _page(_json_ld({**NEWS_ARTICLE, "isAccessibleForFree": free}))
        assert metadata.paywalled is paywalled, free
    assert not _page(_json_ld(NEWS_ARTICLE)).paywalled


def test_meta_tags_when_there_is_no_json_ld() -> None:
    head = (
        _meta(og_title="OG title", og_description="OG description", og_site_name="OG site", og_locale="fr_FR")
        + '<meta name="twitter:title" content="Twitter title">'
        + '<meta name="description" content="Plain description">'
        + '<meta property="article:published_time" content="2022-06-30T08:00:00+02:00">'
        + "<title>Title tag</title>"
    )
    metadata = _page(head, "<h1>Heading</h1>")
    assert (metadata.title, metadata.description, metadata.site_name) == (
        "OG title",
        "OG description",
        "OG site",
    )
    assert metadata.published == date(2022, 6, 30)
    assert metadata.language == "fr"
    assert not metadata.declares_article and metadata.kinds == frozenset()


def test_json_ld_wins_over_meta_tags_except_for_the_description_and_site_name() -> None:
    head = _json_ld(NEWS_ARTICLE) + _meta(
        og_title="OG title", og_description="OG description", og_site_name="OG"
    )
    head += '<meta property="article:published_time" content="2020-01-01">'
    metadata = _page(head)
    assert metadata.title == "Council approves the harbour budget"
    assert metadata.published == date(2024, 3, 5)
    assert metadata.description == "OG description" and metadata.site_name == "OG"


def test_the_description_falls_back_from_meta_to_json_ld_to_twitter() -> None:
    twitter = '<meta name="twitter:description" content="Twitter description">'
    assert _page(twitter + '<meta name="description" content="Meta">').description == "Meta"
    assert _page(twitter + _json_ld(NEWS_ARTICLE)).description == "The vote was close."
    assert _page(twitter).description == "Twitter description"


def test_the_title_falls_back_to_twitter_then_the_title_tag_then_the_h1() -> None:
    assert _page('<meta name="twitter:title" content="Twitter">' + "<title>Tag</title>").title == "Twitter"
    assert _page("<title> Tag \n title </title>", "<h1>Heading</h1>").title == "Tag title"
    assert _page("", "<h1>The <em>printed</em> heading</h1>").title == "The printed heading"
    assert _page("", "<p>no heading</p>").title is None


def test_the_first_meta_tag_of_a_name_counts_and_empty_ones_are_ignored() -> None:
    head = _meta(og_title="") + _meta(og_title="First") + _meta(og_title="Second")
    assert _page(head).title == "First"


def test_the_date_comes_from_the_first_meta_name_in_order_that_holds_a_valid_date() -> None:
    head = (
        '<meta name="date" content="2023-01-02">'
        '<meta property="article:published_time" content="2024-13-45T10:00">'  # no such day
        '<meta itemprop="datePublished" content="published on 2021-07-08 at noon">'
    )
    # article:published_time comes first in the order but is invalid; datepublished comes next.
    assert _page(head).published == date(2021, 7, 8)
    assert _page('<meta name="pubdate" content="Tue, 5 Mar 2024">').published is None


def test_the_date_falls_back_to_a_time_element_preferring_one_inside_the_article() -> None:
    body = (
        '<time datetime="2021-01-01">header clock</time>'
        '<article><time datetime="2022-02-03">x</time></article>'
    )
    assert _page("", body).published == date(2022, 2, 3)
    assert _page("", '<p><time datetime="2021-01-01T10:00Z">then</time></p>').published == date(2021, 1, 1)
    assert _page("", "<time>no datetime attribute</time>").published is None


def test_the_language_comes_from_the_html_element_then_og_locale() -> None:
    assert _page(_meta(og_locale="fr_FR"), lang="de-CH").language == "de"
    assert _page(_meta(og_locale="pt_BR")).language == "pt"
    assert _page(lang="EN").language == "en"
    assert _page().language is None


def test_a_publisher_that_is_not_an_object_gives_no_site_name() -> None:
    article = {**NEWS_ARTICLE, "publisher": "Harbour Gazette"}
    assert _page(_json_ld(article)).site_name is None


def test_an_empty_page_declares_nothing() -> None:
    assert _page() == PageMetadata()
