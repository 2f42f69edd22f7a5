"""The `feedd` command: a thin layer over the library; views.py draws, exits.py ends badly."""

from __future__ import annotations

import gc
import json
import logging
import re
import sys
from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

import feedd
from feedd.cli import feed_commands, web_command
from feedd.cli.exits import CommandGroup, ExitCode
from feedd.cli.logs import configure as configure_logging
from feedd.cli.options import ConfigOption, load
from feedd.cli.views import (
    ProgressView,
    drops_listing,
    err,
    explanation_paragraphs,
    extensions_listing,
    hosts_listing,
    out,
    print_summary,
    printable,
    show,
    status_listing,
    summary_record,
)
from feedd.errors import ConfigError, NotFoundError

# The library behind each command is imported inside it: `feedd --help` and `--version` must not
# pay for the pipeline, the state, the HTTP client and numpy.

app = typer.Typer(
    cls=CommandGroup,
    help="feedd keeps a clean, deduplicated plain-text corpus of the news from RSS/Atom feeds.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # Docstrings wrap at 100 columns in the source: markdown mode joins their lines.
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        out.print(f"feedd {feedd.__version__}")
        raise typer.Exit()


class LogFormat(StrEnum):
    HUMAN = "human"
    JSON = "json"


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
    configure_logging(verbose, log_format is LogFormat.JSON, err)
    # A pass or a busy daemon allocates millions of short-lived objects beside tens of thousands
    # of long-lived ones (scheduled jobs, feeds, the index): with CPython's default thresholds the
    # collector ran 6,000 young and 35 full collections a minute and took a fifth of the daemon's
    # CPU at 10,000 feeds (polls/s 634 -> 759 with these, peak RSS unchanged).
    gc.set_threshold(20_000, 20, 20)


@app.command("init")
def init_command(
    path: Annotated[
        Optional[Path],  # noqa: UP045 - typer reads the annotation at run time
        typer.Argument(
            help="Where to write it. Default: /etc/feedd/feedd.toml as root, else ~/.config/feedd/."
        ),
    ] = None,
) -> None:
    """Write a commented starter config (the shipped example) and say what to run next."""
    from feedd.config import starter_path, write_starter

    written = write_starter(path or starter_path())
    out.print(
        f"wrote {written}: edit its [[feeds]], then run  feedd check-config -c {written}  and  "
        f"feedd run-once -c {written}",
        highlight=False,
        markup=False,
    )


@app.command("check-config")
def check_config(
    config: ConfigOption = None,
    dump: Annotated[
        bool, typer.Option("--dump", help="Print the effective config, defaults included.")
    ] = False,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the config's JSON Schema (for editors) and exit.")
    ] = False,
) -> None:
    """Validate a config file, check that its folders can be written, and say what it holds."""
    from feedd.config import config_schema, effective_toml, path_problems

    if schema:
        sys.stdout.write(config_schema() + "\n")
        return
    loaded = load(config)
    if problems := path_problems(loaded):
        raise ConfigError("\n".join(problems))
    if dump:
        sys.stdout.write(effective_toml(loaded))
        return
    out.print(
        f"{loaded.path}: OK, {len(loaded.feeds)} feed(s); documents in {loaded.output_dir}, "
        f"state in {loaded.database}",
        highlight=False,
        markup=False,
    )


@app.command("run-once")
def run_once_command(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
) -> None:
    """Poll every feed once, save new articles, print a summary."""
    loaded = load(config)
    from feedd.pipeline import run_once

    with ProgressView(len(loaded.feeds)) as view:
        summary = run_once(loaded, view)
    if as_json:
        sys.stdout.write(json.dumps(summary_record(summary), ensure_ascii=False) + "\n")
    else:
        print_summary(summary)
    raise typer.Exit(ExitCode.FAILED if summary.every_feed_failed else ExitCode.OK)


@app.command("run")
def run_command(config: ConfigOption = None) -> None:
    """Keep polling every feed on its own schedule until SIGTERM; SIGHUP reloads the config."""
    loaded = load(config)
    # The daemon's log is its record: feedd's INFO lines (polls, saves) unless told otherwise.
    feedd_logger = logging.getLogger("feedd")
    if feedd_logger.level > logging.INFO:
        feedd_logger.setLevel(logging.INFO)
    from feedd.service import run_daemon

    run_daemon(loaded.path, loaded)


