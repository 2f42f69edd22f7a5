"""`feedd run`: one APScheduler job per feed, intervals that adapt to each feed (service.plan),
graceful stop and live reload."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from feedd.config import Config, FeedConfig, load_config
from feedd.errors import ConfigError
from feedd.pipeline import Session, open_session
from feedd.service.metrics import Metrics
from feedd.service.notify import notify, watchdog_interval
from feedd.service.plan import plan_next

log = logging.getLogger("feedd")


class Daemon:
    """Keeps every configured feed polled until told to stop."""

    def __init__(self, config_path: Path, config: Config) -> None:
        self._config_path = config_path
        self.config = config
        self._stop = asyncio.Event()
        self._scheduler: AsyncIOScheduler | None = None
        self._session: Session | None = None
        self._polls: set[asyncio.Task[None]] = set()
        self._feeds: dict[str, FeedConfig] = {}
        self._metrics: Metrics | None = None
        self._last_status = ""

    async def run(self) -> None:
        # APScheduler logs every job run at INFO; feedd logs each poll itself.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))
        if self.config.metrics.listen:
            self._metrics = Metrics()
            self._metrics.serve(self.config.metrics.listen)
            log.info("metrics on http://%s/metrics", self.config.metrics.listen)
        async with open_session(self.config) as session:
            self._session = session
            self._scheduler = AsyncIOScheduler(
                timezone=UTC,
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            )
            self._scheduler.start()
            self._scheduler.add_job(self._evict, "interval", hours=1, id="evict-expired-fingerprints")
            # Documents that waited for the dedup backend are decided once it answers again,
            # whatever their feeds' schedules: tried as often as a feed may be polled.
            every = self.config.schedule.min_interval
            self._scheduler.add_job(self._drain, "interval", seconds=every, id="drain-waiting")
            self._apply_feeds(self.config.active_feeds)
            notify("READY=1")
            self._status()
            log.info("feedd running: %d feed(s)", len(self._feeds))
            watchdog = asyncio.create_task(self._watchdog())
            try:
                await self._stop.wait()
            finally:
                notify("STOPPING=1")
                log.info("stopping: finishing in-flight work")
                watchdog.cancel()
                self._scheduler.shutdown(wait=False)
                for task in self._polls:
                    task.cancel()
                await asyncio.gather(*self._polls, return_exceptions=True)
        log.info("stopped")

    def stop(self) -> None:
        self._stop.set()

    async def reload(self) -> None:
        """SIGHUP: apply a changed feed list and schedule; keep the old config if the new one is bad."""
        try:
            config = load_config(self._config_path)
        except ConfigError as exc:
            log.error("reload refused, still running the previous config: %s", exc)
            notify("STATUS=reload refused: invalid config (see the log)")
            self._last_status = ""
            return
        unchanged = ("storage", "fetch", "extract", "dedup", "metrics")
        changed = [name for name in unchanged if getattr(config, name) != getattr(self.config, name)]
        if changed:
            log.warning("reload: [%s] changes take effect at the next restart", "], [".join(changed))
        self.config = config
        if self._session is not None:
            self._session.credentials = config.credentials
        self._apply_feeds(config.active_feeds)
        log.info("reloaded %s: %d feed(s)", self._config_path, len(self._feeds))
        self._status()

    def _apply_feeds(self, feeds: tuple[FeedConfig, ...]) -> None:
        """Schedule the feeds this instance polls (Config.active_feeds); unschedule the others."""
        assert self._scheduler is not None
        wanted = {feed.url: feed for feed in feeds}
        for url in set(self._feeds) - set(wanted):
            if self._scheduler.get_job(url):
                self._scheduler.remove_job(url)
            log.info("feed removed: %s", url)
        now = datetime.now(UTC)
        for index, url in enumerate(wanted):
            if url not in self._feeds:
                # New feeds start at once, a second apart, so they do not all fire together.
                self._schedule(url, now + timedelta(seconds=index))
        self._feeds = wanted

    def _schedule(self, url: str, when: datetime) -> None:
        assert self._scheduler is not None
        self._scheduler.add_job(
            self._run_poll, "date", run_date=when, args=[url], id=url, replace_existing=True
        )

    async def _run_poll(self, url: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._polls.add(task)
        try:
            await self._poll(url)
        finally:
            self._polls.discard(task)

    async def _poll(self, url: str) -> None:
        feed = self._feeds.get(url)
        if feed is None or self._session is None or self._stop.is_set():
            return
        session, schedule = self._session, self.config.schedule
        # A hard limit, so one hung fetch never wedges its job for good.
        report = await session.run_feed(feed, timeout=schedule.poll_timeout)
        state = session.state
        if self._metrics is not None:
            self._metrics.observe(report)
        plan = plan_next(
            feed,
            schedule,
            report,
            consecutive_errors=state.feeds.consecutive_errors(url),
            entries_per_day=state.entries.new_per_day(url),
        )
        when = datetime.now(UTC) + timedelta(seconds=plan.delay)
        state.feeds.record_schedule(url, next_poll=when, interval=plan.delay, reason=plan.reason)
        if report.result == "failed":
            log.warning(
                "feed %s failed: %s; next poll in %.0fs (%s)",
                feed.label,
                report.error,
                plan.delay,
                plan.reason,
            )
        else:
            log.info(
                "feed %s: %s, %d new, %d saved, %d duplicate, %d failed; next poll in %.0fs (%s)",
                feed.label,
                report.result,
                report.new,
                report.saved,
                report.duplicate,
                report.failed,
                plan.delay,
                plan.reason,
            )
        if not self._stop.is_set() and url in self._feeds:
            self._schedule(url, when)
        self._status()

    # Jobs are coroutines so that APScheduler runs them on the event loop, which owns the state's
    # SQLite connection; a plain function would run in a worker thread.
    async def _drain(self) -> None:
        if self._session is not None:
            self._session.drain_waiting()

    async def _evict(self) -> None:
        if self._session is not None and (count := self._session.evict_expired()):
            log.info("forgot %d fingerprint(s) older than the dedup window", count)

    def _status(self) -> None:
        if self._session is None:
            return
        feeds = self._session.state.feeds.statuses()
        failing = sum(1 for feed in feeds if feed.consecutive_errors and feed.url in self._feeds)
        if self._metrics is not None:
            self._metrics.feeds_in_error.set(failing)
        status = f"STATUS={len(self._feeds)} feeds, {failing} failing"
        if status != self._last_status:
            self._last_status = status
            notify(status)

    async def _watchdog(self) -> None:
        interval = watchdog_interval()
        if interval is None:
            return
        while True:
            notify("WATCHDOG=1")
            await asyncio.sleep(interval)


def run_daemon(config_path: Path, config: Config) -> None:
    """`feedd run`: poll until SIGTERM or SIGINT; SIGHUP reloads the config."""
    asyncio.run(Daemon(config_path, config).run())
