"""When to poll a feed next, and why: the adaptive interval of `feedd run`.

The configured interval, adapted to the feed's rhythm, raised by what the feed and its server say
(RSS <ttl>, sy:updatePeriod, Cache-Control, Expires, Retry-After), spread by jitter and clamped;
failures back off exponentially up to max_interval, where a failing feed keeps being retried.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from feedd.config import FeedConfig, ScheduleConfig
from feedd.pipeline import FeedReport


@dataclass(frozen=True, slots=True)
class Plan:
    """When to poll a feed next, and why (shown by `feedd status`)."""

    delay: float
    reason: str


def plan_next(
    feed: FeedConfig,
    schedule: ScheduleConfig,
    report: FeedReport,
    *,
    consecutive_errors: int,
    entries_per_day: float | None,
    rng: random.Random | None = None,
) -> Plan:
    """The delay before the next poll of `feed`, after a poll that gave `report`."""
    base = feed.interval or schedule.interval
    if report.result == "failed":
        errors = max(1, consecutive_errors)
        interval = min(schedule.max_interval, base * 2 ** (errors - 1))
        reason = f"backing off after {errors} consecutive error(s)"
        if errors > 1 and interval >= schedule.max_interval:
            reason = f"failing ({errors} consecutive errors): retried every max_interval"
    elif entries_per_day:
        # Aim at about half a new entry per poll, within a factor of four of the configured interval.
        rhythm = 86400.0 / (2 * entries_per_day)
        interval = min(max(rhythm, base / 4), base * 4)
        reason = f"rhythm: {entries_per_day:.1f} new entries/day"
    else:
        interval, reason = base, "configured interval"
    for source, seconds in report.advice.items():
        if seconds > interval:
            interval, reason = seconds, f"raised by {source}"
    uniform = rng.uniform if rng else random.uniform
    interval *= 1 + uniform(-schedule.jitter, schedule.jitter)
    if interval < schedule.min_interval:
        interval, reason = schedule.min_interval, f"{reason}; clamped to min_interval"
    elif interval > schedule.max_interval:
        interval, reason = schedule.max_interval, f"{reason}; clamped to max_interval"
    return Plan(interval, reason)
