"""Page work: an entry's article page checked against robots.txt, fetched, and handed to the
extraction workers; one fetch per page however many feeds link to it at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from feedd.config import Config, FeedConfig
from feedd.dedup import Fingerprinter
from feedd.errors import FetchError
from feedd.extract import ExtractionFailure, PageInput
from feedd.feeds import Entry
from feedd.http import PAGE_ACCEPT, Budget, Fetcher, FetchResult, RequestOptions, RobotsPolicy
from feedd.pipeline.pool import ExtractorPool
from feedd.pipeline.worker import Prepared

log = logging.getLogger("feedd")

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


@dataclass(frozen=True, slots=True)
class AlreadySaved:
    """The entry's canonical URL was saved (by another feed) before its page was fetched."""

    document_id: str


#: What page work gives for one entry.
PageOutcome = Prepared | ExtractionFailure | AlreadySaved


class SavedURLs(Protocol):
    def document_id_by_url(self, canonical_url: str) -> str | None: ...


class PageWork:
    """Turns new entries into prepared articles, concurrently. The pages held in memory between
    fetch and extraction are bounded by a budget the frontier grants page requests against, so
    entries waiting for a slow host's turn hold nothing that others need."""

    def __init__(
        self,
        config: Config,
        saved: SavedURLs,
        fetcher: Fetcher,
        robots: RobotsPolicy,
        extractor: ExtractorPool,
        fingerprinter: Fingerprinter | None,
        options_for: Callable[[FeedConfig], RequestOptions],
    ) -> None:
        self._config = config
        self._saved = saved
        self._fetcher = fetcher
        self._robots = robots
        self._extractor = extractor
        self._fingerprinter = fingerprinter
        self._options_for = options_for
        # Enough pages on hand to keep every worker busy while the connections fetch more.
        self._bodies = Budget(config.fetch.max_connections + 2 * max(1, extractor.workers))
        # One fetch per page even when several feeds link to it at once.
        self._shared: dict[str, asyncio.Task[PageOutcome]] = {}
        # Work on entries without a canonical link, to cancel on the way out.
        self._own: set[asyncio.Task[PageOutcome]] = set()

    def start(self, feed: FeedConfig, entry: Entry, last_try: bool) -> Awaitable[PageOutcome]:
        """Begin the work on `entry`; await the result in commit order."""
        if entry.canonical_link is None:
            task = asyncio.create_task(self._prepare(feed, entry, last_try))
            self._own.add(task)
            task.add_done_callback(self._own.discard)
            return task
        shared = self._shared.get(entry.canonical_link)
        # Share work in flight only: a finished task may hold the result of an abandoned poll.
        if shared is None or shared.done():
            shared = asyncio.create_task(self._prepare(feed, entry, last_try))
            self._shared[entry.canonical_link] = shared
        return asyncio.shield(shared)

    def forget(self, entry: Entry) -> None:
        """The entry is committed: its page's work need not be shared any more."""
        if entry.canonical_link:
            self._shared.pop(entry.canonical_link, None)

    async def cancel(self) -> None:
        """Stop work that was started but will not be committed."""
        pending = [task for task in (*self._own, *self._shared.values()) if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._own.clear()
        self._shared.clear()

    async def _prepare(self, feed: FeedConfig, entry: Entry, last_try: bool) -> PageOutcome:
        """Fetch, extract and fingerprint one entry. A page that fails for a passing reason (a
        timeout, a 503) fails the entry, to be retried next pass, rather than settle for the
        feed's teaser; on the entry's last try the teaser is better than nothing."""
        if entry.canonical_link and (saved := self._saved.document_id_by_url(entry.canonical_link)):
            return AlreadySaved(saved)
        try:
            page = await self._fetch_page(feed, entry)
            try:
                if page.fetch_transient and not last_try:
                    return ExtractionFailure(f"{page.fetch_problem}; will retry")
                return await self._extractor.prepare(page, self._fingerprinter)
            finally:
                if page.html is not None:
                    self._bodies.release()
        except Exception as exc:  # one entry's bad luck must not end the pass
            log.exception("entry %s: unexpected error", entry.link or entry.key)
            return ExtractionFailure(f"internal error: {type(exc).__name__}: {exc}")

    async def _fetch_page(self, feed: FeedConfig, entry: Entry) -> PageInput:
        if not feed.fetch_article:
            return PageInput(entry, None, None, None, fetch_problem="feed has fetch_article = false")
        if entry.link is None:
            return PageInput(entry, None, None, None, fetch_problem="entry has no link")
        if entry.canonical_link is None:
            problem = "entry's link is shared by other entries of the feed"
            return PageInput(entry, None, None, None, fetch_problem=problem)
        verdict = await self._robots.verdict(entry.link)
        if not verdict.allowed:
            return PageInput(
                entry, None, None, None, fetch_problem=verdict.reason, fetch_transient=verdict.transient
            )
        try:
            response = await self._fetcher.get(
                entry.link, accept=PAGE_ACCEPT, options=self._options_for(feed), budget=self._bodies
            )
        except FetchError as exc:
            problem = f"page fetch failed: {exc.reason}"
            return PageInput(entry, None, None, None, fetch_problem=problem, fetch_transient=exc.transient)
        # The response's body holds a unit of the budget until extraction is done with it.
        try:
            page = await self._page_from(feed, entry, response)
        except BaseException:
            self._bodies.release()
            raise
        if page.html is None:
            self._bodies.release()
        return page

    async def _page_from(self, feed: FeedConfig, entry: Entry, response: FetchResult) -> PageInput:
        if urlsplit(response.final_url).netloc != urlsplit(response.url).netloc:
            # Redirected to another site: its robots.txt has a say too.
            verdict = await self._robots.verdict(response.final_url)
            if not verdict.allowed:
                problem = f"redirected to {response.final_url}, where {verdict.reason}"
                return PageInput(
                    entry, None, None, None, fetch_problem=problem, fetch_transient=verdict.transient
                )
        content_type = response.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
            return PageInput(entry, None, None, None, fetch_problem=f"page is {content_type}, not HTML")
        rule = self._config.site_rules.for_url(response.final_url)
        return PageInput(
            entry, response.content, content_type, response.final_url, site_rule=rule, feed_url=feed.url
        )
