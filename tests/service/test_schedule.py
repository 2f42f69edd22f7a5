"""Planning each feed's next poll, and `feedd run` itself under a test NOTIFY_SOCKET."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd.config.settings import FeedConfig, ScheduleConfig
from feedd.pipeline.session import FeedReport
from feedd.service.daemon import plan_next

SCHEDULE = ScheduleConfig(interval=900, min_interval=300, max_interval=86400, jitter=0)
FEED = FeedConfig(url="https://news.example/rss")


def _plan(
    report: FeedReport, errors: int = 0, per_day: float | None = None, schedule: ScheduleConfig = SCHEDULE
):
    return plan_next(FEED, schedule, report, consecutive_errors=errors, entries_per_day=per_day)


def test_configured_interval_for_a_new_feed() -> None:
    assert _plan(FeedReport(FEED)).delay == 900
    assert (
        plan_next(
            FeedConfig(url="https://x.example/rss", interval=1200),
            SCHEDULE,
            FeedReport(FEED),
            consecutive_errors=0,
            entries_per_day=None,
        ).delay
        == 1200
    )


def test_rhythm_speeds_up_busy_feeds_and_slows_quiet_ones() -> None:
    assert _plan(FeedReport(FEED), per_day=96).delay == 450  # half an entry per poll
    assert _plan(FeedReport(FEED), per_day=2).delay == 3600  # at most four times the interval
    assert _plan(FeedReport(FEED), per_day=10000).delay == 300  # never under min_interval
    assert "rhythm" in _plan(FeedReport(FEED), per_day=96).reason


@pytest.mark.parametrize(
    ("source", "seconds"),
    [
        ("ttl", 3600.0),
        ("sy:updatePeriod", 7200.0),
        ("Cache-Control/Expires", 1800.0),
        ("Retry-After", 5000.0),
    ],
)
def test_hints_raise_the_interval(source: str, seconds: float) -> None:
    plan = _plan(FeedReport(FEED, advice={source: seconds}))
    assert plan.delay == seconds and source in plan.reason
    assert _plan(FeedReport(FEED, advice={source: 60.0})).delay == 900  # hints never lower it


def test_errors_back_off_to_max_interval_and_keep_retrying() -> None:
    failed = FeedReport(FEED, result="failed", error="HTTP 500")
    assert [_plan(failed, errors=n).delay for n in (1, 2, 3)] == [900, 1800, 3600]
    stuck = _plan(failed, errors=20)
    assert stuck.delay == 86400 and "failing (20 consecutive errors)" in stuck.reason


def test_jitter_stays_within_bounds() -> None:
    schedule = ScheduleConfig(interval=1000, min_interval=1, max_interval=10000, jitter=0.1)
    delays = {
        round(plan_next(FEED, schedule, FeedReport(FEED), consecutive_errors=0, entries_per_day=None).delay)
        for _ in range(50)
    }
    assert len(delays) > 10 and min(delays) >= 900 and max(delays) <= 1100


def _wait(predicate, timeout: float = 20.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_daemon_polls_reloads_and_stops_cleanly(server: LoopbackServer, tmp_path: Path) -> None:
    first = server.add("/a/1", article_page("First story", story(1)))
    feed_one = server.add("/one.xml", rss([{"title": "First", "link": first, "guid": "1"}]), etag='"v1"')
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    extra = (
        '[schedule]\ninterval = "1s"\nmin_interval = "1s"\nmax_interval = "2s"\njitter = 0.0\n'
        f'[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n'
    )
    config = write_config(tmp_path, [{"url": feed_one, "name": "One"}], extra=extra)
    notify_path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    listener.settimeout(0.2)
    messages: list[str] = []

    def received(text: str) -> bool:
        try:
            while True:
                messages.append(listener.recv(4096).decode())
        except TimeoutError:
            pass
        return any(text in m for m in messages)

    env = {**os.environ, "NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "1000000"}
    log_path = tmp_path / "daemon.log"
    with open(log_path, "w") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "feedd", "--log-format", "json", "run", "-c", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait(lambda: received("READY=1"))
        out = tmp_path / "out"
        _wait(lambda: len(list(out.glob("*.txt"))) == 1)
        # A new entry is picked up by a later poll, on the feed's own schedule.
        second = server.add("/a/2", article_page("Second story", story(2)))
        server.add(
            "/one.xml",
            rss(
                [
                    {"title": "Second", "link": second, "guid": "2"},
                    {"title": "First", "link": first, "guid": "1"},
                ]
            ),
            etag='"v2"',
        )
        _wait(lambda: len(list(out.glob("*.txt"))) == 2)
        assert received("WATCHDOG=1") and received("STATUS=1 feeds, 0 failing")
        # Unchanged since: the next polls are conditional and answered 304.
        _wait(lambda: "feed One: not_modified" in log_path.read_text())
        assert any(
            headers.get("if-none-match") == '"v2"' for path, headers in server.requests if path == "/one.xml"
        )
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        _wait(lambda: "feedd_documents_saved_total 2.0" in httpx.get(metrics_url).text)
        assert 'feedd_polls_total{result="ok"}' in httpx.get(metrics_url).text

        status = subprocess.run(
            [sys.executable, "-m", "feedd", "status", "-c", str(config), "--json"],
            capture_output=True,
            text=True,
        )
        [row] = [json.loads(line) for line in status.stdout.splitlines()]
        assert row["name"] == "One" and row["saved"] == 2 and row["next_poll"] and row["interval"] >= 1

        # SIGHUP with a second feed: picked up without a restart.
        third = server.add("/b/3", article_page("Third story", story(3)))
        feed_two = server.add("/two.xml", rss([{"title": "Third", "link": third, "guid": "3"}]))
        # ... and a disabled one, which is never polled.
        disabled = server.add("/off.xml", rss([{"title": "Off", "link": server.url("/off"), "guid": "x"}]))
        config.write_text(
            config.read_text()
            + f'[[feeds]]\nurl = "{feed_two}"\n[[feeds]]\nurl = "{disabled}"\nenabled = false\n'
        )
        daemon.send_signal(signal.SIGHUP)
        _wait(lambda: len(list(out.glob("*.txt"))) == 3)
        # An enabled third feed would have started 2 s after the reload. (Keep reading the
        # notify socket meanwhile: notify() drops messages a reader leaves unread.)
        waited_until = time.monotonic() + 3
        while time.monotonic() < waited_until:
            received("")
        assert server.hits("/off.xml") == 0

        # An invalid config is refused; the daemon keeps running the old one.
        config.write_text(config.read_text() + "[fetch]\nmax_per_host = -1\n")
        daemon.send_signal(signal.SIGHUP)
        _wait(lambda: "reload refused" in log_path.read_text())
        assert daemon.poll() is None

        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
        assert received("STOPPING=1")
    finally:
        if daemon.poll() is None:
            daemon.kill()
        listener.close()
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any("next poll in" in line["message"] for line in lines)


def test_notify_never_blocks_on_a_reader_that_does_not_keep_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedd.service.notify import notify

    path = str(tmp_path / "slow.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as reader:
        reader.bind(path)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        started = time.monotonic()
        results = [notify("WATCHDOG=1") for _ in range(500)]  # never read
        assert time.monotonic() - started < 2
        assert results[0] is True and results[-1] is False
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert notify("READY=1") is False
