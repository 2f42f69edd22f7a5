"""The `feedd` command's exit codes, and the one place where feedd's errors become them."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from feedd.cli.views import err, out
from feedd.errors import ConfigError, DocumentWriteError, NotFoundError, OpmlError, StateError


class ExitCode(IntEnum):
    """What a script calling `feedd` can tell from its exit status (the README lists them)."""

    OK = 0
    #: Every feed failed, or a document could not be written (it is saved by the next pass).
    FAILED = 1
    #: Bad config, bad usage (click's own code), or unusable state (locked, unwritable output).
    USAGE = 2
    #: `feedd explain` was asked about a document or entry the state does not hold.
    NOT_FOUND = 3


#: The errors a command may end with on purpose; any other exception is a bug and shows its traceback.
EXPECTED_ERRORS = (ConfigError, OpmlError, StateError, NotFoundError)


def report(exc: Exception) -> ExitCode:
    """Say what went wrong where a user (or script) looks for it; return the exit code it means."""
    if isinstance(exc, NotFoundError):
        out.print(str(exc), highlight=False, markup=False)
        return ExitCode.NOT_FOUND
    if isinstance(exc, ConfigError):
        err.print(f"[bold red]config error[/]: {escape(str(exc))}", highlight=False, soft_wrap=True)
        return ExitCode.USAGE
    if isinstance(exc, DocumentWriteError):
        err.print(
            f"[bold red]error[/]: {escape(str(exc))}; the document is kept and saved by the next pass",
            highlight=False,
        )
        return ExitCode.FAILED
    err.print(f"[bold red]error[/]: {escape(str(exc))}", highlight=False)
    return ExitCode.USAGE


class CommandGroup(TyperGroup):
    """Every command runs inside this group's `invoke`: its expected errors end here, once."""

    # ctx is click's Context, which typer has vendored since 0.2x: Any fits both.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except EXPECTED_ERRORS as exc:
            raise typer.Exit(report(exc)) from None
