"""What each page shows, as small frozen records: the HTML templates and the /api/ endpoints
read the same ones. The numbers and the shared runs come from the library behind `feedd status`,
`dups` and `explain` (feedd.state), so that the page and the command never disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from feedd.config import Config
from feedd.state import (
    Drop,
    Explanation,
    FeedStatus,
    HostQueue,
    RelatedStory,
    explain,
    feed_statuses,
    host_queues,
    recent_drops,
)
from feedd.web.chart import Chart, hourly_chart
from feedd.web.disk import DiskFigure
from feedd.web.queries import PAGE_SIZE, HourCounts, hourly_counts, saved_count

Health = Literal["ok", "failing", "never polled", "disabled"]
#: How two documents side by side relate: a drop and the document it copies, or a kept
#: document and one it extends, one that extends it, or its nearest independent write-up.
Relation = Literal["duplicate", "extends", "extended_by", "nearest"]

#: What the feeds page filters on (`?state=`).
FEED_STATES = ("ok", "failing", "backing-off", "never-polled", "disabled")


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One feed: what `feedd status` says of it, its tags, and its health in a word."""

    status: FeedStatus
    tags: tuple[str, ...]
    enabled: bool
    health: Health
    #: Its polls are spaced out because they keep failing (the plan's reason says so).
    backing_off: bool


#: The feeds table's columns that sort (`?sort=`), and the value each sorts by.
FEED_SORTS: dict[str, Callable[[FeedRow], object]] = {
    "feed": lambda row: (row.status.name or row.status.url).casefold(),
    "health": lambda row: (row.health, -row.status.consecutive_errors),
    "last_polled": lambda row: row.status.last_polled,
    "next_poll": lambda row: row.status.next_poll,
    "interval": lambda row: row.status.interval,
    "saved": lambda row: row.status.saved,
    "dropped": lambda row: row.status.dropped,
    "failed": lambda row: row.status.failed,
    "errors": lambda row: row.status.consecutive_errors,
}


@dataclass(frozen=True, slots=True)
class FeedsPage:
    feeds: tuple[FeedRow, ...]
    #: The running feedd's per-host queues, as of its last snapshot (empty when idle).
    hosts: tuple[HostQueue, ...]
    #: Every tag of the configured feeds, for the filter.
    tags: tuple[str, ...]
    total: int
    page: int
    has_next: bool


@dataclass(frozen=True, slots=True)
class DropsPage:
    drops: tuple[Drop, ...]
    page: int
    has_next: bool


@dataclass(frozen=True, slots=True)
class Overview:
    hours: tuple[HourCounts, ...]
    chart: Chart
    days: int
    saved: int
    dropped: int
    failed: int
    documents: int
    feeds: int
    feeds_in_error: tuple[FeedRow, ...]
    #: Disk used by the output folder and the state (None until first measured).
    disk: DiskFigure | None


def feeds_page(
    config: Config,
    *,
    tag: str = "",
    state: str = "",
    sort: str = "feed",
    descending: bool = False,
    page: int = 1,
    page_size: int = 100,
) -> FeedsPage:
    """The configured feeds, filtered by tag and state and sorted by a column."""
    tags_of = {feed.url: tuple(feed.tags) for feed in config.feeds}
    enabled = {feed.url: feed.enabled for feed in config.feeds}
    rows = [_feed_row(status, tags_of[status.url], enabled[status.url]) for status in feed_statuses(config)]
    every_tag = sorted({tag for tags in tags_of.values() for tag in tags})
    if tag:
        rows = [row for row in rows if tag in row.tags]
    if state:
        rows = [row for row in rows if _in_state(row, state)]
    key = FEED_SORTS.get(sort, FEED_SORTS["feed"])
    # Unknown values (never polled) sort last whichever the direction.
    known = [row for row in rows if key(row) is not None]
    unknown = [row for row in rows if key(row) is None]
    known.sort(key=key, reverse=descending)  # type: ignore[arg-type]
    rows = known + unknown
    start = (page - 1) * page_size
    return FeedsPage(
        feeds=tuple(rows[start : start + page_size]),
        hosts=tuple(host_queues(config)),
        tags=tuple(every_tag),
        total=len(rows),
        page=page,
        has_next=start + page_size < len(rows),
    )


def drops_page(config: Config, page: int = 1) -> DropsPage:
    """The duplicates dropped, newest first, as `feedd dups` lists them."""
    found = recent_drops(config, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    return DropsPage(tuple(found[:PAGE_SIZE]), page, len(found) > PAGE_SIZE)


def overview(config: Config, days: int, disk: DiskFigure | None, now: datetime | None = None) -> Overview:
    hours = hourly_counts(config, days * 24, now or datetime.now(UTC))
    enabled = {feed.url: feed.enabled for feed in config.feeds}
    tags_of = {feed.url: tuple(feed.tags) for feed in config.feeds}
    statuses = feed_statuses(config)
    in_error = tuple(
        _feed_row(status, tags_of[status.url], enabled[status.url])
        for status in statuses
        if status.consecutive_errors > 0
    )
    return Overview(
        hours=tuple(hours),
        chart=hourly_chart(hours),
        days=days,
        saved=sum(hour.saved for hour in hours),
        dropped=sum(hour.dropped for hour in hours),
        failed=sum(hour.failed for hour in hours),
        documents=saved_count(config),
        feeds=len(statuses),
        feeds_in_error=in_error,
        disk=disk,
    )


def explanation(config: Config, doc_id: str) -> Explanation:
    """`feedd explain`'s account of a saved document: why kept, what it extends, its nearest
    independent write-up, and the copies of it dropped."""
    return explain(config, doc_id)


def related_by_id(found: Explanation, other: str) -> tuple[Relation, RelatedStory] | None:
    """The saved document `other` as the kept one's explanation relates to it, with how:
    "extends" (the kept one holds most of it), "extended_by", or "nearest"."""
    kept = found.kept
    if kept is None:
        return None
    for story in kept.extends:
        if story.doc_id == other:
            return "extends", story
    for story in kept.extended_by:
        if story.doc_id == other:
            return "extended_by", story
    if kept.nearest is not None and kept.nearest.doc_id == other:
        return "nearest", kept.nearest
    return None


def _feed_row(status: FeedStatus, tags: tuple[str, ...], enabled: bool) -> FeedRow:
    health: Health
    if not enabled:
        health = "disabled"
    elif status.consecutive_errors > 0:
        health = "failing"
    elif status.last_polled is None:
        health = "never polled"
    else:
        health = "ok"
    reason = status.interval_reason or ""
    backing_off = status.consecutive_errors > 0 and reason.startswith(("backing off", "failing"))
    return FeedRow(status, tags, enabled, health, backing_off)


def _in_state(row: FeedRow, state: str) -> bool:
    if state == "backing-off":
        return row.backing_off
    return row.health == state.replace("-", " ")
