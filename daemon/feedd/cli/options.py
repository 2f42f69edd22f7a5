"""What every command takes: the config option, and the config it names or finds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from feedd.config import Config, find_config, load_config

ConfigOption = Annotated[
    Optional[Path],  # noqa: UP045 - typer reads the annotation at run time
    typer.Option(
        "--config",
        "-c",
        help="Config file. Default: $FEEDD_CONFIG, else the first of $CONFIGURATION_DIRECTORY/feedd.toml, "
        "~/.config/feedd/feedd.toml, /etc/feedd/feedd.toml, ./config/feedd.toml.",
        show_default=False,
    ),
]


def load(path: Path | None) -> Config:
    """The config at `path`, or the first found on the search path."""
    return load_config(path or find_config())
