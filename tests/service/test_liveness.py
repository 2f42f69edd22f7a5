"""The watchdog's decision: ping while polls complete, stop when work has been due for longer than
the stall limit with none completing. `feedd run` stopping its pings for real is in
tests/scenarios/test_daemon.py."""

from __future__ import annotations

from feedd.service.liveness import Liveness, stall_limit


def test_stall_limit_is_poll_timeout_plus_a_margin() -> None:
    assert stall_limit(600) == 900  # the default poll_timeout: half of it again
    assert stall_limit(1) == 6  # never less than 5 s beyond it


def test_nothing_due_is_healthy_however_long_since_the_last_poll() -> None:
    liveness = Liveness(limit=10, now=0)
    assert liveness.check(5, due=False).healthy
    assert liveness.check(86_400, due=False).healthy  # a feed polled once a day, between polls


def test_due_work_with_no_poll_completing_stalls_after_the_limit() -> None:
    liveness = Liveness(limit=10, now=0)
    assert liveness.check(1, due=True).healthy
    assert liveness.check(11, due=True).healthy  # 10 s: at the limit, still fine
    verdict = liveness.check(11.5, due=True)
    assert not verdict.healthy and verdict.stalled_for == 10.5


def test_completions_keep_a_busy_daemon_healthy() -> None:
    liveness = Liveness(limit=10, now=0)
    for second in range(1, 100):
        # Always something due (many feeds), and a poll completes every 8 s.
        if second % 8 == 0:
            liveness.completed(second)
        assert liveness.check(second, due=True).healthy
    verdict = liveness.check(96 + 10.5, due=True)  # the last completion was at 96
    assert not verdict.healthy and verdict.stalled_for == 10.5


def test_work_counts_as_due_from_when_a_check_first_sees_it() -> None:
    # The last poll long ago (a daily feed), then its job comes due, or the wall clock jumps and
    # everything is overdue at once: no stall until the limit has passed since then.
    liveness = Liveness(limit=10, now=0)
    assert liveness.check(50_000, due=False).healthy
    assert liveness.check(50_001, due=True).stalled_for == 0
    assert liveness.check(50_010, due=True).healthy
    assert not liveness.check(50_012, due=True).healthy
    # Nothing due any more (say the feed was removed): healthy again, and the next due work
    # gets a whole limit of its own.
    assert liveness.check(50_013, due=False).healthy
    assert liveness.check(50_014, due=True).healthy
    assert liveness.check(50_023, due=True).healthy


def test_a_completion_after_a_stall_makes_it_healthy_again() -> None:
    liveness = Liveness(limit=10, now=0)
    liveness.check(0, due=True)
    assert not liveness.check(20, due=True).healthy
    liveness.completed(21)
    assert liveness.check(22, due=True).healthy
