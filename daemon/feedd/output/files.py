"""Durable file writes for the output folder: whole files that appear atomically, lines appended
and fsynced, and the clean-up a crash mid-write calls for."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

#: Suffix of the temp files an atomic write leaves behind when it is interrupted.
TEMP_SUFFIX = ".feedd-tmp"


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename, fsync the folder. Mode 0666 minus umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(temp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def append_line(path: Path, line: str) -> None:
    """Append one line and fsync it. A write that fails part-way (a full disk) is cut back to
    where the file ended, so that no later line is ever appended to a torn one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        end = os.fstat(fd).st_size
        try:
            _write_all(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, end)
            raise
    finally:
        os.close(fd)


def remove_temp_files(folder: Path) -> None:
    """Delete what interrupted atomic writes left anywhere under `folder`."""
    for temp in folder.rglob(f".*{TEMP_SUFFIX}"):
        temp.unlink(missing_ok=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
