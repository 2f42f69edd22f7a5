"""Disk used by the corpus: the output folder's files and the state database. Walking 100,000
files takes longer than a page may, so the figure is measured in a thread of its own and the
overview shows the latest one with its age; a figure older than `max_age` starts a new
measurement."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DiskFigure:
    """Bytes on disk (allocated blocks), as of `measured`."""

    output_bytes: int
    output_files: int
    state_bytes: int
    measured: datetime


class DiskUsage:
    """The latest figure for one output folder and state database."""

    def __init__(self, output_dir: Path, database: Path, max_age: float = 300.0) -> None:
        self._output_dir = output_dir
        self._database = database
        self._max_age = max_age
        self._lock = threading.Lock()
        self._latest: DiskFigure | None = None
        self._taken = 0.0
        self._running = False

    def latest(self, wait: float = 0.05) -> DiskFigure | None:
        """The latest figure (None before the first is done); starts a measurement when it is
        missing or old, and waits up to `wait` seconds for it (a small corpus is done by then)."""
        with self._lock:
            stale = self._latest is None or time.monotonic() - self._taken > self._max_age
            start = stale and not self._running
            if start:
                self._running = True
                done = threading.Event()
                threading.Thread(target=self._measure, args=(done,), daemon=True).start()
        if start:
            done.wait(wait)
        with self._lock:
            return self._latest

    def _measure(self, done: threading.Event) -> None:
        try:
            files, size = _walk(self._output_dir)
            state = sum(
                _allocated(path)
                for path in self._database.parent.glob(self._database.name + "*")
                if path.is_file()
            )
            figure = DiskFigure(size, files, state, datetime.now(UTC))
            with self._lock:
                self._latest, self._taken = figure, time.monotonic()
        finally:
            with self._lock:
                self._running = False
            done.set()


def _walk(folder: Path) -> tuple[int, int]:
    files = size = 0
    stack = [str(folder)]
    while stack:
        try:
            entries = os.scandir(stack.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        files += 1
                        size += entry.stat(follow_symlinks=False).st_blocks * 512
                except OSError:
                    continue
    return files, size


def _allocated(path: Path) -> int:
    try:
        return path.stat().st_blocks * 512
    except OSError:
        return 0
