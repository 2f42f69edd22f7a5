"""One pass over every feed: fetch, parse, fetch pages, extract, dedup, render, save.

Network work runs concurrently on the event loop, extraction in worker processes; results are
committed in config-and-feed order, so the same inputs always give the same `seq` numbers and
the first copy of a story is the one seen first in that order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import multiprocessing
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol
from urllib.parse import urlsplit

from feedd import __version__
from feedd.config.settings import Config, FeedConfig, FetchConfig
from feedd.dedup.backend import DedupBackend, open_backend
from feedd.dedup.fingerprint import FingerprintRecord
from feedd.dedup.records import Candidate, DuplicateMatch, Verdict
from feedd.errors import FeedParseError, FetchError, HTTPStatusError, SharedIndexError
from feedd.extract.records import Article, ExtractionFailure, PageInput
from feedd.feeds.filters import EntryFilter
from feedd.feeds.parse import Entry, parse_feed
from feedd.feeds.urls import document_id
from feedd.http.client import FEED_ACCEPT, PAGE_ACCEPT, Fetcher, RequestOptions
from feedd.http.robots import RobotsPolicy
from feedd.output.render import render
from feedd.pipeline.worker import Prepared, prepare_entry
from feedd.state.store import MAX_ENTRY_ATTEMPTS, NewDocument, Store

log = logging.getLogger("feedd")

PROJECT_URL = "https://github.com/feedd/feedd"


def user_agent(fetch: FetchConfig) -> str:
    """The User-Agent: [fetch] user_agent, else feedd's name and version with a contact."""
    return fetch.user_agent or f"feedd/{__version__} (+{fetch.contact or PROJECT_URL})"


_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")

FeedResult = Literal["ok", "not_modified", "failed"]
EntryStatus = Literal["saved", "duplicate", "failed", "waiting"]


@dataclass
class FeedReport:
    """What one pass did with one feed."""

    feed: FeedConfig
    result: FeedResult = "ok"
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    new: int = 0
    #: New entries skipped by the feed's include/exclude filters.
    filtered: int = 0
    saved: int = 0
    duplicate: int = 0
    failed: int = 0
    #: Rendered documents that wait for the shared dedup index (Redis down).
    waiting: int = 0
    #: (entry link or key, reason) for each entry that failed.
    failures: list[tuple[str, str]] = field(default_factory=list)
    #: What the server and the feed said about polling again: {source: seconds}.
    advice: dict[str, float] = field(default_factory=dict)
    #: How long fetching the feed document took (None when it did not complete).
    fetch_seconds: float | None = None


@dataclass
class PassSummary:
    """The outcome of one pass, feed by feed."""

    feeds: list[FeedReport]
    started: datetime
    finished: datetime
    #: Documents that had waited for the shared dedup index, decided at the start of the pass.
    waited_saved: int = 0
    waited_dropped: int = 0

    def _count(self, result: FeedResult) -> int:
        return sum(1 for report in self.feeds if report.result == result)

    @property
    def feeds_polled(self) -> int:
        return len(self.feeds)

    @property
    def feeds_not_modified(self) -> int:
        return self._count("not_modified")

    @property
    def feeds_failed(self) -> int:
        return self._count("failed")

    @property
    def entries_new(self) -> int:
        return sum(r.new for r in self.feeds)

    @property
    def waiting(self) -> int:
        return sum(r.waiting for r in self.feeds)

    @property
    def filtered(self) -> int:
        return sum(r.filtered for r in self.feeds)

    @property
    def saved(self) -> int:
        return sum(r.saved for r in self.feeds)

    @property
    def duplicate(self) -> int:
        return sum(r.duplicate for r in self.feeds)

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.feeds)

    @property
    def every_feed_failed(self) -> bool:
        return bool(self.feeds) and self.feeds_failed == len(self.feeds)


class PassObserver(Protocol):
    """Hooks for showing progress; the CLI draws them, the library needs none."""

    def feed_finished(self, report: FeedReport, queued_entries: int) -> None: ...

    def entry_finished(self, report: FeedReport, status: EntryStatus) -> None: ...


class _Quiet:
    def feed_finished(self, report: FeedReport, queued_entries: int) -> None:
        pass

    def entry_finished(self, report: FeedReport, status: EntryStatus) -> None:
        pass


def run_once(config: Config, observer: PassObserver | None = None) -> PassSummary:
    """Run one pass over every feed in `config` and return what it did."""
    return asyncio.run(run_pass(config, observer))


