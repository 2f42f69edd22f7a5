"""Where feedd looks for its config when no --config is given, in order."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from feedd.errors import ConfigError

FILE_NAME = "feedd.toml"


def config_search_path() -> list[Path]:
    """$FEEDD_CONFIG alone when set; else systemd's $CONFIGURATION_DIRECTORY, the user's XDG
    config folder, /etc/feedd, and ./config (the repository's example)."""
    if chosen := os.environ.get("FEEDD_CONFIG"):
        return [Path(chosen)]
    places = []
    if systemd := os.environ.get("CONFIGURATION_DIRECTORY"):
        places.append(Path(systemd.split(":")[0]) / FILE_NAME)
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    places += [Path(xdg) / "feedd" / FILE_NAME, Path("/etc/feedd") / FILE_NAME, Path("config") / FILE_NAME]
    return places


def starter_path() -> Path:
    """Where `feedd init` writes by default: /etc/feedd for root, else the user's config folder."""
    if os.geteuid() == 0:
        return Path("/etc/feedd") / FILE_NAME
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(xdg) / "feedd" / FILE_NAME


def example_config() -> str:
    """The shipped, commented example config: inside the wheel, or in the source tree."""
    shipped = resources.files("feedd") / "share" / FILE_NAME
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[3] / "config" / FILE_NAME).read_text(encoding="utf-8")


def write_starter(path: Path) -> Path:
    """Write the example config to `path` (never over an existing file); the path written."""
    if path.exists():
        raise ConfigError(f"{path} exists: feedd init never overwrites a config")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(example_config())
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def find_config() -> Path:
    """The first config of the search path that exists; ConfigError listing them otherwise."""
    places = config_search_path()
    for place in places:
        if place.exists():
            return place
    tried = ", ".join(str(place) for place in places)
    raise ConfigError(
        f"no config found (looked in {tried}): give one with --config, or write one with `feedd init`"
    )
