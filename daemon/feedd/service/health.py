"""Is feedd healthy: `feedd health` (exit codes for container and timer checks) and the daemon's
`/healthz` beside its metrics. Unhealthy when the state cannot be written, the shared index does
not answer, no feed has been polled successfully for longer than any feed may wait between two
polls ([schedule] max_interval, plus poll_timeout), or every enabled feed's last poll failed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from feedd.config import Config, path_problems
from feedd.errors import StateError


@dataclass(frozen=True, slots=True)
class Health:
    healthy: bool
    #: What makes it unhealthy, one sentence each.
    problems: tuple[str, ...]
    last_successful_poll: datetime | None
    feeds: int
    feeds_in_error: int
    state_writable: bool
    #: "ok", why the shared index does not answer, or None without one.
    shared_index: str | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = list(self.problems)
        data["last_successful_poll"] = (
            self.last_successful_poll.isoformat(timespec="seconds") if self.last_successful_poll else None
        )
        return data


def check_health(
    config: Config,
    *,
    last_successful_poll: datetime | None = None,
    feeds_in_error: int | None = None,
    now: datetime | None = None,
) -> Health:
    """The daemon passes what it knows in memory; `feedd health` reads the state (no lock)."""
    now = now or datetime.now(UTC)
    unwritable = path_problems(config)
    problems = list(unwritable)
    feeds = len(config.active_feeds)
    if last_successful_poll is None or feeds_in_error is None:
        try:
            polled = _polled(config)
        except StateError as exc:
            problems.append(str(exc))
            feeds_in_error = feeds_in_error or 0
        else:
            last_successful_poll, feeds_in_error = polled.last_success, polled.in_error
    # A quiet feed is polled as seldom as max_interval (plan_next's bound): only a longer silence
    # from every feed means polling has stopped.
    stale_after = timedelta(seconds=config.schedule.max_interval + config.schedule.poll_timeout)
    if feeds and (last_successful_poll is None or now - last_successful_poll > stale_after):
        since = (
            f"since {last_successful_poll.isoformat(timespec='seconds')}" if last_successful_poll else "yet"
        )
        problems.append(f"no feed polled successfully {since} (allowed: {stale_after.total_seconds():.0f}s)")
    if feeds and feeds_in_error >= feeds:
        problems.append(f"every feed's last poll failed ({feeds_in_error} of {feeds})")
    shared = None
    if url := config.dedup.shared:
        from feedd.dedup import shared_index_problem

        why = shared_index_problem(url)
        shared = "ok" if why is None else why
        if why is not None:
            problems.append(f"shared dedup index does not answer: {why}")
    writable = not unwritable
    return Health(
        healthy=not problems,
        problems=tuple(problems),
        last_successful_poll=last_successful_poll,
        feeds=feeds,
        feeds_in_error=feeds_in_error,
        state_writable=writable,
        shared_index=shared,
    )


@dataclass(frozen=True, slots=True)
class _Polled:
    last_success: datetime | None
    in_error: int


def _polled(config: Config) -> _Polled:
    """What the state says of the enabled feeds' polls (read without a lock)."""
    from feedd.state import feed_statuses

    active = {feed.url for feed in config.active_feeds}
    statuses = [status for status in feed_statuses(config) if status.url in active]
    good = [s.last_polled for s in statuses if s.last_polled and s.last_result in ("ok", "not_modified")]
    return _Polled(max(good, default=None), sum(1 for s in statuses if s.consecutive_errors))