async def run_pass(config: Config, observer: PassObserver | None = None) -> PassSummary:
    """run_once for callers that already have an event loop."""
    started = datetime.now(UTC)
    async with open_session(config, observer) as session:
        waited_saved, waited_dropped = session.drain_waiting()
        reports = await session.run_all()
    return PassSummary(reports, started, datetime.now(UTC), waited_saved, waited_dropped)


@asynccontextmanager
async def open_session(config: Config, observer: PassObserver | None = None) -> AsyncIterator[Session]:
    """The state, the worker pool and the HTTP client, open for as many polls as needed."""
    store = Store(
        config.database,
        config.output_dir,
        config.storage.filename,
        log_duplicates=config.dedup.log_duplicates,
    )
    with store, _ExtractorPool(config.extract.workers, config.extract.timeout) as extractor:
        backend = open_backend(config.dedup, store, store, instance_id=store.instance_id())
        async with Fetcher(config.fetch, user_agent(config.fetch)) as fetcher:
            session = Session(config, store, fetcher, extractor, observer or _Quiet(), backend)
            try:
                session.evict_expired()
            except SharedIndexError as exc:
                log.error("%s: documents wait until it answers", exc)
            try:
                yield session
            finally:
                await session.cancel_pending()
                backend.close()


@dataclass
class _PolledFeed:
    report: FeedReport
    #: Each new entry with the work that turns it into an article, in feed order.
    work: list[tuple[Entry, Awaitable[Prepared]]] = field(default_factory=list)
    #: The response's validators, stored once every new entry is committed (see Session._settle).
    etag: str | None = None
    last_modified: str | None = None


