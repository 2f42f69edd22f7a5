"""The pipeline: one pass over every feed (`run_once`), or a session the daemon polls through.

    poll (feeds) -> pages (robots.txt, fetch, extraction workers) -> commit (dedup, render, save)

Loaded on first use: the extraction workers import `feedd.pipeline.worker`, and must not pay for
the rest (the state, the dedup indexes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedd._lazy import lazy_exports

if TYPE_CHECKING:
    from feedd.pipeline.commit import Drained
    from feedd.pipeline.discovery import discover_feeds
    from feedd.pipeline.report import EntryStatus, FeedReport, FeedResult, PassObserver, PassSummary
    from feedd.pipeline.session import Session, open_session, run_once, run_pass

_EXPORTS = {
    "Drained": "feedd.pipeline.commit",
    "discover_feeds": "feedd.pipeline.discovery",
    "EntryStatus": "feedd.pipeline.report",
    "FeedReport": "feedd.pipeline.report",
    "FeedResult": "feedd.pipeline.report",
    "PassObserver": "feedd.pipeline.report",
    "PassSummary": "feedd.pipeline.report",
    "Session": "feedd.pipeline.session",
    "open_session": "feedd.pipeline.session",
    "run_once": "feedd.pipeline.session",
    "run_pass": "feedd.pipeline.session",
}

__all__ = [
    "Drained",
    "discover_feeds",
    "EntryStatus",
    "FeedReport",
    "FeedResult",
    "PassObserver",
    "PassSummary",
    "Session",
    "open_session",
    "run_once",
    "run_pass",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
