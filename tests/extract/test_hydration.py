"""Client-rendered pages: the article is only in the page's hydration data (a JSON string in a
<script>), and is extracted from there when the HTML itself holds no text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import lxml.html

from conftest import story
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
    return Entry(
        key="guid:1",
        guid="1",
        link=URL,
        canonical_link=URL,
        title="Harbour vote",
        published=datetime(2024, 3, 5, 8, 0, tzinfo=UTC),
        summary_html="",
        content_html="",
        author=None,
    )


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


def test_the_longest_string_with_paragraphs_is_the_body() -> None:
    teaser = "".join(f"<p>{text[:60]}</p>" for text in story(92, paragraphs=3, words=60))
    script = (
        f'window.__DATA__.push({{"related": "{json.dumps(teaser)[1:-1]}", "html": {json.dumps(BODY_HTML)}}});'
    )
    tree = lxml.html.fromstring(_app_page(script))
    assert hydrated_body_html(tree) == BODY_HTML


def test_strings_without_paragraphs_are_not_a_body() -> None:
    # Long strings that are not an article's HTML: a template, a blob of text, two paragraphs.
    script = json.dumps(
        {"css": "a{color:red}" * 60, "text": " ".join(PARAGRAPHS), "two": "<p>one</p><p>two</p>" + "x" * 500}
    )
    tree = lxml.html.fromstring(_app_page(f"var state = {script};"))
    assert hydrated_body_html(tree) is None


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