class Session:
    """Polls feeds and commits what they bring, against one open state."""

    def __init__(
        self,
        config: Config,
        store: Store,
        fetcher: Fetcher,
        extractor: _ExtractorPool,
        observer: PassObserver,
        dedup: DedupBackend,
    ) -> None:
        self._config = config
        self.store = store
        self._fetcher = fetcher
        self._extractor = extractor
        self._observer = observer
        self._dedup = dedup
        self._robots = RobotsPolicy(fetcher, store, respect_ai_optout=config.fetch.respect_ai_optout)
        #: Basic-auth credentials by feed URL; replaced when the daemon reloads its config.
        self.credentials = config.credentials
        # Bounds the pages held in memory between fetch and extraction.
        self._pages_in_flight = asyncio.Semaphore(config.fetch.max_connections + 2 * extractor.workers)
        # One fetch per page even when several feeds link to it at once.
        self._page_work: dict[str, asyncio.Task[Prepared]] = {}
        # Every other task started and not yet committed, to cancel on the way out.
        self._pending: set[asyncio.Task] = set()

    async def run_all(self) -> list[FeedReport]:
        """Poll every configured feed concurrently; commit in config order."""
        polls = [asyncio.create_task(self._poll(feed)) for feed in self._config.active_feeds]
        self._pending.update(polls)
        return [await self._settle(await poll) for poll in polls]

    async def run_feed(self, feed: FeedConfig) -> FeedReport:
        """Poll one feed and commit what it brings (the daemon's unit of work)."""
        return await self._settle(await self._poll(feed))

    def evict_expired(self) -> int:
        """Forget fingerprints older than the dedup window (a long-lived index grows otherwise)."""
        return self._dedup.evict(datetime.now(UTC) - timedelta(seconds=self._config.dedup.window))

    async def cancel_pending(self) -> None:
        """Stop work that was started but will not be committed."""
        pending = [task for task in (*self._pending, *self._page_work.values()) if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._pending.clear()
        self._page_work.clear()

    async def _settle(self, polled: _PolledFeed) -> FeedReport:
        report = polled.report
        for entry, work in polled.work:
            outcome, candidate = await work
            status = self._commit(report, entry, outcome, candidate)
            self._observer.entry_finished(report, status)
            if entry.canonical_link:
                self._page_work.pop(entry.canonical_link, None)
        if report.result == "ok":
            # Validators only once every entry is settled: a 304 next time must not hide
            # entries this pass did not finish (a crash) or should retry (a failure).
            settled = report.failed == 0
            self.store.record_poll(
                report.feed.url,
                result="ok",
                etag=polled.etag if settled else None,
                last_modified=polled.last_modified if settled else None,
                clear_validators=not settled,
            )
        self._pending.difference_update([t for t in self._pending if t.done()])
        return report

    async def _poll(self, feed: FeedConfig) -> _PolledFeed:
        try:
            return await self._poll_feed(feed)
        except Exception as exc:  # a bug met on one feed must not end the pass for all
            log.exception("feed %s: unexpected error", feed.label)
            error = f"internal error: {type(exc).__name__}: {exc}"
            self.store.record_poll(feed.url, result="failed", error=error)
            report = FeedReport(feed, result="failed", error=error)
            self._observer.feed_finished(report, 0)
            return _PolledFeed(report)

    async def _poll_feed(self, feed: FeedConfig) -> _PolledFeed:
        report = FeedReport(feed)
        polled = _PolledFeed(report)
        state = self.store.feed_state(feed.url)
        try:
            started = time.monotonic()
            response = await self._fetcher.get(
                feed.url,
                accept=FEED_ACCEPT,
                etag=state.etag,
                last_modified=state.last_modified,
                options=self._request_options(feed),
            )
            report.fetch_seconds = time.monotonic() - started
            parsed = (
                None
                if response.not_modified
                else parse_feed(response.content, response.headers, response.final_url)
            )
        except (FetchError, FeedParseError) as exc:
            report.result = "failed"
            report.error = exc.reason if isinstance(exc, FetchError) else str(exc)
            if isinstance(exc, HTTPStatusError) and exc.retry_after is not None:
                report.advice["Retry-After"] = exc.retry_after
            log.warning("feed %s failed: %s", feed.label, report.error)
            self.store.record_poll(feed.url, result="failed", error=report.error)
            self._observer.feed_finished(report, 0)
            return polled
        if (fresh := response.fresh_for()) is not None:
            report.advice["Cache-Control/Expires"] = fresh
        if parsed is None:
            report.result = "not_modified"
            self.store.record_poll(feed.url, result="not_modified")
            self._observer.feed_finished(report, 0)
            return polled
        if parsed.ttl is not None:
            report.advice["ttl"] = parsed.ttl
        if parsed.update_period is not None:
            report.advice["sy:updatePeriod"] = parsed.update_period
        report.warnings.extend(parsed.warnings)
        for warning in parsed.warnings:
            log.warning("feed %s: %s", feed.label, warning)
        settled = self.store.settled_entry_keys(feed.url)
        failed_before = self.store.failed_attempts(feed.url)
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
            polled.work.append((entry, self._article_for(feed, entry, last_try)))
        polled.etag, polled.last_modified = response.etag, response.last_modified
        self._observer.feed_finished(report, len(polled.work))
        return polled

    def _request_options(self, feed: FeedConfig) -> RequestOptions:
        return RequestOptions(
            host=(urlsplit(feed.url).hostname or "").lower(),
            headers=feed.headers,
            credentials=self.credentials.get(feed.url),
            user_agent=feed.user_agent,
        )

    def _article_for(self, feed: FeedConfig, entry: Entry, last_try: bool) -> Awaitable[Prepared]:
        if entry.canonical_link is None:
            task = asyncio.create_task(self._prepare(feed, entry, last_try))
            self._pending.add(task)
            return task
        shared = self._page_work.get(entry.canonical_link)
        # Share work in flight only: a finished task may hold the result of an abandoned poll.
        if shared is None or shared.done():
            shared = asyncio.create_task(self._prepare(feed, entry, last_try))
            self._page_work[entry.canonical_link] = shared
        return asyncio.shield(shared)

    async def _prepare(self, feed: FeedConfig, entry: Entry, last_try: bool) -> Prepared:
        """Fetch, extract and fingerprint one entry. A page that fails for a passing reason (a
        timeout, a 503) fails the entry, to be retried next pass, rather than settle for the
        feed's teaser; on the entry's last try the teaser is better than nothing."""
        if entry.canonical_link and self.store.document_id_by_url(entry.canonical_link):
            return ExtractionFailure("already saved"), None  # _commit records it as a duplicate
        try:
            async with self._pages_in_flight:
                page = await self._fetch_page(feed, entry)
                if page.fetch_transient and not last_try:
                    return ExtractionFailure(f"{page.fetch_problem}; will retry"), None
                return await self._extractor.run(prepare_entry, page, self._dedup.fingerprinter)
        except Exception as exc:  # one entry's bad luck must not end the pass
            log.exception("entry %s: unexpected error", entry.link or entry.key)
            return ExtractionFailure(f"internal error: {type(exc).__name__}: {exc}"), None

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
                entry.link, accept=PAGE_ACCEPT, options=self._request_options(feed)
            )
        except FetchError as exc:
            problem = f"page fetch failed: {exc.reason}"
            return PageInput(entry, None, None, None, fetch_problem=problem, fetch_transient=exc.transient)
        if urlsplit(response.final_url).netloc != urlsplit(entry.link).netloc:
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
        return PageInput(entry, response.content, content_type, response.final_url, site_rule=rule)

    def _commit(
        self,
        report: FeedReport,
        entry: Entry,
        outcome: Article | ExtractionFailure,
        candidate: Candidate | None,
    ) -> EntryStatus:
        feed_url = report.feed.url
        if entry.canonical_link and (doc := self.store.document_id_by_url(entry.canonical_link)):
            self.store.record_duplicate(
                feed_url,
                entry.key,
                entry.link,
                doc,
                "same canonical URL",
                title=entry.title,
                canonical_url=entry.canonical_link,
            )
            report.duplicate += 1
            return "duplicate"
        if isinstance(outcome, ExtractionFailure):
            self.store.record_failure(feed_url, entry.key, entry.link, outcome.reason)
            report.failed += 1
            report.failures.append((entry.link or entry.key, outcome.reason))
            log.warning(
                "feed %s: entry %s failed: %s", report.feed.label, entry.link or entry.key, outcome.reason
            )
            return "failed"
        article = outcome
        assert candidate is not None, "prepare_entry pairs every article with its candidate"
        doc_id = _document_id(feed_url, entry, article)
        try:
            verdict = self._verdict(candidate, doc_id)
        except SharedIndexError as exc:
            # No dedup decision, no save: the rendered document waits in the state, and the
            # entry is not fetched again nor does it use up its tries.
            reason = f"waiting for the shared dedup index ({exc})"
            self.store.queue_waiting(
                self._new_document(report, entry, article, candidate), candidate.body_words
            )
            self.store.record_failure(feed_url, entry.key, entry.link, reason, count_attempt=False)
            report.waiting += 1
            log.error("feed %s: entry %s: %s", report.feed.label, entry.link or entry.key, reason)
            return "waiting"
        if match := verdict.duplicate_of:
            self._record_drop(feed_url, entry.key, entry.link, article.title, article.canonical_url, match)
            report.duplicate += 1
            return "duplicate"
        if article.source == "feed":
            log.info(
                "feed %s: %s saved from the feed's own text: %s",
                report.feed.label,
                entry.link,
                article.fallback_reason,
            )
        saved = self.store.save_document(
            self._new_document(report, entry, article, candidate), nearest=_nearest_record(verdict)
        )
        self._dedup.commit(candidate, saved.doc_id, saved.seq)
        report.saved += 1
        return "saved"

    def _verdict(self, candidate: Candidate, document_id: str) -> Verdict:
        """The backend's verdict. Raises SharedIndexError when the backend cannot answer."""
        return self._dedup.check(candidate, document_id)

    def _new_document(
        self, report: FeedReport, entry: Entry, article: Article, candidate: Candidate
    ) -> NewDocument:
        feed_url = report.feed.url
        fetched = datetime.now(UTC)
        published = entry.published or (
            datetime(article.published.year, article.published.month, article.published.day, tzinfo=UTC)
            if article.published
            else None
        )
        return NewDocument(
            doc_id=_document_id(feed_url, entry, article),
            canonical_url=article.canonical_url,
            body_hash=candidate.body_hash,
            text=render(article),
            filename_date=published or fetched,
            feed_url=feed_url,
            entry_key=entry.key,
            entry_link=entry.link,
            metadata={
                "url": article.url,
                "canonical_url": article.canonical_url or None,
                "title": article.title,
                "published": published.isoformat() if published else None,
                "fetched": fetched.isoformat(timespec="seconds"),
                "feed": feed_url,
                "feed_name": report.feed.name,
                "tags": report.feed.tags or None,
                "guid": entry.guid,
                "entry_link": entry.link,
                "language": article.language,
                "source": article.source,
                "fallback_reason": article.fallback_reason,
                "body_sha256": candidate.body_hash,
            },
            fingerprint=FingerprintRecord.of(candidate.fingerprint)
            if candidate.fingerprint is not None
            else None,
        )

    def _record_drop(
        self,
        feed_url: str,
        entry_key: str,
        link: str | None,
        title: str | None,
        canonical_url: str,
        match: DuplicateMatch,
    ) -> None:
        self.store.record_duplicate(
            feed_url,
            entry_key,
            link,
            match.document_id,
            match.reason,
            title=title,
            canonical_url=canonical_url,
            jaccard=match.jaccard,
            containment=match.containment,
            evidence=match.evidence.to_json() if match.evidence else None,
        )
        log.info("feed %s: %s dropped: %s of %s", feed_url, link, match.reason, match.document_id)

    def drain_waiting(self) -> tuple[int, int]:
        """Decide on the documents that waited for the shared index: (saved, dropped). Stops at
        the first claim Redis cannot answer; the rest wait on."""
        saved = dropped = 0
        fingerprinter = self._dedup.fingerprinter
        for document, body_words in list(self.store.waiting()):
            fingerprint = None
            if document.fingerprint is not None and fingerprinter is not None:
                fingerprint = fingerprinter.fingerprint(document.fingerprint.plain_text())
            candidate = Candidate(document.canonical_url, document.body_hash, body_words, fingerprint)
            try:
                verdict = self._verdict(candidate, document.doc_id)
            except SharedIndexError as exc:
                log.warning("%d document(s) still wait: %s", len(list(self.store.waiting())), exc)
                break
            if match := verdict.duplicate_of:
                title = document.metadata.get("title")
                self._record_drop(
                    document.feed_url,
                    document.entry_key,
                    document.entry_link,
                    title,
                    document.canonical_url,
                    match,
                )
                dropped += 1
            else:
                saved_document = self.store.save_document(document, nearest=_nearest_record(verdict))
                self._dedup.commit(candidate, saved_document.doc_id, saved_document.seq)
                saved += 1
            self.store.unqueue_waiting(document.feed_url, document.entry_key)
        if saved or dropped:
            log.info("documents that waited for the shared index: %d saved, %d dropped", saved, dropped)
        return saved, dropped


