"""Running `feedd run-once` as a user would, and measuring it from outside."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Measured:
    seconds: float
    #: Peak RSS of the feedd process itself.
    peak_main: int
    #: Peak PSS of feedd and its children: PSS shares each shared page among the processes that
    #: map it, so the workers' common libraries are not counted twice.
    peak_tree: int
    stdout: str
    returncode: int


def run_once(config: Path) -> Measured:
    """Run the installed `feedd run-once -c config`, sampling memory every 50 ms."""
    feedd = Path(sys.executable).with_name("feedd")
    started = time.perf_counter()
    process = psutil.Popen([str(feedd), "run-once", "-c", str(config)], stdout=subprocess.PIPE, text=True)
    peak_main = peak_tree = 0
    while process.poll() is None:
        try:
            peak_main = max(peak_main, process.memory_info().rss)
            tree = [process, *process.children(recursive=True)]
            peak_tree = max(peak_tree, sum(p.memory_full_info().pss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    return Measured(seconds, peak_main, peak_tree, process.stdout.read().strip(), process.returncode)
