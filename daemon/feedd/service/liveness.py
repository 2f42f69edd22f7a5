"""Whether `feedd run` still makes progress: what its systemd watchdog ping stands for.

An event loop that keeps running is not enough: a scheduler that stopped firing, or a poll that
outlives its own time limit, leaves a daemon that answers every ping and polls nothing. So the
ping stands for "polls complete": the daemon is stalled when work has been due for longer than
the stall limit and no poll completed in that time. A daemon with nothing due is healthy,
however long ago its last poll was (a single feed polled once a day).

Times are `time.monotonic()` seconds, so a step of the wall clock is no stall.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The least time allowed, beyond poll_timeout, between a poll's timeout and its being recorded.
STALL_MARGIN = 5.0


def stall_limit(poll_timeout: float) -> float:
    """How long polls may be due with none completing: poll_timeout bounds every poll, so when no
    poll completed for that long, one has outlived its own limit. The margin (half of it, at
    least 5 s) covers what follows a timeout: the cancellation, recording the failure, a busy
    loop. With the default poll_timeout (10 min) systemd hears of a wedge after 15 min plus
    WatchdogSec."""
    return poll_timeout + max(STALL_MARGIN, poll_timeout / 2)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One check: whether to keep pinging, and for how long polls have been due with none done."""

    healthy: bool
    stalled_for: float


class Liveness:
    """Remembers the last completed poll and since when work has been due; checked by the
    watchdog before each ping. Holds no clock and no scheduler: the daemon passes both in."""

    def __init__(self, limit: float, now: float) -> None:
        self.limit = limit
        # Start-up counts as progress: the first polls get a whole limit to complete.
        self._last_completion = now
        self._due_since: float | None = None

    def completed(self, now: float) -> None:
        """A poll finished (whatever its result: a failing feed is no wedged daemon)."""
        self._last_completion = now

    def check(self, now: float, *, due: bool) -> Verdict:
        """`due`: a poll is in progress, planned for now or earlier, or missing from the plan.
        Work becomes due when a check first sees it, not at its planned time, so that a wall
        clock stepped forward (or a suspend) is no stall by itself."""
        if not due:
            self._due_since = None
            return Verdict(healthy=True, stalled_for=0.0)
        if self._due_since is None:
            self._due_since = now
        stalled_for = now - max(self._last_completion, self._due_since)
        return Verdict(healthy=stalled_for <= self.limit, stalled_for=stalled_for)