def _nearest_record(verdict: Verdict) -> str | None:
    """The state's record of the nearest saved document found to be another story."""
    nearest = verdict.nearest
    if nearest is None:
        return None
    return json.dumps(
        {
            "document_id": nearest.document_id,
            "jaccard": nearest.jaccard,
            "containment": nearest.containment,
            "evidence": nearest.evidence.as_dict() if nearest.evidence else None,
        },
        ensure_ascii=False,
    )


def _document_id(feed_url: str, entry: Entry, article: Article) -> str:
    return document_id(article.canonical_url or f"{feed_url}#{entry.key}")


class _ExtractorPool:
    """Runs extraction off the event loop: in worker processes, or inline when workers = 0."""

    #: Pools started again after workers died, before extraction moves into the main process.
    MAX_RESTARTS = 3
    #: Pages a worker extracts before it is replaced by a fresh one.
    TASKS_PER_WORKER = 1000

    def __init__(self, workers: int | None, timeout: float = 120.0) -> None:
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._restarts = 0

    def __enter__(self) -> _ExtractorPool:
        if self.workers > 0:
            self._pool = self._new_pool()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: workers never inherit the event loop's threads; the server imports the
        # extractor once and forks workers from that warm image.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["feedd.extract.extractor", "feedd.pipeline.worker"])
        # Workers are replaced now and then: lxml and trafilatura's caches let a long-lived
        # worker's heap creep up page after page.
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, max_tasks_per_child=self.TASKS_PER_WORKER
        )

    async def run(self, function: Callable[..., Prepared], *args: object) -> Prepared:
        pool = self._pool
        if pool is None:
            return function(*args)
        try:
            future = asyncio.get_running_loop().run_in_executor(pool, function, *args)
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            # A page that keeps lxml or trafilatura busy this long is pathological: stop it the
            # only way a process pool allows, by ending its workers (the others' pages fail as
            # "worker died" and are retried on the next pass).
            log.error("extraction took longer than %gs; restarting the worker pool", self.timeout)
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            self._replace_broken(pool, crashed=False)
            return ExtractionFailure(f"extraction took longer than {self.timeout:g}s"), None
        except BrokenProcessPool:
            self._replace_broken(pool)
            return ExtractionFailure("extraction worker died"), None

    def _replace_broken(self, pool: ProcessPoolExecutor, *, crashed: bool = True) -> None:
        if pool is not self._pool:
            return  # another task already replaced it
        pool.shutdown(wait=False, cancel_futures=True)
        # Only crashes count: moving a page that hangs into this process would hang the pass.
        self._restarts += crashed
        if self._restarts > self.MAX_RESTARTS:
            # e.g. a script that starts feedd without `if __name__ == "__main__":` kills every
            # worker at import; extraction still works in this process.
            log.error("extraction workers keep dying; extracting in the main process from now on")
            self._pool = None
        else:
            if crashed:
                log.error("an extraction worker died; starting a new worker pool")
            self._pool = self._new_pool()
