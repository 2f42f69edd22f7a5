"""Names a package exports but loads on first use (PEP 562): extraction workers import feedd's
packages for their records and must not pay for what they never run (trafilatura in the event
loop's process, datasketch and redis in the workers)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `exports[name]`, a module, when `name` is first used."""

    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
