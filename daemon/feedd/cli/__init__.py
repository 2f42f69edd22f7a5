"""The `feedd` command: its commands (app), what they draw (views), how they end (exits)."""

from feedd.cli.app import app, main
from feedd.cli.exits import ExitCode

__all__ = ["ExitCode", "app", "main"]
