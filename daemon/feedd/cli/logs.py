"""Log lines, one per event, for the place they go: a terminal (Rich), a pipe or file (an ISO
timestamp, the level, the logger, the message), the journal (its priority prefix, no timestamp:
journald keeps its own), or JSON (python-json-logger) for log shippers.

A record's fields (`log.info("...", extra={"feed": name, "url": url})`, names in `FIELDS`) are
keys in JSON and `key=value` pairs at the end of a human line.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from rich.console import Console
from rich.logging import RichHandler

#: The fields feedd's own records may carry, in the order a human line shows them.
FIELDS = ("feed", "url", "status", "doc_id", "file", "next_poll", "reason")
#: syslog priorities, which journald reads from a "<N>" prefix (sd-daemon(3)).
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


def configure(verbose: int, as_json: bool, console: Console) -> None:
    """feedd's own records from WARNING (-v: INFO, -vv: DEBUG); other libraries' from WARNING,
    and from DEBUG only at -vv (httpx, a line per request, from WARNING always), so that their
    chatter never drowns feedd's INFO lines."""
    handler: logging.Handler
    if as_json:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_JsonLines())
    elif _stderr_is_the_journal():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(HumanLines(journal=True))
    elif console.is_terminal:
        handler = RichHandler(console=console, show_path=False, markup=False, rich_tracebacks=False)
        handler.setFormatter(HumanLines(journal=False, timestamp=False))
    else:
        # A pipe or a file: plain lines (Rich would pad and wrap them to 80 columns).
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(HumanLines(journal=False))
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=logging.DEBUG if verbose >= 2 else logging.WARNING, handlers=[handler], force=True
    )
    logging.getLogger("feedd").setLevel(level)
    # httpx logs every request at INFO; feedd says what each poll did itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    return {name: value for name in FIELDS if (value := getattr(record, name, None)) is not None}


class HumanLines(logging.Formatter):
    """`2026-12-03T06:40:12+00:00 WARNING feedd.pipeline.poll: feed DW failed: ... url=...`."""

    def __init__(self, *, journal: bool, timestamp: bool = True) -> None:
        super().__init__()
        self._journal = journal
        self._timestamp = timestamp and not journal

    def format(self, record: logging.LogRecord) -> str:
        line = record.getMessage()
        if extra := fields_of(record):
            line += " " + " ".join(f"{name}={_quoted(value)}" for name, value in extra.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if self._journal:
            priority = _PRIORITY.get(record.levelno, 6)
            # journald takes one entry per line: a traceback stays one entry only if joined.
            return f"<{priority}>{record.levelname} {record.name}: " + line.replace("\n", " | ")
        if not self._timestamp:
            return line  # Rich draws time and level itself
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        return f"{stamp} {record.levelname} {record.name}: {line}"


class _JsonLines(JsonFormatter):
    """{"time", "level", "logger", "message", and the record's fields}."""

    def __init__(self) -> None:
        super().__init__(json_ensure_ascii=False)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds")
        log_data["level"] = record.levelname.lower()
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        log_data.update(fields_of(record))
        if record.exc_info:
            log_data["exception"] = self.formatException(record.exc_info)


def _quoted(value: object) -> str:
    text = str(value)
    return f'"{text}"' if not text or any(c.isspace() for c in text) or '"' in text else text


def _stderr_is_the_journal() -> bool:
    """systemd sets JOURNAL_STREAM to the device and inode of the journal's stream."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    device, _, inode = stream.partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        stat = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    return stat.st_dev == int(device) and stat.st_ino == int(inode)
