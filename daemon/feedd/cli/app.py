"""The `feedd` command: a thin layer over the library that draws progress and summaries."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Optional, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from feedd import __version__
from feedd.config.opml import add_to_config, read_opml, to_opml
from feedd.config.settings import Config, load_config
from feedd.dedup.verify import Evidence
from feedd.errors import ConfigError, DocumentWriteError, OpmlError, StateError
from feedd.pipeline.session import EntryStatus, FeedReport, PassSummary, run_once
from feedd.service.daemon import run_daemon
from feedd.state.history import explain, feed_statuses, recent_drops

EXIT_OK, EXIT_ALL_FEEDS_FAILED, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")
SYSTEM_CONFIG = Path("/etc/feedd/feedd.toml")
LOCAL_CONFIG = Path("config/feedd.toml")

app = typer.Typer(
    help="feedd keeps a clean, deduplicated plain-text corpus of the news from RSS/Atom feeds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

ConfigOption = Annotated[
    Optional[Path],  # noqa: UP045 - typer reads the annotation at run time
    typer.Option(
        "--config",
        "-c",
        help="Config file. Default: $FEEDD_CONFIG, else /etc/feedd/feedd.toml, else ./config/feedd.toml.",
        show_default=False,
    ),
]


def default_config_path() -> Path:
    """$FEEDD_CONFIG, else the system config if it exists, else the repository's example."""
    if env := os.environ.get("FEEDD_CONFIG"):
        return Path(env)
    return SYSTEM_CONFIG if SYSTEM_CONFIG.exists() else LOCAL_CONFIG


def _load(path: Path | None) -> Config:
    try:
        return load_config(path or default_config_path())
    except ConfigError as exc:
        err.print(
            f"[bold red]config error[/]: {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True
        )
        raise typer.Exit(EXIT_USAGE) from None


def _version(value: bool) -> None:
    if value:
        out.print(f"feedd {__version__}")
        raise typer.Exit()


class LogFormat(StrEnum):
    HUMAN = "human"
    JSON = "json"


class _JsonFormatter(logging.Formatter):
    """One JSON object per line, for journald and log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


@app.callback()
def main_options(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug).")
    ] = 0,
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="Log lines as human text or JSON.")
    ] = LogFormat.HUMAN,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    if log_format is LogFormat.JSON:
        handler: logging.Handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_JsonFormatter())
    else:
        handler = RichHandler(console=err, show_path=False, markup=False, rich_tracebacks=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler])


@app.command("check-config")
def check_config(config: ConfigOption = None) -> None:
    """Validate a config file and say what it holds."""
    loaded = _load(config)
    out.print(
        f"{loaded.path}: OK, {len(loaded.feeds)} feed(s); documents in {loaded.output_dir}, "
        f"state in {loaded.database}",
        highlight=False,
        markup=False,
    )


@app.command("run-once")
def run_once_command(config: ConfigOption = None) -> None:
    """Poll every feed once, save new articles, print a summary."""
    loaded = _load(config)
    try:
        with _ProgressView(len(loaded.feeds)) as view:
            summary = run_once(loaded, view)
    except DocumentWriteError as exc:
        err.print(
            f"[bold red]error[/]: {escape(str(exc))}; the document is kept and saved by the next pass",
            highlight=False,
        )
        raise typer.Exit(EXIT_ALL_FEEDS_FAILED) from None
    except StateError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    _print_summary(summary)
    raise typer.Exit(EXIT_ALL_FEEDS_FAILED if summary.every_feed_failed else EXIT_OK)


@app.command("run")
def run_command(config: ConfigOption = None) -> None:
    """Keep polling every feed on its own schedule until SIGTERM; SIGHUP reloads the config."""
    loaded = _load(config)
    # The daemon's log is its record: say what happens at INFO unless told otherwise.
    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    try:
        run_daemon(loaded.path, loaded)
    except StateError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(
            EXIT_USAGE if not isinstance(exc, DocumentWriteError) else EXIT_ALL_FEEDS_FAILED
        ) from None


@app.command("status")
def status_command(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per feed.")] = False,
) -> None:
    """Per feed: the last poll and its result, the next poll and why, entries saved and dropped."""
    loaded = _load(config)
    statuses = _read_state(feed_statuses, loaded)
    if as_json:
        for status in statuses:
            out.print_json(json.dumps(asdict(status), ensure_ascii=False), indent=None)
        return
    table = Table("feed", "last poll", "result", "next poll", "interval", "why", "saved", "dropped", "errors")
    for status in statuses:
        table.add_row(
            Text(status.name or status.url),
            status.last_polled or "-",
            Text(
                f"{status.last_result}: {status.last_error}"
                if status.last_error
                else status.last_result or "-"
            ),
            status.next_poll or "-",
            f"{status.interval:.0f}s" if status.interval else "-",
            Text(status.interval_reason or "-"),
            str(status.saved),
            str(status.dropped),
            f"[bold red]{status.consecutive_errors}[/]" if status.consecutive_errors else "0",
        )
    out.print(table)
    if loaded.dedup.shared:
        from feedd.dedup.shared import check_reachable, redacted  # only where one is configured

        problem = check_reachable(loaded.dedup.shared)
        where = escape(redacted(loaded.dedup.shared))
        if problem:
            out.print(
                f"shared dedup index {where}: [bold red]unavailable[/]: {escape(problem)}; documents wait"
            )
        else:
            out.print(f"shared dedup index {where}: OK", highlight=False)


@app.command("import-opml")
def import_opml_command(
    opml_file: Annotated[Path, typer.Argument(help="An OPML file exported by a feed reader.")],
    config: ConfigOption = None,
) -> None:
    """Add the feeds of an OPML file to the config (those it does not list yet)."""
    loaded = _load(config)
    try:
        added = add_to_config(loaded.path, read_opml(opml_file))
    except OpmlError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    for feed in added:
        out.print(
            f"added {feed.url}" + (f" ({feed.title})" if feed.title else ""), highlight=False, markup=False
        )
    out.print(f"{len(added)} feed(s) added to {loaded.path}", highlight=False, markup=False)


@app.command("export-opml")
def export_opml_command(
    config: ConfigOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here, not to stdout.")] = None,
) -> None:
    """Write the config's feeds as OPML, for other feed readers."""
    document = to_opml(_load(config))
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")


