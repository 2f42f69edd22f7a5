"""What the `feedd` command draws: the pass's progress and summary, tables, explanations."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # only drawn here: importing them would load the whole library for `--help`
    from feedd.config import DedupConfig
    from feedd.dedup import Evidence
    from feedd.pipeline import EntryStatus, FeedReport, PassSummary
    from feedd.state import Drop, Explanation, Extended, FeedStatus, HostQueue, RelatedStory

#: Control characters (C0 but tab and newline, DEL, C1): what feeds and pages send must never
#: reach a terminal as escape sequences (a title holding ESC[2J clears the screen).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with its control characters written out as \\xNN escapes."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def shown(text: str) -> Text:
    """Feed- or page-controlled text as a table cell: printable, never read as markup."""
    return Text(printable(text))


#: A hosts snapshot older than this was not left by a running feedd (it writes one every 2 s).
_STALE_HOSTS_SECONDS = 30.0

err = Console(stderr=True)
# In a pipe nothing is wrapped: a line of output is a line of data.
out = Console(soft_wrap=not sys.stdout.isatty())


class ProgressView:
    """Draws the pass on a terminal; stays silent when stderr is not one."""

    def __init__(self, feeds: int) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        )
        self._feeds = self._progress.add_task("feeds polled", total=feeds)
        self._entries = self._progress.add_task("entries done", total=0)

    def __enter__(self) -> ProgressView:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def feed_finished(self, report: FeedReport, queued_entries: int) -> None:
        self._progress.advance(self._feeds)
        total = self._progress.tasks[self._entries].total or 0
        self._progress.update(self._entries, total=total + queued_entries)

    def entry_finished(self, report: FeedReport, status: EntryStatus) -> None:
        self._progress.advance(self._entries)


def print_summary(summary: PassSummary) -> None:
    seconds = (summary.finished - summary.started).total_seconds()
    out.print(
        f"feeds: {summary.feeds_polled} polled, {summary.feeds_not_modified} not modified, "
        f"{summary.feeds_failed} failed; entries: {summary.entries_new} new, {summary.saved} saved, "
        f"{summary.duplicate} duplicate, {summary.failed} failed"
        + (f", {summary.filtered} filtered out" if summary.filtered else "")
        + (f", {summary.waiting} waiting for the shared dedup index" if summary.waiting else "")
        + (
            f"; {summary.waited_saved} saved and {summary.waited_dropped} dropped after waiting"
            if summary.waited_saved or summary.waited_dropped
            else ""
        )
        + f" ({seconds:.1f}s)",
        highlight=False,
    )
    if from_feed_text := summary.from_feed_text:
        reasons = "; ".join(f"{count}: {reason}" for reason, count in from_feed_text.most_common())
        out.print(
            printable(f"{from_feed_text.total()} saved from the feed's own text, not the page ({reasons})"),
            highlight=False,
            markup=False,
        )
    problems = [r for r in summary.feeds if r.error or r.failures or r.warnings]
    rows = []
    for report in problems:
        if report.error:
            rows.append((report.feed.label, f"feed failed: {report.error}"))
        rows += [(report.feed.label, f"warning: {warning}") for warning in report.warnings]
        rows += [(report.feed.label, f"{where}: {reason}") for where, reason in report.failures]
    if rows:
        show(Listing(("feed", "problem"), rows, title="problems"))


def summary_record(summary: PassSummary) -> dict[str, object]:
    """The pass as `run-once --json` prints it (shape documented in docs/cli.md)."""
    return {
        "started": summary.started.isoformat(),
        "finished": summary.finished.isoformat(),
        "feeds_polled": summary.feeds_polled,
        "feeds_not_modified": summary.feeds_not_modified,
        "feeds_failed": summary.feeds_failed,
        "entries_new": summary.entries_new,
        "saved": summary.saved,
        "duplicate": summary.duplicate,
        "failed": summary.failed,
        "filtered": summary.filtered,
        "waiting": summary.waiting,
        "from_feed_text": dict(summary.from_feed_text),
        "feeds": [
            {
                "url": report.feed.url,
                "name": report.feed.name,
                "result": report.result,
                "error": report.error,
                "new": report.new,
                "saved": report.saved,
                "duplicate": report.duplicate,
                "failed": report.failed,
                "filtered": report.filtered,
                "from_feed_text": dict(report.from_feed_text),
                "warnings": report.warnings,
                "failures": [{"entry": entry, "reason": reason} for entry, reason in report.failures],
            }
            for report in summary.feeds
        ],
    }


@dataclass(frozen=True, slots=True)
class Listing:
    """Rows for a person or a program: a table on a terminal, and in a pipe one line per row,
    tab-separated, never wrapped or cut (`show`)."""

    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    title: str | None = None


def show(listing: Listing) -> None:
    if out.is_terminal:
        table = Table(*listing.columns, title=listing.title, title_justify="left")
        for row in listing.rows:
            table.add_row(*(shown(cell) for cell in row))
        out.print(table)
        return
    lines = [f"# {listing.title}"] if listing.title else []
    lines += ["\t".join(listing.columns)]
    lines += ["\t".join(_one_field(cell) for cell in row) for row in listing.rows]
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


def _one_field(cell: str) -> str:
    return printable(" ".join(cell.replace("\t", " ").splitlines()))


def status_listing(statuses: Sequence[FeedStatus]) -> Listing:
    columns = ("feed", "last poll", "result", "next poll", "interval", "why", "saved", "dropped", "errors")
    rows = [
        (
            status.name or status.url,
            status.last_polled.isoformat() if status.last_polled else "-",
            f"{status.last_result}: {status.last_error}" if status.last_error else status.last_result or "-",
            status.next_poll.isoformat() if status.next_poll else "-",
            duration(status.interval) if status.interval else "-",
            status.interval_reason or "-",
            str(status.saved),
            str(status.dropped),
            str(status.consecutive_errors),
        )
        for status in statuses
    ]
    return Listing(columns, rows)


def hosts_listing(queues: Sequence[HostQueue]) -> Listing:
    """Where the running feedd's requests wait: per host, work queued and the next turn."""
    as_of = max(queue.as_of for queue in queues)
    age = (datetime.now(UTC) - as_of).total_seconds()
    # A running feedd replaces the snapshot every few seconds; an old one is what a feedd that
    # was killed left behind.
    stale = f" ({age:.0f}s old: is feedd still running?)" if age > _STALE_HOSTS_SECONDS else ""
    rows = []
    for queue in queues:
        wait = (queue.next_allowed - queue.as_of).total_seconds()
        rows.append(
            (
                queue.host,
                str(queue.queued),
                str(queue.in_flight),
                f"in {wait:.0f}s" if wait >= 1 else "now",
                f"{queue.gap:g}s",
                str(queue.started),
                f"{queue.waited:.0f}s",
            )
        )
    columns = ("host", "queued", "in flight", "next allowed", "gap", "started", "waited")
    return Listing(columns, rows, title=f"hosts, as of {as_of.isoformat()}{stale}")


