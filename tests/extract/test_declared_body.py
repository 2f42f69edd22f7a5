"""The body a page declares in its JSON-LD (articleBody) arbitrates when trafilatura's quick
extraction disagrees with it: the full extraction, with its fallbacks, is tried and kept when it
holds much more of the declared body."""

from __future__ import annotations

import gzip
import json

import lxml.html

from conftest import shared_data, story
from feedd.extract import Article, PageInput, try_extract
from feedd.extract.main_text import declared_share
from feedd.extract.metadata import read_metadata
from feedd.extract.records import Block
from feedd.feeds import Entry

STORY = story(91, paragraphs=6)


def test_the_share_of_the_declared_body_a_text_holds() -> None:
    blocks = [Block("paragraph", text) for text in STORY[:3]]
    html_body = "".join(f"<p>{p}</p>" for p in STORY)
    plain_body = "\n\n".join(STORY)
    for declared in (html_body, plain_body):
        share = declared_share(blocks, declared)
        assert share is not None and 0.4 < share < 0.6
        assert declared_share([Block("paragraph", t) for t in STORY], declared) == 1.0
    assert declared_share(blocks, None) is None
    assert declared_share(blocks, "A teaser of ten words, no more, for the search engines.") is None


def test_metadata_keeps_the_declared_body_as_written() -> None:
    data = {"@type": "NewsArticle", "headline": "Harbour vote", "articleBody": "One.\n\nTwo."}
    page = f'<html><head><script type="application/ld+json">{json.dumps(data)}</script></head></html>'
    assert read_metadata(lxml.html.fromstring(page)).declared_body == "One.\n\nTwo."


def test_a_real_page_whose_quick_extraction_misses_the_body_it_declares() -> None:
    # Mallorca Magazin: the quick extraction finds a caption and the last paragraphs (paragraph F1
    # 0.21 against Fundus's reference); its JSON-LD declares the whole story.
    root = shared_data("extraction", "fundus")
    pairs = json.loads((root / "INDEX_pairs.json").read_text())
    pair = next(p for p in pairs if "mallorcamagazin" in p["url"])
    pages = root / "tests" / "resources" / "parser" / "test_data"
    html = gzip.decompress((pages / pair["html"]).read_bytes())
    entry = Entry("k", None, pair["url"], None, "", None, "", "", None)
    article = try_extract(PageInput(entry, html, "text/html; charset=utf-8", pair["url"]))
    assert isinstance(article, Article)
    assert "In einer Stellungnahme der Familie hieß es" in article.body_text
    assert "Vargas Llosa pflegte auch eine enge Beziehung zu Mallorca" in article.body_text
