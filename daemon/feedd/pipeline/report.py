"""What a pass tells its caller: a report per feed, the pass's summary, and progress hooks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from feedd.config import FeedConfig

FeedResult = Literal["ok", "not_modified", "failed"]
EntryStatus = Literal["saved", "duplicate", "failed", "waiting"]


@dataclass
class FeedReport:
    """What one pass did with one feed."""

    feed: FeedConfig
    result: FeedResult = "ok"
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    new: int = 0
    #: New entries skipped by the feed's include/exclude filters.
    filtered: int = 0
    saved: int = 0
    duplicate: int = 0
    failed: int = 0
    #: Rendered documents that wait for the shared dedup index (Redis down).
    waiting: int = 0
    #: (entry link or key, reason) for each entry that failed.
    failures: list[tuple[str, str]] = field(default_factory=list)
    #: Documents saved from the entry's own text instead of its page, by the reason why.
    from_feed_text: Counter[str] = field(default_factory=Counter)
    #: What the server and the feed said about polling again: {source: seconds}.
    advice: dict[str, float] = field(default_factory=dict)
    #: How long fetching the feed document took (None when it did not complete).
    fetch_seconds: float | None = None


@dataclass
class PassSummary:
    """The outcome of one pass, feed by feed."""

    feeds: list[FeedReport]
    started: datetime
    finished: datetime
    #: Documents that had waited for the shared dedup index, decided at the start of the pass.
    waited_saved: int = 0
    waited_dropped: int = 0

    def _count(self, result: FeedResult) -> int:
        return sum(1 for report in self.feeds if report.result == result)

    @property
    def feeds_polled(self) -> int:
        return len(self.feeds)

    @property
    def feeds_not_modified(self) -> int:
        return self._count("not_modified")

    @property
    def feeds_failed(self) -> int:
        return self._count("failed")

    @property
    def entries_new(self) -> int:
        return sum(r.new for r in self.feeds)

    @property
    def waiting(self) -> int:
        return sum(r.waiting for r in self.feeds)

    @property
    def filtered(self) -> int:
        return sum(r.filtered for r in self.feeds)

    @property
    def saved(self) -> int:
        return sum(r.saved for r in self.feeds)

    @property
    def duplicate(self) -> int:
        return sum(r.duplicate for r in self.feeds)

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.feeds)

    @property
    def from_feed_text(self) -> Counter[str]:
        """Documents saved from the entries' own text, by the reason the page was not used."""
        return sum((report.from_feed_text for report in self.feeds), Counter())

    @property
    def every_feed_failed(self) -> bool:
        return bool(self.feeds) and self.feeds_failed == len(self.feeds)


class PassObserver(Protocol):
    """Hooks for showing progress; the CLI draws them, the library needs none."""

    def feed_finished(self, report: FeedReport, queued_entries: int) -> None: ...

    def entry_finished(self, report: FeedReport, status: EntryStatus) -> None: ...


class QuietObserver:
    def feed_finished(self, report: FeedReport, queued_entries: int) -> None:
        pass

    def entry_finished(self, report: FeedReport, status: EntryStatus) -> None:
        pass
