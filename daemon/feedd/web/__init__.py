"""The read-only web view of the corpus: feeds, documents, duplicates side by side, an overview,
and the same records as JSON under /api/.

    Config -> app (Starlette routes) -> pages, pair (records) -> feedd.state (read-only)
                                     -> templates (Jinja2, autoescaped) | JSON
    server: uvicorn on the daemon's event loop (`feedd run`) or its own (`feedd web`)

The numbers and shared runs come from the library behind `feedd status`, `dups` and `explain`.
"""

from feedd.web.app import create_app
from feedd.web.auth import CONTENT_SECURITY_POLICY, SECURITY_HEADERS, authorised
from feedd.web.highlight import Segment, marked, word_spans
from feedd.web.pages import FeedRow, FeedsPage, Overview
from feedd.web.pair import PairSide, PairView, drop_pair, related_pair
from feedd.web.rendering import http_link, printable
from feedd.web.server import WebServer, serve_web

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "SECURITY_HEADERS",
    "FeedRow",
    "FeedsPage",
    "Overview",
    "PairSide",
    "PairView",
    "Segment",
    "WebServer",
    "authorised",
    "create_app",
    "drop_pair",
    "http_link",
    "marked",
    "printable",
    "related_pair",
    "serve_web",
    "word_spans",
]
