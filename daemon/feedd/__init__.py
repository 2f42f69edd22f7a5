"""feedd: keeps a clean, deduplicated plain-text corpus of the news from RSS/Atom feeds.

The library is usable without the CLI::

    from feedd import load_config, run_once
    summary = run_once(load_config("config/feedd.toml"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feedd._lazy import lazy_exports

if TYPE_CHECKING:
    from feedd.config import Config, load_config  # noqa: F401
    from feedd.errors import ConfigError, FeeddError  # noqa: F401
    from feedd.pipeline import PassSummary, run_once  # noqa: F401

# Imported on first use: extraction workers import feedd.* modules and should not pay for the
# pipeline (and datasketch's scipy) they never run.
_EXPORTS = {
    "Config": "feedd.config",
    "load_config": "feedd.config",
    "ConfigError": "feedd.errors",
    "FeeddError": "feedd.errors",
    "PassSummary": "feedd.pipeline",
    "run_once": "feedd.pipeline",
}

__all__ = [*_EXPORTS, "__version__"]


_lazy_export = lazy_exports(__name__, _EXPORTS)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        # Read from the installed metadata on first use only: importlib.metadata costs a tenth
        # of `feedd --help`.
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("feedd")
        except PackageNotFoundError:  # running from a source tree
            found = "0.0.0+unknown"
        globals()["__version__"] = found
        return found
    return _lazy_export(name)
