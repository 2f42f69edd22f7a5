"""The daemon's schedule on a real event loop, against a real loopback server: first polls spread
over the first interval, a reload polls new feeds at once, and the chain of polls heals itself (a
late job runs late, a failure after a poll still plans the next, the sweep re-arms a lost feed).
The daemon as a real process, with its watchdog, is in tests/scenarios/test_daemon.py."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd.config import load_config
from feedd.service import Daemon

HOUR_FEEDS = '[schedule]\ninterval = "1h"\nmin_interval = "1s"\nmax_interval = "2h"\njitter = 0.0\n'


def _feed(server: LoopbackServer, path: str, **options: object) -> str:
    """A feed of one story: its first poll saves it, later ones find nothing new."""
    page = server.add(f"{path}/story", article_page(f"Story of {path}", story(len(path))))
    return server.add(path, rss([{"title": "Story", "link": page, "guid": page}]), **options)


def _hit_times(server: LoopbackServer, path: str) -> list[float]:
    # The server appends to both lists at once; one may be a request ahead while it serves.
    pairs = zip(server.requests, server.request_times, strict=False)
    return [at for (requested, _), at in pairs if requested == path]


def _first_hit(server: LoopbackServer, path: str) -> float:
    return _hit_times(server, path)[0]


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def _run(config: Path, scenario: Callable[[Daemon], Awaitable[None]]) -> None:
    """Run a Daemon on a fresh event loop, play `scenario` against it, then stop it."""

    async def main() -> None:
        daemon = Daemon(config, load_config(config))
        running = asyncio.create_task(daemon.run())
        try:
            await _until(lambda: daemon.scheduler is not None and daemon.scheduler.running)
            await scenario(daemon)
        finally:
            daemon.stop()
            await asyncio.wait_for(running, 30)

    asyncio.run(main())


def test_first_polls_spread_evenly_over_the_first_interval(server: LoopbackServer, tmp_path: Path) -> None:
    count, interval = 12, 3.0
    paths = [f"/f{index}.xml" for index in range(count)]
    feeds = [{"url": _feed(server, path)} for path in paths]
    extra = f'[schedule]\ninterval = "{interval:g}s"\nmin_interval = "1s"\njitter = 0.0\n'
    config = write_config(tmp_path, feeds, extra=extra)

    async def scenario(daemon: Daemon) -> None:
        await _until(lambda: all(server.hits(path) for path in paths))

    _run(config, scenario)
    start = _first_hit(server, paths[0])
    offsets = [_first_hit(server, path) - start for path in paths]
    # Feed i of N at i/N of the interval: 0.25 s apart here, not one second per feed.
    for index, offset in enumerate(offsets):
        assert abs(offset - interval * index / count) < 0.2, offsets
    assert offsets[-1] < interval


def test_reload_polls_new_feeds_at_once_and_keeps_the_others_schedule(
    server: LoopbackServer, tmp_path: Path
) -> None:
    kept = _feed(server, "/kept.xml")
    config = write_config(tmp_path, [{"url": kept}], extra=HOUR_FEEDS)

    async def scenario(daemon: Daemon) -> None:
        assert daemon.scheduler is not None
        await _until(lambda: daemon.scheduler.get_job(kept) is not None and server.hits("/kept.xml") == 1)
        planned = daemon.scheduler.get_job(kept).next_run_time
        added = [_feed(server, f"/new{index}.xml") for index in range(3)]
        # The kept feed changes (a name, an interval): its planned poll stays.
        feeds = [{"url": kept, "name": "Kept", "interval": "2h"}] + [{"url": url} for url in added]
        write_config(tmp_path, feeds, extra=HOUR_FEEDS)
        reloaded = time.monotonic()
        await daemon.reload()
        await _until(lambda: all(server.hits(f"/new{index}.xml") for index in range(3)), timeout=5)
        assert max(_first_hit(server, f"/new{index}.xml") for index in range(3)) - reloaded < 1.0
        assert daemon.scheduler.get_job(kept).next_run_time == planned
        assert server.hits("/kept.xml") == 1
        # Removed from the config: unscheduled.
        write_config(tmp_path, [{"url": kept}], extra=HOUR_FEEDS)
        await daemon.reload()
        assert all(daemon.scheduler.get_job(url) is None for url in added)

    _run(config, scenario)


def test_a_job_late_by_an_hour_still_runs(server: LoopbackServer, tmp_path: Path) -> None:
    url = _feed(server, "/late.xml")
    config = write_config(tmp_path, [{"url": url}], extra=HOUR_FEEDS)

    async def scenario(daemon: Daemon) -> None:
        assert daemon.scheduler is not None
        await _until(lambda: daemon.scheduler.get_job(url) is not None and server.hits("/late.xml") == 1)
        # As after a suspend or a clock step: the job's time passed an hour ago. With a misfire
        # grace time (APScheduler drops a job later than that) the feed would never poll again.
        daemon.scheduler.modify_job(url, next_run_time=datetime.now(UTC) - timedelta(hours=1))
        await _until(lambda: server.hits("/late.xml") == 2, timeout=5)
        await _until(lambda: daemon.scheduler.get_job(url) is not None)  # and the chain goes on
        next_poll = daemon.scheduler.get_job(url).next_run_time
        assert next_poll > datetime.now(UTC) + timedelta(minutes=50)

    _run(config, scenario)


def test_a_failure_after_a_poll_does_not_end_the_feeds_polls(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = _feed(server, "/chain.xml")
    extra = '[schedule]\ninterval = "1s"\nmin_interval = "1s"\njitter = 0.0\n'
    config = write_config(tmp_path, [{"url": url, "name": "Chained"}], extra=extra)

    def broken_plan(*args: object, **kwargs: object) -> None:
        raise RuntimeError("planning broke")

    # Every poll's bookkeeping fails: each poll is still followed by the next, one interval later.
    monkeypatch.setattr("feedd.service.daemon.plan_next", broken_plan)

    async def scenario(daemon: Daemon) -> None:
        await _until(lambda: server.hits("/chain.xml") >= 3, timeout=6)

    with caplog.at_level(logging.ERROR, logger="feedd"):
        _run(config, scenario)
    failures = [record for record in caplog.records if "recording its poll failed" in record.getMessage()]
    assert len(failures) >= 2
    assert "feed Chained" in failures[0].getMessage() and failures[0].exc_info is not None
    times = _hit_times(server, "/chain.xml")
    # Retried at the feed's interval, not in a tight loop.
    assert all(later - earlier > 0.9 for earlier, later in zip(times, times[1:], strict=False)), times


def test_the_sweep_rearms_a_lost_feed_and_leaves_polls_in_progress_alone(
    server: LoopbackServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lost = _feed(server, "/lost.xml")
    # A feed whose every poll takes longer than the sweep period (1 s, min_interval here): while it
    # polls it has no planned job, and it is no lost feed.
    slow = _feed(server, "/slow.xml", delay=1.5)
    feeds = [{"url": lost, "name": "Lost"}, {"url": slow, "name": "Slow", "interval": "2s"}]
    config = write_config(tmp_path, feeds, extra=HOUR_FEEDS)

    async def scenario(daemon: Daemon) -> None:
        assert daemon.scheduler is not None
        await _until(lambda: daemon.scheduler.get_job(lost) is not None and server.hits("/lost.xml") == 1)
        daemon.scheduler.remove_job(lost)  # behind the daemon's back
        await _until(lambda: server.hits("/lost.xml") == 2, timeout=5)
        await _until(lambda: daemon.scheduler.get_job(lost) is not None)
        await _until(lambda: server.hits("/slow.xml") >= 3, timeout=10)

    with caplog.at_level(logging.WARNING, logger="feedd"):
        _run(config, scenario)
    messages = [record.getMessage() for record in caplog.records]
    rearmed = [message for message in messages if "had no planned poll" in message]
    assert rearmed == ["feed Lost had no planned poll: polling it now"]


def test_a_restart_keeps_the_polls_planned_before_it(server: LoopbackServer, tmp_path: Path) -> None:
    # Polled once, next poll planned an hour ahead: a restart must not poll it again at once.
    url = _feed(server, "/planned.xml")
    config = write_config(tmp_path, [{"url": url}], extra=HOUR_FEEDS)
    planned: list[datetime] = []

    async def first_run(daemon: Daemon) -> None:
        assert daemon.scheduler is not None
        await _until(lambda: server.hits("/planned.xml") == 1 and daemon.scheduler.get_job(url) is not None)
        planned.append(daemon.scheduler.get_job(url).next_run_time)

    async def restarted(daemon: Daemon) -> None:
        assert daemon.scheduler is not None
        job = daemon.scheduler.get_job(url)
        assert job is not None
        assert abs((job.next_run_time - planned[0]).total_seconds()) < 1.0
        await asyncio.sleep(0.5)

    _run(config, first_run)
    _run(config, restarted)
    assert server.hits("/planned.xml") == 1
    assert planned[0] - datetime.now(UTC) > timedelta(minutes=50)
