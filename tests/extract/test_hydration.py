"""Client-rendered pages: the article is only in the page's hydration data (a JSON string in a
<script>), and is extracted from there when the HTML itself holds no text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import lxml.html
import pytest

from conftest import feed_entry, story
from feedd.extract import ExtractionFailure, PageInput, try_extract
from feedd.extract.hydration import hydrated_body_html
from feedd.feeds import Entry

URL = "https://news.example/2024/03/05/harbour-vote"
PARAGRAPHS = story(91, paragraphs=5)
BODY_HTML = (
    "<div class='caption'><p>The harbour at dawn. Photo: agency</p></div>"
    + "".join(f"<p>{text}</p>" for text in PARAGRAPHS[:3])
    + "<h2>What comes next</h2>"
    + "".join(f"<p>{text}</p>" for text in PARAGRAPHS[3:])
)


def _entry() -> Entry:
    return feed_entry(URL, title="Harbour vote", published=datetime(2024, 3, 5, 8, 0, tzinfo=UTC))


def _app_page(script: str) -> str:
    """A single-page app's HTML: an empty mount point, the data in a script."""
    return (
        "<!DOCTYPE html><html lang='en'><head><title>Harbour vote</title></head>"
        f"<body><div id='__next'><nav><a href='/'>Home</a></nav></div><script>{script}</script></body></html>"
    )


def _next_data(body: str) -> str:
    # json.dumps escapes nothing but quotes; real pages also write "<" as "\u003c", as here.
    data = {
        "props": {"pageProps": {"article": {"title": "Harbour vote", "bodyHtml": body, "teaser": "x" * 50}}}
    }
    return json.dumps(data).replace("<", "\\u003c")


def test_an_article_only_in_next_data_is_extracted() -> None:
    page = _app_page(f"self.__NEXT_DATA__ = {_next_data(BODY_HTML)};")
    article = try_extract(PageInput(_entry(), page.encode(), "text/html", URL))
    assert not isinstance(article, ExtractionFailure)
    assert article.source == "page"
    assert [block.text for block in article.blocks] == [*PARAGRAPHS[:3], "What comes next", *PARAGRAPHS[3:]]


HEADLINES = ["Harbour vote"]
RELATED = "".join(f"<p>{text}</p>" for text in story(92, paragraphs=8))


def test_the_longest_string_with_paragraphs_beside_the_headline_is_the_body() -> None:
    teaser = "".join(f"<p>{text[:60]}</p>" for text in story(94, paragraphs=3, words=60))
    record = {"title": "Harbour vote", "related": teaser, "html": BODY_HTML}
    tree = lxml.html.fromstring(_app_page(f"window.__DATA__.push({json.dumps(record)});"))
    assert hydrated_body_html(tree, HEADLINES) == BODY_HTML


def test_a_related_storys_body_beside_its_own_title_is_not_the_body() -> None:
    # The page's own record has no body; the longer body belongs to a story it links to.
    data = {
        "article": {"title": "Harbour vote", "teaser": "x" * 50},
        "related": [{"title": "Storm closes the coast road for a week", "bodyHtml": RELATED}],
    }
    tree = lxml.html.fromstring(_app_page(f"var state = {json.dumps(data)};"))
    assert hydrated_body_html(tree, HEADLINES) is None


@pytest.mark.parametrize(
    "record",
    [
        # The body last, related stories with their own titles after it.
        {"title": "Harbour vote", "bodyHtml": BODY_HTML, "related": [{"title": "Storm closes the road"}]},
        # A nested record's title between the page's title and its body.
        {"title": "Harbour vote", "section": {"title": "Politics"}, "bodyHtml": BODY_HTML},
        # The body in a record of its own inside the titled one.
        {"headline": "Harbour vote", "articleBody": {"format": "html", "html": BODY_HTML}},
    ],
)
def test_the_body_of_the_record_titled_as_the_page_is_found(record: dict[str, object]) -> None:
    tree = lxml.html.fromstring(_app_page(f"var state = {json.dumps(record)};"))
    assert hydrated_body_html(tree, HEADLINES) == BODY_HTML


