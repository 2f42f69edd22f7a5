"""Whole pages that are not the article (live blogs, galleries, video pages) give way to the feed's
text with the reason; articles that merely embed a video, a gallery or a box of live posts do not."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime

import lxml.html
import pytest

from conftest import feed_entry, shared_data, story
from feedd.extract import Article, ExtractionFailure, PageInput, try_extract
from feedd.extract.metadata import read_metadata
from feedd.feeds import Entry

FEED_TEXT = story(71, paragraphs=2)
STORY = story(72, paragraphs=5)


def _entry(link: str, text: list[str] = FEED_TEXT) -> Entry:
    return feed_entry(
        link,
        title="Harbour vote",
        published=datetime(2024, 3, 5, 8, 0, tzinfo=UTC),
        content_html="".join(f"<p>{p}</p>" for p in text),
    )


def _extract(
    html: str | bytes,
    url: str = "https://news.example/2024/03/05/harbour-vote",
    feed_text: list[str] = FEED_TEXT,
) -> Article:
    body = html.encode() if isinstance(html, str) else html
    article = try_extract(PageInput(_entry(url, feed_text), body, "text/html; charset=utf-8", url))
    assert not isinstance(article, ExtractionFailure)
    return article


def _page(head: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Harbour vote</title>{head}</head>"
        f"<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><main>{body}</main></body></html>"
    )


def _json_ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def _updates(count: int, css_class: str) -> str:
    return "".join(
        f'<div class="{css_class}"><time datetime="2024-03-05T1{n}:00Z">1{n}:00</time><p>{text}</p></div>'
        for n, text in zip(range(count), story(73, paragraphs=count), strict=True)
    )


def test_a_live_blog_declared_in_json_ld_is_saved_from_the_feed() -> None:
    head = (
        _json_ld(
            {
                "@context": "https://schema.org",
                "@type": "LiveBlogPosting",
                "headline": "Harbour vote: live",
                "datePublished": "2024-03-05T08:00:00Z",
                "liveBlogUpdate": [{"@type": "BlogPosting", "headline": "The count begins"}],
            }
        )
        + '<meta property="og:type" content="article">'
    )
    article = _extract(_page(head, f"<article><h1>Harbour vote: live</h1>{_updates(6, 'post')}</article>"))
    assert article.source == "feed"
    assert article.fallback_reason == "page is a live blog (LiveBlogPosting)"
    assert [block.text for block in article.blocks] == FEED_TEXT


def test_posts_of_one_live_blog_saved_from_the_feed_keep_their_own_links() -> None:
    head = (
        _json_ld({"@type": "LiveBlogPosting", "headline": "Harbour vote: live"})
        + '<link rel="canonical" href="https://news.example/live/harbour-vote">'
    )
    page = _page(head, f"<article><h1>Harbour vote: live</h1>{_updates(6, 'post')}</article>")
    # A feed may give each post of a live blog its own entry and link to the one page: each post
    # is its own document, not a copy of the page.
    for link in (
        "https://news.example/live/harbour-vote?post=1",
        "https://news.example/live/harbour-vote?post=2",
    ):
        article = _extract(page, link)
        assert (article.source, article.url, article.canonical_url) == ("feed", link, link)


def test_a_live_blog_whose_entry_has_no_text_is_saved_from_the_page() -> None:
    head = _json_ld({"@type": "LiveBlogPosting", "headline": "Harbour vote: live"})
    updates = story(73, paragraphs=6)
    page = _page(head, f"<article><h1>Harbour vote: live</h1>{_updates(6, 'post')}</article>")
    article = _extract(page, feed_text=[])
    assert (article.source, article.fallback_reason) == ("page", None)
    assert all(update in article.body_text for update in updates)


def test_an_index_page_whose_entry_has_no_text_is_still_a_failure() -> None:
    head = _json_ld({"@type": "CollectionPage", "name": "Harbour"})
    links = "".join(f"<p><a href='/s/{n}'>{text}</a> {text}</p>" for n, text in enumerate(story(74, 6)))
    url = "https://news.example/topics/harbour"
    page = (head, f"<h1>Harbour</h1>{links}")
    result = try_extract(PageInput(_entry(url, []), _page(*page).encode(), "text/html", url))
    assert isinstance(result, ExtractionFailure)
    assert result.reason == "page is an index page, not an article, and the entry has no text of its own"


def test_a_live_blog_with_a_video_and_little_text_is_still_a_live_blog() -> None:
    head = _json_ld({"@type": ["LiveBlogPosting", "VideoObject"], "headline": "Harbour vote: live"})
    page = _page(
        head, "<article><h1>Harbour vote: live</h1><video src='/v.mp4'></video><p>Watch.</p></article>"
    )
    article = _extract(page, feed_text=[])
    assert (article.source, article.fallback_reason) == ("page", None)


def test_a_live_blog_page_showing_a_consent_wall_is_not_saved() -> None:
    head = _json_ld({"@type": "LiveBlogPosting", "headline": "Harbour vote: live"})
    dialog = (
        "<div><h2>We value your privacy</h2><p>We and our partners use cookies to store and access "
        "information on your device. You can accept all cookies, reject all, or manage preferences. "
        "Some partners rely on legitimate interest rather than your consent.</p></div>"
    )
    url = "https://news.example/2024/03/05/harbour-vote"
    page = f"<html><head><title>Harbour vote</title>{head}</head><body><main>{dialog}</main></body></html>"
    result = try_extract(PageInput(_entry(url, []), page.encode(), "text/html", url))
    assert result == ExtractionFailure(
        "page shows a cookie consent wall, and the entry has no text of its own"
    )


def test_a_live_blog_known_only_by_its_markup_is_saved_from_the_feed() -> None:
    head = '<meta property="og:type" content="article">'
    page = _page(head, f"<article><h1>Harbour vote: live</h1>{_updates(9, 'live-blog-post card')}</article>")
    article = _extract(page)
    assert (article.source, article.fallback_reason) == (
        "feed",
        "page is a live blog (9 live updates in its markup)",
    )


def test_a_gallery_in_microdata_with_only_captions_is_saved_from_the_feed() -> None:
    captions = "".join(
        f"<figure><img src='/{n}.jpg'><p>Photo {n}: the harbour at dawn.</p></figure>" for n in range(8)
    )
    gallery = "<div itemscope itemtype='https://schema.org/ImageGallery'>"
    body = f"{gallery}<h1>Harbour in pictures</h1>{captions}</div>"
    article = _extract(_page('<meta property="og:type" content="article">', body))
    assert article.source == "feed"
    assert (article.fallback_reason or "").startswith("page is a gallery with little text (ImageGallery, ")


def test_a_video_page_is_saved_from_the_feed() -> None:
    body = (
        "<h1>Harbour vote</h1><video src='/v.mp4'></video><p>Watch the moment the harbour budget passed.</p>"
    )
    article = _extract(_page('<meta property="og:type" content="video.other">', body))
    assert article.source == "feed"
    assert (article.fallback_reason or "").startswith("page is a video page with little text (video.other, ")


def test_an_article_with_a_video_a_gallery_and_a_box_of_live_posts_is_the_article() -> None:
    head = _json_ld(
        {
            "@type": "NewsArticle",
            "headline": "Harbour vote",
            "datePublished": "2024-03-05T08:00:00Z",
            # Types nested in the article say what it holds, not what the page is.
            "video": {"@type": "VideoObject", "name": "The vote"},
            "mentions": {"@type": "LiveBlogPosting", "headline": "Elections: live"},
        }
    )
    body = (
        "<article><h1>Harbour vote</h1><div itemscope itemtype='https://schema.org/VideoObject'></div>"
        + "".join(f"<p>{p}</p>" for p in STORY)
        + "</article><aside><h2>Elections: live</h2>"
        + "<div itemscope itemtype='https://schema.org/LiveBlogPosting'><a href='/live'>Live</a></div>"
        + _updates(5, "Live-Blog-Post")
        + "</aside><div class='sidebar'><h2>Latest</h2>"
        + _updates(4, "live-update")
        + "</div>"
    )
    article = _extract(_page(head, body))
    assert article.source == "page" and article.fallback_reason is None
    assert [block.text for block in article.blocks] == STORY


def test_a_live_blog_inside_a_page_wide_webpage_itemscope_is_seen() -> None:
    html = (
        "<html><body itemscope itemtype='https://schema.org/WebPage'>"
        "<div itemscope itemtype='https://schema.org/LiveBlogPosting'><h1>Vote: live</h1></div>"
        "<article itemscope itemtype='https://schema.org/NewsArticle'>"
        "<div itemscope itemtype='https://schema.org/ImageGallery'></div></article>"
        "</body></html>"
    )
    # The article's gallery is what it holds; the live blog is what the page is.
    assert read_metadata(lxml.html.fromstring(html)).kinds == {"liveblogposting"}


def test_metadata_reads_page_kinds_from_microdata_and_counts_live_updates() -> None:
    html = (
        "<html><body><div itemscope itemtype='http://schema.org/CreativeWork https://schema.org/LiveBlogPosting/'>"
        "<div itemscope itemtype='https://schema.org/Person'></div>"
        "<div class='live-events__entry'><p class='live-events__entry-text'>One</p></div>"
        "<div class='x live-update'>Two</div><div class='live-ticker__item'>Score</div>"
        "<div class='liveblog'>Not an entry</div>"
        "</div></body></html>"
    )
    metadata = read_metadata(lxml.html.fromstring(html))
    # Microdata types that mark parts of a page (a Person, a CreativeWork) are not the page's kind.
    assert metadata.kinds == frozenset({"liveblogposting"})
    assert metadata.live_updates == 2


# Real pages in ../shared/data: the only live blogs there, and articles that declare a gallery.
LIVE_BLOGS = ["uk/Express_2024_07_18.html.gz", "uk/TheMirror_2024_08_05.html.gz"]
GALLERY_ARTICLES = ["ind/Bhaskar_2024_09_04.html.gz", "lb/LBCGroup_2026_01_08.html.gz"]


def _fundus_page(name: str) -> tuple[bytes, str]:
    folder = shared_data("extraction", "fundus")
    pairs = json.loads((folder / "INDEX_pairs.json").read_text(encoding="utf-8"))
    [url] = [pair["url"] for pair in pairs if pair["html"] == name]
    data = folder / "tests" / "resources" / "parser" / "test_data" / name
    return gzip.decompress(data.read_bytes()), url


@pytest.mark.parametrize("name", LIVE_BLOGS)
def test_real_live_blogs_are_saved_from_the_feed(name: str) -> None:
    html, url = _fundus_page(name)
    article = _extract(html, url)
    assert (article.source, article.fallback_reason) == ("feed", "page is a live blog (LiveBlogPosting)")


@pytest.mark.parametrize("name", GALLERY_ARTICLES)
def test_real_articles_that_declare_a_gallery_are_extracted(name: str) -> None:
    html, url = _fundus_page(name)
    article = _extract(html, url)
    assert article.source == "page" and len(article.body_text) > 1000
