"""Polling a feed: fetch it with its validators, parse it, and start the page work of every entry
that is new (not settled before, not filtered out)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from feedd.config import BasicCredentials, FeedConfig, redacted_url
from feedd.errors import FeedParseError, FetchError, HTTPStatusError
from feedd.feeds import Entry, EntryFilter, announced_feeds, parse_feed
from feedd.http import FEED_ACCEPT, Fetcher, FetchResult, Origin, RequestOptions
from feedd.pipeline.pages import PageOutcome, PageWork
from feedd.pipeline.report import FeedReport, PassObserver
from feedd.state import MAX_ENTRY_ATTEMPTS, State

log = logging.getLogger("feedd")


@dataclass(frozen=True, slots=True)
class PendingEntry:
    """A new entry and the work that turns it into an article."""

    entry: Entry
    outcome: Awaitable[PageOutcome]


@dataclass
class PolledFeed:
    report: FeedReport
    #: The new entries, in feed order.
    work: list[PendingEntry] = field(default_factory=list)
    #: The response's validators, stored once every new entry is committed (Committer.finish).
    etag: str | None = None
    last_modified: str | None = None


def request_options(feed: FeedConfig, credentials: BasicCredentials | None) -> RequestOptions:
    """How to ask for a feed's documents and pages: its own headers and credentials, for its origin."""
    return RequestOptions(
        origin=Origin.of(feed.fetch_url),
        headers=feed.headers,
        credentials=credentials,
        user_agent=feed.user_agent,
    )


class FeedPoller:
    """Polls one feed at a time; any number at once."""

    def __init__(
        self,
        state: State,
        fetcher: Fetcher,
        pages: PageWork,
        observer: PassObserver,
        options_for: Callable[[FeedConfig], RequestOptions],
    ) -> None:
        self._state = state
        self._fetcher = fetcher
        self._pages = pages
        self._observer = observer
        self._options_for = options_for

    async def poll(self, feed: FeedConfig) -> PolledFeed:
        try:
            return await self._poll(feed)
        except Exception as exc:  # a bug met on one feed must not end the pass for all
            log.exception("feed %s: unexpected error", feed.label)
            error = f"internal error: {type(exc).__name__}: {exc}"
            self._state.feeds.record_poll(feed.url, result="failed", error=error)
            report = FeedReport(feed, result="failed", error=error)
            self._observer.feed_finished(report, 0)
            return PolledFeed(report)

    async def _poll(self, feed: FeedConfig) -> PolledFeed:
        report = FeedReport(feed)
        polled = PolledFeed(report)
        validators = self._state.feeds.state(feed.url)
        try:
            started = time.monotonic()
            response = await self._fetcher.get(
                feed.fetch_url,
                accept=FEED_ACCEPT,
                etag=validators.etag,
                last_modified=validators.last_modified,
                options=self._options_for(feed),
            )
            report.fetch_seconds = time.monotonic() - started
            # In a thread: parsing is CPU-bound (seconds for a large feed) and would stall every
            # other feed's requests and the watchdog on the loop.
            parsed = (
                None
                if response.not_modified
                else await asyncio.to_thread(
                    parse_feed,
                    response.content,
                    response.headers,
                    # The base of relative links, without the feed's own credentials: a
                    # relative link would carry them into the manifest and the state.
                    redacted_url(response.final_url),
                    max_entries=feed.max_entries,
                )
            )
        except (FetchError, FeedParseError) as exc:
            report.result = "failed"
            report.error = exc.reason if isinstance(exc, FetchError) else str(exc)
            if isinstance(exc, FeedParseError) and (hint := await asyncio.to_thread(_announced, response)):
                report.error += f"; the page announces {hint}: use one as the feed (feedd add URL)"
            if isinstance(exc, HTTPStatusError) and exc.retry_after is not None:
                report.advice["Retry-After"] = exc.retry_after
            # Said once, by whoever ran the poll: the pass's problems table, the daemon's line
            # with the next poll.
            log.debug("feed %s failed: %s", feed.label, report.error)
            self._state.feeds.record_poll(feed.url, result="failed", error=report.error)
            self._observer.feed_finished(report, 0)
            return polled
        if (fresh := response.fresh_for()) is not None:
            report.advice["Cache-Control/Expires"] = fresh
        if parsed is None:
            report.result = "not_modified"
            self._state.feeds.record_poll(feed.url, result="not_modified")
            self._observer.feed_finished(report, 0)
            return polled
        if parsed.ttl is not None:
            report.advice["ttl"] = parsed.ttl
        if parsed.update_period is not None:
            report.advice["sy:updatePeriod"] = parsed.update_period
        report.warnings.extend(parsed.warnings)
        for warning in parsed.warnings:
            log.warning("feed %s: %s", feed.label, warning)
        settled = self._state.entries.settled_keys(feed.url)
        failed_before = self._state.entries.failed_attempts(feed.url)
        entry_filter = EntryFilter.for_feed(feed)
        for entry in parsed.entries:
            if entry.key in settled:
                continue
            if reason := entry_filter.skip_reason(entry):
                report.filtered += 1
                log.debug("feed %s: %s skipped: %s", feed.label, entry.link or entry.key, reason)
                continue
            report.new += 1
            last_try = failed_before.get(entry.key, 0) + 1 >= MAX_ENTRY_ATTEMPTS
            polled.work.append(PendingEntry(entry, self._pages.start(feed, entry, last_try)))
        polled.etag, polled.last_modified = response.etag, response.last_modified
        self._observer.feed_finished(report, len(polled.work))
        return polled


def _announced(response: FetchResult) -> str:
    """The feeds a web page configured as a feed announces, for the error that says so."""
    if "html" not in response.headers.get("content-type", "").lower():
        return ""
    links = announced_feeds(response.content, response.final_url)
    return ", ".join(redacted_url(link.url) for link in links[:3])
