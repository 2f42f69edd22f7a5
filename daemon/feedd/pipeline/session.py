"""One pass over every feed, and the session the daemon polls through: the stages wired together.

    FeedPoller (poll) -> PageWork (pages: robots.txt, fetch, worker pool) -> Committer (commit)

Network work runs concurrently on the event loop, extraction in worker processes; results are
committed in config-and-feed order, so the same inputs always give the same `seq` numbers and
the first copy of a story is the one seen first in that order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta

from feedd.config import BasicCredentials, Config, FeedConfig
from feedd.dedup import DedupBackend, open_backend
from feedd.errors import DedupUnavailableError, StateError
from feedd.http import Fetcher, RequestOptions, RobotsPolicy, user_agent
from feedd.pipeline.commit import Committer, Drained
from feedd.pipeline.pages import PageWork
from feedd.pipeline.poll import FeedPoller, PolledFeed, request_options
from feedd.pipeline.pool import ExtractorPool
from feedd.pipeline.report import FeedReport, PassObserver, PassSummary, QuietObserver
from feedd.state import State

log = logging.getLogger("feedd")

#: Seconds between two snapshots of the host queues.
HOST_SNAPSHOT_EVERY = 2.0


def run_once(config: Config, observer: PassObserver | None = None) -> PassSummary:
    """Run one pass over every feed in `config` and return what it did."""
    return asyncio.run(run_pass(config, observer))


async def run_pass(config: Config, observer: PassObserver | None = None) -> PassSummary:
    """run_once for callers that already have an event loop."""
    started = datetime.now(UTC)
    async with open_session(config, observer) as session:
        drained = await session.drain_waiting()
        reports = await session.run_all()
    return PassSummary(reports, started, datetime.now(UTC), drained.saved, drained.dropped)


@asynccontextmanager
async def open_session(config: Config, observer: PassObserver | None = None) -> AsyncIterator[Session]:
    """The state, the worker pool, the dedup backend and the HTTP client, open for as many polls
    as needed."""
    async with AsyncExitStack() as opened:
        state = opened.enter_context(
            State(
                config.database,
                config.output_dir,
                config.storage.filename,
                log_duplicates=config.dedup.log_duplicates,
            )
        )
        extractor = opened.enter_context(ExtractorPool(config.extract.workers, config.extract.timeout))
        dedup = open_backend(
            config.dedup, state.documents, state.fingerprints, instance_id=state.instance_id()
        )
        opened.push_async_callback(dedup.close)
        fetcher = await opened.enter_async_context(Fetcher(config.fetch, user_agent(config.fetch)))
        session = Session(config, state, fetcher, extractor, observer or QuietObserver(), dedup)
        opened.push_async_callback(session.cancel_pending)
        snapshots = asyncio.create_task(session.snapshot_hosts())
        opened.push_async_callback(_stop_snapshots, session, snapshots)
        try:
            await session.evict_expired()
        except DedupUnavailableError as exc:
            log.error("%s: documents wait until it answers", exc)
        yield session


async def _stop_snapshots(session: Session, snapshots: asyncio.Task[None]) -> None:
    snapshots.cancel()
    await asyncio.gather(snapshots, return_exceptions=True)
    try:
        session.state.hosts.record([], datetime.now(UTC))  # nothing waits once the session is over
    except StateError as exc:
        log.warning("could not clear the host queues: %s", exc)


class Session:
    """Polls feeds and commits what they bring, against one open state."""

    def __init__(
        self,
        config: Config,
        state: State,
        fetcher: Fetcher,
        extractor: ExtractorPool,
        observer: PassObserver,
        dedup: DedupBackend,
    ) -> None:
        self._config = config
        self.state = state
        self._observer = observer
        self._dedup = dedup
        #: Basic-auth credentials by feed URL; replaced when the daemon reloads its config.
        self.credentials: dict[str, BasicCredentials] = dict(config.credentials)
        robots = RobotsPolicy(fetcher, state.robots, respect_ai_optout=config.fetch.respect_ai_optout)
        self._pages = PageWork(
            config, state.documents, fetcher, robots, extractor, dedup.fingerprinter, self._options_for
        )
        self._poller = FeedPoller(state, fetcher, self._pages, observer, self._options_for)
        self._fetcher = fetcher
        self._committer = Committer(state, dedup)
        # Polls started and not yet committed, to cancel on the way out.
        self._polls: set[asyncio.Task[PolledFeed]] = set()

    async def run_all(self) -> list[FeedReport]:
        """Poll every configured feed concurrently; commit in config order."""
        polls = [self._start_poll(feed) for feed in self._config.active_feeds]
        return [await self._settle(await poll) for poll in polls]

    async def run_feed(self, feed: FeedConfig, *, timeout: float | None = None) -> FeedReport:
        """Poll one feed and commit what it brings (the daemon's unit of work). A poll that takes
        longer than `timeout` seconds fails, and is recorded as failed."""
        try:
            return await asyncio.wait_for(self._poll_and_settle(feed), timeout)
        except TimeoutError:
            report = FeedReport(feed, result="failed", error=f"poll took longer than {timeout:g}s")
        except Exception as exc:  # the daemon outlives any one poll
            log.exception("feed %s: poll failed unexpectedly", feed.label)
            report = FeedReport(feed, result="failed", error=f"internal error: {type(exc).__name__}: {exc}")
        self.state.feeds.record_poll(feed.url, result="failed", error=report.error)
        return report

    async def drain_waiting(self) -> Drained:
        """Decide on the documents that waited for the dedup backend."""
        return await self._committer.drain_waiting()

    async def evict_expired(self) -> int:
        """Forget fingerprints, and dropped entries' texts, older than the dedup window (a
        long-lived index grows otherwise); how many fingerprints were forgotten."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self._config.dedup.window)
        forgotten = await self._dedup.evict(cutoff)
        self.state.dropped_texts.forget_before(cutoff)
        return forgotten

    async def cancel_pending(self) -> None:
        """Stop work that was started but will not be committed."""
        polls = [task for task in self._polls if not task.done()]
        for task in polls:
            task.cancel()
        await asyncio.gather(*polls, return_exceptions=True)
        self._polls.clear()
        await self._pages.cancel()

    async def snapshot_hosts(self) -> None:
        """Keep the state's picture of the frontier's host queues fresh, for `feedd status`."""
        while True:
            try:
                self.state.hosts.record(self._fetcher.host_load(), datetime.now(UTC))
            except StateError as exc:  # a busy or full disk must not end the session
                log.warning("could not record the host queues: %s", exc)
            await asyncio.sleep(HOST_SNAPSHOT_EVERY)

    async def _poll_and_settle(self, feed: FeedConfig) -> FeedReport:
        return await self._settle(await self._start_poll(feed))

    def _start_poll(self, feed: FeedConfig) -> asyncio.Task[PolledFeed]:
        task = asyncio.create_task(self._poller.poll(feed))
        self._polls.add(task)
        task.add_done_callback(self._polls.discard)
        return task

    async def _settle(self, polled: PolledFeed) -> FeedReport:
        report = polled.report
        for pending in polled.work:
            status = await self._committer.commit(report, pending.entry, await pending.outcome)
            self._observer.entry_finished(report, status)
            self._pages.forget(pending.entry)
        self._committer.finish(polled)
        return report

    def _options_for(self, feed: FeedConfig) -> RequestOptions:
        return request_options(feed, self.credentials.get(feed.url))
