"""Planning each feed's next poll, and the systemd notifications. `feedd run` as a real process is
in tests/scenarios/test_daemon.py."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from feedd.config import FeedConfig, ScheduleConfig
from feedd.pipeline import FeedReport
from feedd.service import plan_next

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


def test_notify_never_blocks_on_a_reader_that_does_not_keep_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedd.service.notify import notify

    path = str(tmp_path / "slow.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as reader:
        reader.bind(path)
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        results: list[bool] = []

        def send_unread() -> None:
            results.extend(notify("WATCHDOG=1") for _ in range(500))  # never read

        # A blocking send would hang on the full socket buffer: the sender thread would never end.
        sender = threading.Thread(target=send_unread, daemon=True)
        sender.start()
        sender.join(timeout=60)
        assert not sender.is_alive(), "notify() blocked on a reader that does not keep up"
        assert results[0] is True and results[-1] is False
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert notify("READY=1") is False