def drops_listing(drops: Sequence[Drop]) -> Listing:
    columns = ("when", "dropped", "link", "duplicate of", "Jaccard", "containment", "copied share", "reason")
    rows = [
        (
            drop.detected.isoformat(),
            drop.title or "",
            drop.link or drop.canonical_url or "",
            drop.kept_file or drop.duplicate_of,
            ratio(drop.jaccard),
            ratio(drop.containment),
            ratio(drop.evidence.copied_share if drop.evidence else None),
            drop.reason,
        )
        for drop in drops
    ]
    return Listing(columns, rows)


def extensions_listing(extensions: Sequence[Extended]) -> Listing:
    rows = []
    for extended in extensions:
        evidence = extended.extends.evidence
        rows.append(
            (
                extended.saved_at.isoformat(),
                extended.file or extended.doc_id,
                extended.extends.file or extended.extends.doc_id,
                ratio(evidence.saved_share if evidence else extended.extends.containment),
                str(evidence.coverage.own_words) if evidence and evidence.coverage else "-",
            )
        )
    return Listing(("when", "kept", "extends", "holds of it", "words of its own"), rows)


def duration(seconds: float) -> str:
    """973 -> "16m13s", 7200 -> "2h"."""
    whole = round(seconds)
    parts = [
        (whole // 86400, "d"),
        (whole % 86400 // 3600, "h"),
        (whole % 3600 // 60, "m"),
        (whole % 60, "s"),
    ]
    return "".join(f"{value}{unit}" for value, unit in parts if value) or "0s"


def explanation_paragraphs(explanation: Explanation, dedup: DedupConfig) -> list[str]:
    """Why the document was kept, then why each copy of it was dropped: one paragraph each."""
    if dedup.verification == "shared-runs":
        rule = f"a copied share >= {dedup.copied_share:.0%}"
    else:
        rule = f"containment >= {dedup.containment}"
    rule = (
        f"{rule} of its text (or Jaccard >= {dedup.jaccard}) with fewer than "
        f"{dedup.min_new_words} words of its own"
    )
    paragraphs = []
    if kept := explanation.kept:
        lines = [
            f"kept: {kept.file} (seq {kept.seq}, id {kept.doc_id}), "
            f"saved {kept.saved_at.isoformat()} from {kept.feed_name or kept.feed}.",
            f"  No document saved before it had the same canonical URL or body, nor (within the "
            f"{dedup.window / 86400:g}-day window) did saved documents hold {rule}.",
        ]
        for extended in kept.extends:
            lines.append(
                f"  It extends {extended.file or extended.doc_id}: {_extension(extended, 'that one')}."
            )
            if extended.evidence:
                lines += _evidence_lines(extended.evidence, "this document", "the extended one")
        for extending in kept.extended_by:
            lines.append(
                f"  Extended by {extending.file or extending.doc_id}, saved later: "
                f"{_extension(extending, 'this one')}."
            )
        if nearest := kept.nearest:
            lines.append(
                f"  Nearest saved document: {nearest.file or nearest.doc_id}, an independent write-up: "
                f"Jaccard {ratio(nearest.jaccard)}, containment {ratio(nearest.containment)}"
            )
            if nearest.evidence:
                lines += _evidence_lines(nearest.evidence, "this document", "the nearest document")
        paragraphs.append("\n".join(lines))
    for drop in explanation.drops:
        kept_as = drop.kept_file or drop.duplicate_of
        lines = [
            f"dropped: {drop.title or drop.link} ({drop.link}), "
            f"{drop.detected.isoformat()}, from {drop.feed_name or drop.feed}:",
            f"  {drop.reason} of {kept_as}; "
            f"Jaccard {ratio(drop.jaccard)}, containment {ratio(drop.containment)}",
        ]
        if drop.evidence and (coverage := drop.evidence.coverage):
            lines.append(
                f"  Saved documents hold {coverage.share:.0%} of its text "
                f"({len(coverage.documents)} of them: {', '.join(coverage.documents)}); "
                f"it has {coverage.own_words} words of its own, fewer than {dedup.min_new_words}."
            )
        if drop.evidence:
            lines += _evidence_lines(drop.evidence, "the dropped entry", "the kept document")
        paragraphs.append("\n".join(lines))
    return [printable(paragraph) for paragraph in paragraphs]


def _extension(related: RelatedStory, extended: str) -> str:
    """What the later of two documents holds of the earlier and adds to it."""
    evidence = related.evidence
    if evidence is None or evidence.saved_share is None:
        return f"the later holds containment {ratio(related.containment)} of {extended}"
    own = f" and adds {evidence.coverage.own_words} words of its own" if evidence.coverage else ""
    return f"the later holds {evidence.saved_share:.0%} of {extended}'s text{own}"


def _evidence_lines(evidence: Evidence, new: str, saved: str) -> list[str]:
    """The verification's evidence: the copied share, then the longest shared runs."""
    measured, other = (new, saved) if evidence.measured == "new" else (saved, new)
    lines = [f"  {evidence.summary(new, saved)}."]
    if evidence.runs:
        lines.append(f"  Longest shared runs (word offsets in {measured} / in {other}):")
    for run in evidence.runs:
        quoted = f", {run.quoted} quoted" if run.quoted else ""
        lines.append(f'    {run.length} words{quoted} at {run.start} / {run.other_start}: "{run.excerpt}"')
    if evidence.run_count > len(evidence.runs):
        lines.append(f"    ... and {evidence.run_count - len(evidence.runs)} shorter run(s)")
    return lines


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
