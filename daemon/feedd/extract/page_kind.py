"""Is a fetched page the article at all? Index pages, live blogs, galleries and video pages with
little text, and consent walls are not, and a paywall teaser is not the whole article: for those,
the feed's own text is the better copy. The reason names the evidence, for the operator."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from feedd.extract.metadata import PageMetadata

#: JSON-LD types of pages that list other pages.
_LISTING_KINDS = frozenset({"collectionpage", "itemlist", "searchresultspage", "profilepage"})
#: How the schema.org types read in a reason (kinds are kept lower-case).
_TYPE_NAMES = {
    "liveblogposting": "LiveBlogPosting",
    "imagegallery": "ImageGallery",
    "mediagallery": "MediaGallery",
    "videoobject": "VideoObject",
}
#: Phrases of cookie and consent dialogs; a short "article" full of them is the dialog.
_CONSENT = re.compile(
    r"cookies?|consent|privacy (?:policy|settings)|(?:accept|reject) all|manage (?:options|preferences)|"
    r"our partners|legitimate interest",
    re.I,
)
_CONSENT_MAX_CHARS = 2000
_CONSENT_MIN_PHRASES = 3
_VIDEO_MAX_CHARS = 500
#: A gallery (ImageGallery, MediaGallery, og:type "gallery") has captions for text; an article
#: that also declares a gallery has more than this.
_GALLERY_MAX_CHARS = 1000
#: Fewer update entries than this may be a box of another live blog's latest posts; on a page
#: that declares itself an article, such a box may show a handful.
_MIN_LIVE_UPDATES = 3
_MIN_LIVE_UPDATES_IN_AN_ARTICLE = 8


def not_an_article(metadata: PageMetadata, body: str, page_url: str, *, live: bool = False) -> str | None:
    """Why the page is not the article's text, or None when it is (or may be). A `live` blog is
    short of text between its posts' videos and pictures: the gallery and video rules spare it."""
    if not metadata.declares_article:
        if metadata.kinds & _LISTING_KINDS:
            return "page is an index page, not an article"
        depth = len([part for part in urlsplit(page_url).path.split("/") if part])
        if "website" in metadata.kinds and metadata.published is None and depth <= 1:
            return "page is a front or section page, not an article"
    gallery = [] if live else sorted(k for k in metadata.kinds if k.endswith("gallery"))
    if gallery and len(body) < _GALLERY_MAX_CHARS:
        return f"page is a gallery with little text ({_name(gallery[0])}, {len(body)} characters)"
    video = [] if live else sorted(k for k in metadata.kinds if k.startswith("video"))
    if video and len(body) < _VIDEO_MAX_CHARS:
        return f"page is a video page with little text ({_name(video[0])}, {len(body)} characters)"
    if len(body) < _CONSENT_MAX_CHARS and len(_CONSENT.findall(body)) >= _CONSENT_MIN_PHRASES:
        return "page shows a cookie consent wall"
    return None


def live_blog(metadata: PageMetadata) -> str | None:
    """Why the page is a live blog, or None. A live blog is long, and changes after the feed
    announced it: the page holds a snapshot of many short posts rather than the story the entry
    names, so the entry's own text is the better copy; where the entry has none, the snapshot is
    still the story's text, unlike an index page's or a consent wall's."""
    if live := sorted(kind for kind in metadata.kinds if "liveblog" in kind):
        return f"page is a live blog ({_name(live[0])})"
    least = _MIN_LIVE_UPDATES_IN_AN_ARTICLE if metadata.declares_article else _MIN_LIVE_UPDATES
    if metadata.live_updates >= least:
        return f"page is a live blog ({metadata.live_updates} live updates in its markup)"
    return None


def _name(kind: str) -> str:
    return _TYPE_NAMES.get(kind, kind)