@app.command("dups")
def dups_command(
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many drops to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the most recent duplicates dropped, newest first."""
    loaded = _load(config)
    drops = _read_state(recent_drops, loaded, limit)
    if as_json:
        for drop in drops:
            out.print_json(json.dumps(asdict(drop), ensure_ascii=False), indent=None)
        return
    if not drops:
        out.print("no duplicates dropped yet")
        return
    table = Table("when", "dropped", "duplicate of", "Jaccard", "containment", "copied share", "reason")
    for drop in drops:
        table.add_row(
            drop.detected,
            Text(f"{drop.title or ''}\n{drop.link or drop.canonical_url or ''}"),
            Text(drop.kept_file or drop.duplicate_of),
            _ratio(drop.jaccard),
            _ratio(drop.containment),
            _ratio(drop.evidence.copied_share if drop.evidence else None),
            Text(drop.reason),
        )
    out.print(table)


@app.command("explain")
def explain_command(
    ident: Annotated[
        str, typer.Argument(help="A document id (16 hex digits), a canonical URL or an entry link.")
    ],
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say why a document was kept or dropped."""
    loaded = _load(config)
    explanation = _read_state(explain, loaded, ident)
    if as_json:
        out.print_json(json.dumps(asdict(explanation), ensure_ascii=False))
        return
    if explanation.kept is None and not explanation.drops:
        out.print(f"feedd has no document or entry {ident!r}", highlight=False, markup=False)
        raise typer.Exit(EXIT_ALL_FEEDS_FAILED)
    dedup = loaded.dedup
    if dedup.verification == "shared-runs":
        rule = f"Jaccard >= {dedup.jaccard} or copied share >= {dedup.copied_share:.0%}"
    else:
        rule = f"Jaccard >= {dedup.jaccard} or containment >= {dedup.containment}"
    if kept := explanation.kept:
        lines = [
            f"kept: {kept.file} (seq {kept.seq}, id {kept.doc_id}), saved {kept.saved_at} from {kept.feed}.",
            f"  No document saved before it had the same canonical URL or body, nor (within the "
            f"{dedup.window / 86400:g}-day window) {rule}.",
        ]
        if nearest := kept.nearest:
            lines.append(
                f"  Nearest saved document: {nearest.file or nearest.doc_id}, an independent write-up: "
                f"Jaccard {_ratio(nearest.jaccard)}, containment {_ratio(nearest.containment)}"
            )
            if nearest.evidence:
                lines += _evidence_lines(nearest.evidence, "this document", "the nearest document")
        out.print("\n".join(lines), highlight=False, markup=False)
    for drop in explanation.drops:
        kept_as = drop.kept_file or drop.duplicate_of
        lines = [
            f"dropped: {drop.title or drop.link} ({drop.link}), {drop.detected}, from {drop.feed}:",
            f"  {drop.reason} of {kept_as}; "
            f"Jaccard {_ratio(drop.jaccard)}, containment {_ratio(drop.containment)}",
        ]
        if drop.evidence:
            lines += _evidence_lines(drop.evidence, "the dropped entry", "the kept document")
        out.print("\n".join(lines), highlight=False, markup=False)


def _evidence_lines(evidence: Evidence, new: str, saved: str) -> list[str]:
    """The verification's evidence: the copied share, then the longest shared runs."""
    shorter, other = (new, saved) if evidence.shorter == "new" else (saved, new)
    lines = [f"  {evidence.summary(new, saved)}."]
    if evidence.runs:
        lines.append(f"  Longest shared runs (at word offset in the {shorter} / in the {other}):")
    for run in evidence.runs:
        quoted = f", {run.quoted} quoted" if run.quoted else ""
        lines.append(f'    {run.length} words{quoted} at {run.start} / {run.other_start}: "{run.excerpt}"')
    if evidence.run_count > len(evidence.runs):
        lines.append(f"    ... and {evidence.run_count - len(evidence.runs)} shorter run(s)")
    return lines


def _read_state(query: Callable[..., T], *args: object) -> T:
    """Run a read-only query of the state; a missing or unreadable state exits 2."""
    try:
        return query(*args)
    except StateError as exc:
        err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class _ProgressView:
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

    def __enter__(self) -> _ProgressView:
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


def _print_summary(summary: PassSummary) -> None:
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
    problems = [r for r in summary.feeds if r.error or r.failures or r.warnings]
    if not problems:
        return
    table = Table("feed", "problem", title="problems", title_justify="left", show_lines=False)
    for report in problems:
        if report.error:
            table.add_row(Text(report.feed.label), Text(f"feed failed: {report.error}"))
        for warning in report.warnings:
            table.add_row(Text(report.feed.label), Text(f"warning: {warning}"))
        for where, reason in report.failures:
            table.add_row(Text(report.feed.label), Text(f"{where}: {reason}"))
    out.print(table)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
