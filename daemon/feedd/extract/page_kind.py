"""Is a fetched page the article at all? Index pages, video pages and consent walls are not, and
a paywall teaser is not the whole article: for those, the feed's own text is the better copy."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from feedd.extract.metadata import PageMetadata

#: JSON-LD types of pages that list other pages.
_LISTING_KINDS = frozenset({"collectionpage", "itemlist", "searchresultspage", "profilepage"})
#: Phrases of cookie and consent dialogs; a short "article" full of them is the dialog.
_CONSENT = re.compile(
    r"cookies?|consent|privacy (?:policy|settings)|(?:accept|reject) all|manage (?:options|preferences)|"
    r"our partners|legitimate interest",
    re.I,
)
_CONSENT_MAX_CHARS = 2000
_CONSENT_MIN_PHRASES = 3
_VIDEO_MAX_CHARS = 500


def not_an_article(metadata: PageMetadata, body: str, page_url: str) -> str | None:
    """Why the page is not the article's text, or None when it is (or may be)."""
    if not metadata.declares_article:
        if metadata.kinds & _LISTING_KINDS:
            return "page is an index page, not an article"
        depth = len([part for part in urlsplit(page_url).path.split("/") if part])
        if "website" in metadata.kinds and metadata.published is None and depth <= 1:
            return "page is a front or section page, not an article"
    if any(kind.startswith("video") for kind in metadata.kinds) and len(body) < _VIDEO_MAX_CHARS:
        return "page is a video page with little text"
    if len(body) < _CONSENT_MAX_CHARS and len(_CONSENT.findall(body)) >= _CONSENT_MIN_PHRASES:
        return "page shows a cookie consent wall"
    return None