@pytest.mark.parametrize(
    "script",
    [
        # WordPress's REST shape: the title is a record of its own.
        json.dumps({"id": 7, "title": {"rendered": "Harbour vote"}, "content": {"rendered": BODY_HTML}}),
        # A title under "name".
        json.dumps({"name": "Harbour vote", "author": {"name": "Jo Doe"}, "html": BODY_HTML}),
        # The body in a list of the story's own untitled parts.
        json.dumps({"title": "Harbour vote", "sections": [{"type": "text", "html": BODY_HTML}]}),
        # Nuxt writes JavaScript, keys unquoted.
        "{title:" + json.dumps("Harbour vote") + ",bodyHtml:" + json.dumps(BODY_HTML) + "}",
    ],
)
def test_the_body_of_the_record_titled_as_the_page_is_found_in_other_shapes(script: str) -> None:
    tree = lxml.html.fromstring(_app_page(f"window.__NUXT__ = {script};"))
    assert hydrated_body_html(tree, HEADLINES) == BODY_HTML


def test_a_body_in_a_list_of_titled_records_is_another_story() -> None:
    related = [{"title": "Storm closes the coast road", "teaser": "x" * 50}, {"bodyHtml": RELATED}]
    record = {"title": "Harbour vote", "teaser": "x" * 50, "related": related}
    tree = lxml.html.fromstring(_app_page(f"var state = {json.dumps(record)};"))
    assert hydrated_body_html(tree, HEADLINES) is None


def test_a_body_opening_with_a_bracket_is_still_a_body() -> None:
    body = "[caption id='7']The harbour at dawn[/caption]" + BODY_HTML
    tree = lxml.html.fromstring(
        _app_page(f"var state = {json.dumps({'title': 'Harbour vote', 'html': body})};")
    )
    assert hydrated_body_html(tree, HEADLINES) == body


def test_a_string_never_closed_ends_the_scan() -> None:
    # Thousands of escaped quotes after an unclosed quote: a backtracking pattern rescans them
    # from every quote (seconds to minutes); this one reads them once and finds nothing.
    tree = lxml.html.fromstring(_app_page('var x = "' + '\\"' * 30_000 + " <p"))
    assert hydrated_body_html(tree, HEADLINES) is None


def test_a_short_printed_brief_is_kept_over_a_related_story_in_the_data() -> None:
    brief = "The council approved the harbour budget on Thursday night."
    data = {"related": [{"title": "Storm closes the coast road for a week", "bodyHtml": RELATED}]}
    page = (
        "<!DOCTYPE html><html lang='en'><head><title>Harbour vote</title></head><body><article>"
        f"<h1>Harbour vote</h1><p>{brief}</p></article><script>var state = {json.dumps(data)};</script>"
        "</body></html>"
    )
    article = try_extract(PageInput(_entry(), page.encode(), "text/html", URL))
    assert not isinstance(article, ExtractionFailure)
    assert [block.text for block in article.blocks] == [brief]


def test_a_body_inside_json_text_in_a_string_is_found() -> None:
    # JSON.parse("{...}"): the record is JSON text inside a JavaScript string.
    record = json.dumps({"title": "Harbour vote", "bodyHtml": BODY_HTML})
    tree = lxml.html.fromstring(_app_page(f"var state = JSON.parse({json.dumps(record)});"))
    assert hydrated_body_html(tree, HEADLINES) == BODY_HTML


def test_code_between_strings_does_not_unpair_the_quotes() -> None:
    # A short string, then more than 400 characters of code with no quote, then the record.
    code = "".join(f"var v{n} = w.k{n} || {n};\n" for n in range(40))
    record = json.dumps({"title": "Harbour vote", "bodyHtml": BODY_HTML})
    tree = lxml.html.fromstring(_app_page(f'var a = "x";\n{code}var state = {record};'))
    assert hydrated_body_html(tree, HEADLINES) == BODY_HTML


def test_strings_without_paragraphs_are_not_a_body() -> None:
    # Long strings that are not an article's HTML: a template, a blob of text, two paragraphs.
    script = json.dumps(
        {
            "title": "Harbour vote",
            "css": "a{color:red}" * 60,
            "text": " ".join(PARAGRAPHS),
            "two": "<p>one</p><p>two</p>" + "x" * 500,
        }
    )
    tree = lxml.html.fromstring(_app_page(f"var state = {script};"))
    assert hydrated_body_html(tree, HEADLINES) is None


def test_a_page_with_its_text_in_the_html_is_not_replaced_by_its_data() -> None:
    printed = story(93, paragraphs=4)
    page = (
        "<!DOCTYPE html><html lang='en'><head><title>Harbour vote</title></head><body><article>"
        "<h1>Harbour vote</h1>" + "".join(f"<p>{text}</p>" for text in printed) + "</article>"
        f"<script>self.__NEXT_DATA__ = {_next_data(BODY_HTML)};</script></body></html>"
    )
    article = try_extract(PageInput(_entry(), page.encode(), "text/html", URL))
    assert not isinstance(article, ExtractionFailure)
    assert [block.text for block in article.blocks] == printed
