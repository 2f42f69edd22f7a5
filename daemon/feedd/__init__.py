"""feedd: keeps a clean, deduplicated plain-text corpus of the news from RSS/Atom feeds.

The library is usable without the CLI::

    from feedd import load_config, run_once
    summary = run_once(load_config("config/feedd.toml"))
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("feedd")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"

from feedd.config import Config, load_config  # noqa: E402
from feedd.errors import ConfigError, FeeddError  # noqa: E402
from feedd.pipeline import PassSummary, run_once  # noqa: E402

__all__ = [
    "Config",
    "ConfigError",
    "FeeddError",
    "PassSummary",
    "__version__",
    "load_config",
    "run_once",
]
