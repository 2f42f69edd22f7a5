"""Pages that are not the article: index and section pages, live blogs, galleries, video pages,
consent walls."""

from __future__ import annotations

from datetime import date

import pytest

from feedd.extract.metadata import PageMetadata
from feedd.extract.page_kind import live_blog, not_an_article

ARTICLE = PageMetadata(kinds=frozenset({"newsarticle"}), declares_article=True, published=date(2024, 3, 5))
WEBSITE = PageMetadata(kinds=frozenset({"website"}))
STORY = (
    "The regional parliament approved the harbour budget on Thursday after an eleven-hour debate. "
    "Rural schools get more money, and the new tram line is to open in two years. "
) * 3
CONSENT = (
    "We value your privacy. We and our partners use cookies to store and access information on your "
    "device. You can accept all or manage preferences at any time in the privacy settings."
)


def test_a_real_article_passes() -> None:
    assert not_an_article(ARTICLE, STORY, "https://news.example/2024/03/05/harbour-budget") is None


@pytest.mark.parametrize("kind", ["collectionpage", "itemlist", "searchresultspage", "profilepage"])
def test_a_listing_page_is_an_index_page(kind: str) -> None:
    metadata = PageMetadata(kinds=frozenset({kind, "website"}))
    reason = not_an_article(metadata, STORY, "https://news.example/topics/harbour/page/2")
    assert reason == "page is an index page, not an article"


def test_a_listing_type_on_a_page_that_declares_an_article_is_not_an_index_page() -> None:
    metadata = PageMetadata(kinds=frozenset({"itemlist", "newsarticle"}), declares_article=True)
    assert not_an_article(metadata, STORY, "https://news.example/") is None


@pytest.mark.parametrize(
    "url", ["https://news.example/", "https://news.example", "https://news.example/politics/"]
)
def test_an_undated_website_at_the_top_of_the_site_is_a_front_or_section_page(url: str) -> None:
    assert not_an_article(WEBSITE, STORY, url) == "page is a front or section page, not an article"


@pytest.mark.parametrize(
    ("metadata", "url"),
    [
        # Deeper than one path segment: a story URL on a site that declares every page a website.
        (WEBSITE, "https://news.example/politics/harbour-budget"),
        # A date says it is a story.
        (
            PageMetadata(kinds=frozenset({"website"}), published=date(2024, 3, 5)),
            "https://news.example/budget",
        ),
        # Declares nothing at all: it may be the article.
        (PageMetadata(), "https://news.example/"),
        (PageMetadata(kinds=frozenset({"website"}), declares_article=True), "https://news.example/"),
    ],
)
def test_pages_that_may_be_the_article_pass(metadata: PageMetadata, url: str) -> None:
    assert not_an_article(metadata, STORY, url) is None


def test_a_video_page_with_little_text_is_not_the_article() -> None:
    metadata = PageMetadata(kinds=frozenset({"videoobject", "newsarticle"}), declares_article=True)
    url = "https://news.example/video/harbour"
    assert (
        not_an_article(metadata, "Watch: the harbour vote.", url)
        == "page is a video page with little text (VideoObject, 24 characters)"
    )
    assert not_an_article(metadata, "x" * 499, url) == (
        "page is a video page with little text (VideoObject, 499 characters)"
    )
    # A video page with a written story under the player is kept.
    assert not_an_article(metadata, "x" * 500, url) is None
    assert not_an_article(PageMetadata(kinds=frozenset({"video.other"})), "short", url) == (
        "page is a video page with little text (video.other, 5 characters)"
    )


@pytest.mark.parametrize(
    ("kinds", "evidence"),
    [
        ({"liveblogposting", "article"}, "LiveBlogPosting"),
        # og:type values some publishers use for their live pages.
        ({"article:liveblog"}, "article:liveblog"),
    ],
)
def test_a_page_declared_a_live_blog_is_a_live_blog_however_long(kinds: set[str], evidence: str) -> None:
    metadata = PageMetadata(kinds=frozenset(kinds), declares_article=True, published=date(2024, 3, 5))
    assert live_blog(metadata) == f"page is a live blog ({evidence})"


def test_a_page_marked_up_with_live_updates_is_a_live_blog() -> None:
    url = "https://news.example/2024/03/05/harbour-vote-live"
    assert live_blog(PageMetadata(live_updates=3)) == "page is a live blog (3 live updates in its markup)"
    assert live_blog(PageMetadata(declares_article=True, live_updates=8)) == (
        "page is a live blog (8 live updates in its markup)"
    )
    # A few entries may be a box of another live blog's latest posts beside an article.
    assert live_blog(PageMetadata(live_updates=2)) is None
    assert live_blog(PageMetadata(declares_article=True, live_updates=7)) is None
    # A live blog is still the story's page: not_an_article leaves it to the caller.
    assert not_an_article(PageMetadata(live_updates=30), STORY, url) is None


@pytest.mark.parametrize(
    ("kind", "evidence"),
    [("imagegallery", "ImageGallery"), ("mediagallery", "MediaGallery"), ("gallery", "gallery")],
)
def test_a_gallery_with_little_text_is_not_the_article(kind: str, evidence: str) -> None:
    metadata = PageMetadata(kinds=frozenset({kind, "article"}), declares_article=True)
    captions = "The harbour at dawn. The new tram depot. " * 24
    assert len(captions) == 984
    reason = not_an_article(metadata, captions, "https://news.example/galleries/harbour")
    assert reason == f"page is a gallery with little text ({evidence}, 984 characters)"


def test_an_article_that_also_holds_a_gallery_is_kept() -> None:
    metadata = PageMetadata(kinds=frozenset({"newsarticle", "imagegallery"}), declares_article=True)
    assert len(STORY * 4) >= 1000
    assert not_an_article(metadata, STORY * 4, "https://news.example/2024/03/05/harbour-budget") is None


def test_a_short_text_full_of_consent_phrases_is_a_consent_wall() -> None:
    reason = not_an_article(ARTICLE, CONSENT, "https://news.example/2024/03/05/harbour-budget")
    assert reason == "page shows a cookie consent wall"


def test_an_article_mentioning_cookies_is_not_a_consent_wall() -> None:
    url = "https://news.example/2024/03/05/cookies"
    # Two phrases are not enough.
    assert not_an_article(ARTICLE, "The bakery sold cookies. More cookies tomorrow.", url) is None
    # A long text may talk about consent and cookies as much as it likes.
    long_story = (STORY + CONSENT) * 5
    assert len(long_story) >= 2000
    assert not_an_article(ARTICLE, long_story, url) is None
