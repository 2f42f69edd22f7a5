"""`feedd run`: one APScheduler job per feed, intervals that adapt to each feed (service.plan), a
schedule that heals itself, a watchdog ping that means polls complete (service.liveness),
graceful stop and live reload."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from feedd.config import Config, FeedConfig, load_config
from feedd.errors import ConfigError
from feedd.pipeline import FeedReport, Session, open_session
from feedd.service.health import Health, check_health
from feedd.service.liveness import Liveness, stall_limit
from feedd.service.metrics import Metrics
from feedd.service.notify import notify, watchdog_interval
from feedd.service.plan import plan_next

if TYPE_CHECKING:
    from feedd.web import WebServer

log = logging.getLogger("feedd")

#: Feeds that must be polled now (added by a reload, found unplanned by the sweep) start at most
#: this far apart ...
SOON_STEP = 0.1
#: ... and all within this many seconds, however many there are.
SOON_SPREAD = 5.0
#: The sweep for feeds without a planned poll runs this often, or every min_interval if shorter.
SWEEP_EVERY = 60.0


class Daemon:
    """Keeps every configured feed polled until told to stop."""

    def __init__(self, config_path: Path, config: Config) -> None:
        self._config_path = config_path
        self.config = config
        self._stop = asyncio.Event()
        #: The feeds' poll jobs (one per feed, id = its URL) and the housekeeping jobs; None until
        #: run() starts it.
        self.scheduler: AsyncIOScheduler | None = None
        self._session: Session | None = None
        self._polls: set[asyncio.Task[None]] = set()
        self._feeds: dict[str, FeedConfig] = {}
        # Feeds whose poll job the scheduler has handed over and that have not finished: such a
        # feed has no planned job, and needs none, until its poll plans the next one.
        self._polling: set[str] = set()
        self._liveness = Liveness(stall_limit(config.schedule.poll_timeout), time.monotonic())
        self._stalled = False
        self._metrics: Metrics | None = None
        #: The web view ([web] listen), served from this loop; None when not configured.
        self.web: WebServer | None = None
        self._started = datetime.now(UTC)
        self._last_success: datetime | None = None
        self._last_status = ""
        #: Feeds whose last poll failed, kept from the polls' reports (asking the state after
        #: every poll costs a scan of the feeds table).
        self._failing: set[str] = set()

    async def run(self) -> None:
        # APScheduler logs every job run at INFO; feedd logs each poll itself.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))
        listen = self.config.metrics.address
        if listen is not None:
            self._metrics = Metrics()
            self._metrics.serve(listen.host, listen.port, health=self.health)
            log.info("metrics on http://%s/metrics, health on /healthz", listen)
        async with open_session(self.config) as session:
            self._session = session
            # The view is stopped whatever stops the daemon, a failure while it starts included.
            try:
                # Started once the session has opened (and, the first time, created) the state that
                # the view reads; it reads through a read-only connection of its own.
                if (address := self.config.web.address) is not None:
                    from feedd.web import WebServer  # starlette and uvicorn only where they serve

                    # The view follows reloads: it reads the daemon's config as it is now.
                    self.web = WebServer(self.config, address, current=lambda: self.config)
                    await self.web.start()
                    log.info("web view on http://%s%s/", address, self.config.web.root_path)
                self._failing = session.state.feeds.failing()
                # No misfire grace: a job late by any amount (clock step, suspend, a long stall) runs
                # late rather than never, since a dropped date job would end its feed's chain.
                self.scheduler = AsyncIOScheduler(
                    timezone=UTC,
                    job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                )
                self.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
                self.scheduler.start()
                self.scheduler.add_job(self._evict, "interval", hours=1, id="evict-expired-fingerprints")
                # Documents that waited for the dedup backend are decided once it answers again,
                # whatever their feeds' schedules: tried as often as a feed may be polled.
                every = self.config.schedule.min_interval
                self.scheduler.add_job(self._drain, "interval", seconds=every, id="drain-waiting")
                sweep_every = min(SWEEP_EVERY, every)
                self.scheduler.add_job(self.sweep, "interval", seconds=sweep_every, id="sweep-unplanned")
                self._apply_feeds(self.config.active_feeds, starting=True)
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
                    self.scheduler.shutdown(wait=False)
                    for task in self._polls:
                        task.cancel()
                    await asyncio.gather(*self._polls, return_exceptions=True)
            finally:
                if self.web is not None:
                    await self.web.stop()
        if self._metrics is not None:
            self._metrics.close()
        log.info("stopped")

    def stop(self) -> None:
        self._stop.set()

    def health(self) -> Health:
        """For /healthz: what the daemon knows, a fresh daemon counting from its start."""
        return check_health(
            self.config,
            last_successful_poll=self._last_success or self._started,
            feeds_in_error=len(self._failing & self._feeds.keys()),
        )

    async def reload(self) -> None:
        """SIGHUP: apply a changed feed list and schedule; keep the old config if the new one is bad."""
        try:
            config = load_config(self._config_path)
        except ConfigError as exc:
            log.error("reload refused, still running the previous config: %s", exc)
            notify("STATUS=reload refused: invalid config (see the log)")
            self._last_status = ""
            return
        unchanged = ("storage", "fetch", "extract", "dedup", "metrics", "web")
        changed = [name for name in unchanged if getattr(config, name) != getattr(self.config, name)]
        if changed:
            log.warning("reload: [%s] changes take effect at the next restart", "], [".join(changed))
        self.config = config
        self._liveness.limit = stall_limit(config.schedule.poll_timeout)
        if self._session is not None:
            self._session.credentials = config.credentials
        self._apply_feeds(config.active_feeds, starting=False)
        log.info("reloaded %s: %d feed(s)", self._config_path, len(self._feeds))
        self._status()

    def _apply_feeds(self, feeds: tuple[FeedConfig, ...], *, starting: bool) -> None:
        """Schedule the feeds this instance polls (Config.active_feeds); unschedule the others.

        At start, a feed keeps the poll planned before a restart while it is still to come, so
        that restarting does not poll every feed again (no later than one interval from now, so
        that a shortened interval takes effect). The others' first polls are spread evenly over
        their first interval (feed i of N at i/N of it): a steady load from the first second,
        every feed polled within its interval. An even spread by config order rather than a hash
        of the URL: a hash clumps (the busiest second of a random spread holds several times the
        average). After a reload, new feeds are polled at once; changed ones keep their planned poll."""
        assert self.scheduler is not None
        wanted = {feed.url: feed for feed in feeds}
        for url in self._feeds.keys() - wanted.keys():
            if self.scheduler.get_job(url):
                self.scheduler.remove_job(url)
            log.info("feed removed: %s", url)
        new = [feed for url, feed in wanted.items() if url not in self._feeds]
        self._feeds = wanted
        now = datetime.now(UTC)
        if starting:
            assert self._session is not None
            planned = self._session.state.feeds.planned_polls()
            due = []
            for feed in new:
                when = planned.get(feed.url)
                if when is not None and when > now:
                    self._schedule(feed.url, min(when, now + timedelta(seconds=self._interval(feed))))
                else:
                    due.append(feed)
            for index, feed in enumerate(due):
                self._schedule(feed.url, now + timedelta(seconds=self._interval(feed) * index / len(due)))
        else:
            self._schedule_soon([feed.url for feed in new], now)

    def _interval(self, feed: FeedConfig) -> float:
        """The feed's starting interval, as plan_next bounds it below."""
        return max(feed.interval or self.config.schedule.interval, self.config.schedule.min_interval)

    def _schedule_soon(self, urls: list[str], now: datetime) -> None:
        step = min(SOON_STEP, SOON_SPREAD / len(urls)) if urls else 0.0
        for index, url in enumerate(urls):
            self._schedule(url, now + timedelta(seconds=index * step))

    def _schedule(self, url: str, when: datetime) -> None:
        assert self.scheduler is not None
        self.scheduler.add_job(
            self._run_poll, "date", run_date=when, args=[url], id=url, replace_existing=True
        )

    def _submitted(self, event: JobSubmissionEvent) -> None:
        # Called as the scheduler hands a job over, before it drops the spent date job: from
        # then on the feed counts as polling, so the sweep never re-arms a poll about to start.
        if event.job_id in self._feeds:
            self._polling.add(event.job_id)

    async def _run_poll(self, url: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._polls.add(task)
        try:
            await self._poll(url)
        except asyncio.CancelledError:
            # Cancelled on the way out (run() cancels polls in flight): the poll is simply
            # repeated after the restart, and APScheduler would log it at ERROR with a traceback.
            if not self._stop.is_set():
                raise
        finally:
            self._polls.discard(task)
            self._polling.discard(url)

    async def _poll(self, url: str) -> None:
        """Poll one feed, record it and plan its next poll. The plan is made in a `finally`: a
        feed's polls are a chain of date jobs, and whatever fails after the poll must not end it."""
        feed = self._feeds.get(url)
        if feed is None or self._session is None or self._stop.is_set():
            return
        # Until plan_next says otherwise, the next poll is one interval away: never zero, so a
        # failure that repeats is retried at the feed's pace, not in a tight loop.
        delay = self._interval(feed)
        try:
            # A hard limit, so one hung fetch never wedges its job for good.
            report = await self._session.run_feed(feed, timeout=self.config.schedule.poll_timeout)
            self._liveness.completed(time.monotonic())
            if report.result == "failed":
                self._failing.add(url)
            else:
                self._failing.discard(url)
                self._last_success = datetime.now(UTC)
            delay = self._record(feed, report)
            self._status()
        except Exception:
            log.exception("feed %s: recording its poll failed; next poll in %.0fs", feed.label, delay)
        finally:
            if not self._stop.is_set() and url in self._feeds:
                self._schedule(url, datetime.now(UTC) + timedelta(seconds=delay))

    def _record(self, feed: FeedConfig, report: FeedReport) -> float:
        """Plan the feed's next poll, store the plan, count and log the poll; the delay planned."""
        assert self._session is not None
        state, schedule = self._session.state, self.config.schedule
        if self._metrics is not None:
            self._metrics.observe(report)
        plan = plan_next(
            feed,
            schedule,
            report,
            consecutive_errors=state.feeds.consecutive_errors(feed.url),
            entries_per_day=state.entries.new_per_day(feed.url),
        )
        when = datetime.now(UTC) + timedelta(seconds=plan.delay)
        state.feeds.record_schedule(feed.url, next_poll=when, interval=plan.delay, reason=plan.reason)
        fields = {
            "feed": feed.label,
            "url": feed.url,
            "status": report.result,
            "next_poll": when.isoformat(timespec="seconds"),
            "reason": report.error or plan.reason,
        }
        if report.result == "failed":
            log.warning(
                "feed %s failed: %s; next poll in %.0fs (%s)",
                feed.label,
                report.error,
                plan.delay,
                plan.reason,
                extra=fields,
            )
        else:
            # A poll that brought nothing is the common case of a busy daemon (thousands a
            # minute): worth a line at debug level only.
            log.log(
                logging.INFO if report.new else logging.DEBUG,
                "feed %s: %s, %d new, %d saved, %d duplicate, %d failed; next poll in %.0fs (%s)",
                feed.label,
                report.result,
                report.new,
                report.saved,
                report.duplicate,
                report.failed,
                plan.delay,
                plan.reason,
                extra=fields,
            )
        return plan.delay

    async def sweep(self) -> list[str]:
        """Re-arm every feed of this instance that has no planned poll and none in progress, and
        say so: the chain of date jobs is meant to be unbreakable, and a feed that fell out of
        it anyway (a bug, a job removed by hand) is polled again rather than never. Returns the
        URLs re-armed."""
        lost = self._unplanned()
        for url in lost:
            log.warning("feed %s had no planned poll: polling it now", self._feeds[url].label)
        self._schedule_soon(lost, datetime.now(UTC))
        return lost

    def _unplanned(self) -> list[str]:
        assert self.scheduler is not None
        planned = {job.id for job in self.scheduler.get_jobs() if job.next_run_time is not None}
        return [url for url in self._feeds if url not in planned and url not in self._polling]

    def _work_due(self) -> bool:
        """Whether polling should be making progress now: a poll in progress, a job whose time
        has come (a scheduler that stopped firing leaves them there), or a feed out of the plan."""
        assert self.scheduler is not None
        if self._polling or self._unplanned():
            return True
        now = datetime.now(UTC)
        return any(
            job.next_run_time is not None and job.next_run_time <= now for job in self.scheduler.get_jobs()
        )

    # Jobs are coroutines so that APScheduler runs them on the event loop, which owns the state's
    # SQLite connection; a plain function would run in a worker thread.
    async def _drain(self) -> None:
        if self._session is not None:
            await self._session.drain_waiting()

    async def _evict(self) -> None:
        if self._session is not None and (count := await self._session.evict_expired()):
            log.info("forgot %d fingerprint(s) older than the dedup window", count)

    def _status(self) -> None:
        failing = len(self._failing & self._feeds.keys())
        if self._metrics is not None:
            self._metrics.feeds_in_error.set(failing)
        status = f"STATUS={len(self._feeds)} feeds, {failing} failing"
        if status != self._last_status:
            self._last_status = status
            notify(status)

    async def _watchdog(self) -> None:
        """Ping systemd while polls complete (service.liveness); stop once they have been due for
        longer than the stall limit with none completing, so that systemd restarts a daemon whose
        loop runs but whose polling is wedged. Pings resume if polls complete again first."""
        interval = watchdog_interval()
        if interval is None:
            return
        while True:
            verdict = self._liveness.check(time.monotonic(), due=self._work_due())
            if verdict.healthy:
                if self._stalled:
                    self._stalled = False
                    log.warning("polls complete again: watchdog pings resumed")
                    self._last_status = ""
                    self._status()
                notify("WATCHDOG=1")
            elif not self._stalled:
                self._stalled = True
                log.error(
                    "polling stalled: polls due and none completed for %.1fs (limit %.0fs); "
                    "watchdog pings stopped so that systemd restarts feedd",
                    verdict.stalled_for,
                    self._liveness.limit,
                )
                self._last_status = (
                    f"STATUS=stalled: no poll completed for {verdict.stalled_for:.0f}s; "
                    "watchdog pings stopped"
                )
                notify(self._last_status)
            await asyncio.sleep(interval)


def run_daemon(config_path: Path, config: Config) -> None:
    """`feedd run`: poll until SIGTERM or SIGINT; SIGHUP reloads the config."""
    asyncio.run(Daemon(config_path, config).run())