@app.command("status")
def status_command(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per feed (or host).")] = False,
    hosts: Annotated[
        bool,
        typer.Option(
            "--hosts", help="Only the running feedd's queues per host, and when each is next asked."
        ),
    ] = False,
) -> None:
    """Per feed: the last poll and its result, the next poll and why, entries saved and dropped;
    per host, while feedd runs: requests queued and when the host may next be asked."""
    loaded = load(config)
    from feedd.state import feed_statuses, host_queues

    queues = host_queues(loaded)
    if hosts:
        for queue in queues if as_json else ():
            out.print_json(json.dumps(asdict(queue), default=datetime.isoformat), indent=None)
        if not as_json:
            show(hosts_listing(queues)) if queues else out.print(
                "no requests waiting: feedd is idle or not running"
            )
        return
    statuses = feed_statuses(loaded)
    if as_json:
        for status in statuses:
            out.print_json(
                json.dumps(asdict(status), ensure_ascii=False, default=datetime.isoformat), indent=None
            )
        return
    show(status_listing(statuses))
    if queues:
        show(hosts_listing(queues))
    if loaded.dedup.shared:
        from feedd.config import redacted_url
        from feedd.dedup import shared_index_problem

        problem = shared_index_problem(loaded.dedup.shared)
        where = escape(redacted_url(loaded.dedup.shared))
        if problem:
            out.print(
                f"shared dedup index {where}: [bold red]unavailable[/]: {escape(problem)}; documents wait"
            )
        else:
            out.print(f"shared dedup index {where}: OK", highlight=False)


@app.command("health")
def health_command(
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as one JSON object.")] = False,
) -> None:
    """Exit 0 when feedd is healthy, 1 when not (the state cannot be written, the shared index does
    not answer, no successful poll for longer than max_interval, every feed failing), for container
    and timer checks."""
    from feedd.service import check_health

    found = check_health(load(config))
    if as_json:
        sys.stdout.write(json.dumps(found.as_dict()) + "\n")
    elif found.healthy:
        out.print(f"healthy: {found.feeds} feed(s), {found.feeds_in_error} in error", highlight=False)
    else:
        for problem in found.problems:
            out.print(printable(f"unhealthy: {problem}"), highlight=False, markup=False)
    raise typer.Exit(ExitCode.OK if found.healthy else ExitCode.FAILED)


app.command("add")(feed_commands.add_command)
app.command("remove")(feed_commands.remove_command)
app.command("import-opml")(feed_commands.import_opml_command)
app.command("export-opml")(feed_commands.export_opml_command)
app.command("web")(web_command.web_command)


@app.command("dups")
def dups_command(
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many drops to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    extends: Annotated[
        bool,
        typer.Option(
            "--extends",
            help="Instead, the kept documents that hold most of a saved one and add text of their own.",
        ),
    ] = False,
) -> None:
    """List the most recent duplicates dropped, newest first (or, with --extends, the documents
    kept that extend saved ones: skip the saved ones to keep only the fullest version)."""
    loaded = load(config)
    from feedd.state import recent_drops, recent_extensions

    if extends:
        extensions = recent_extensions(loaded, limit)
        for extended in extensions if as_json else ():
            out.print_json(
                json.dumps(asdict(extended), ensure_ascii=False, default=datetime.isoformat), indent=None
            )
        if not as_json:
            show(extensions_listing(extensions)) if extensions else out.print(
                "no kept document extends another yet"
            )
        return
    drops = recent_drops(loaded, limit)
    if as_json:
        for drop in drops:
            out.print_json(
                json.dumps(asdict(drop), ensure_ascii=False, default=datetime.isoformat), indent=None
            )
        return
    if not drops:
        out.print("no duplicates dropped yet")
        return
    show(drops_listing(drops))


@app.command("explain")
def explain_command(
    ident: Annotated[
        str, typer.Argument(help="A document id (16 hex digits), a canonical URL or an entry link.")
    ],
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Say why a document was kept or dropped."""
    loaded = load(config)
    from feedd.state import explain

    explanation = explain(loaded, ident)
    if as_json:
        out.print_json(json.dumps(asdict(explanation), ensure_ascii=False, default=datetime.isoformat))
        return
    if explanation.kept is None and not explanation.drops:
        raise NotFoundError(f"feedd has no document or entry {ident!r}")
    for paragraph in explanation_paragraphs(explanation, loaded.dedup):
        out.print(paragraph, highlight=False, markup=False)


#: The options of the `feedd` group, which click only reads before the command's name.
_GLOBAL_FLAGS = re.compile(r"^(-v+|--verbose|--log-format=.*)$")


def global_options_first(args: list[str]) -> list[str]:
    """`feedd run-once -v --log-format json` as `feedd -v --log-format json run-once`: the
    group's options are accepted wherever they are written."""
    command = next(
        (
            index
            for index, arg in enumerate(args)
            if not arg.startswith("-") and args[index - 1 : index] != ["--log-format"]
        ),
        None,
    )
    if command is None:
        return args
    moved, rest = [], []
    tail = iter(args[command + 1 :])
    for arg in tail:
        if arg == "--":
            rest += [arg, *tail]
            break
        if _GLOBAL_FLAGS.match(arg):
            moved.append(arg)
        elif arg == "--log-format":
            moved += [arg, next(tail, "")]
        else:
            rest.append(arg)
    return [*args[:command], *moved, args[command], *rest]


def main() -> None:
    """Console-script entry point."""
    try:
        app(args=global_options_first(sys.argv[1:]))
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
