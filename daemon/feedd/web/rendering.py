"""The Jinja2 templates (autoescape on for every template, whatever its name) and the filters
they use to show feed-controlled text inertly: links only for http(s) URLs, control and
direction-changing characters shown as visible escapes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.templating import Jinja2Templates

#: Characters that must not act on the page: C0 and C1 controls (but tab and line feed), and the
#: bidirectional formatting characters that can make text read other than it is stored.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """`text` with its unprintable characters written as \\xNN / \\uNNNN."""
    if text is None:
        return ""
    return _UNPRINTABLE.sub(
        lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) > 0xFF else f"\\x{ord(m.group()):02x}",
        str(text),
    )


def http_link(url: object) -> str | None:
    """`url` when it is an http(s) URL with a host, safe as an href; None for anything else
    (javascript:, data:, relative or malformed URLs are shown as text only)."""
    if not isinstance(url, str) or _UNPRINTABLE.search(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def relative(value: datetime | None, now: datetime | None = None) -> str:
    """ "in 4 min" or "3 h ago"."""
    if value is None:
        return ""
    seconds = (value - (now or datetime.now(UTC))).total_seconds()
    size = abs(seconds)
    if size < 60:
        amount = f"{size:.0f} s"
    elif size < 3600:
        amount = f"{size / 60:.0f} min"
    elif size < 86400 * 2:
        amount = f"{size / 3600:.1f} h"
    else:
        amount = f"{size / 86400:.1f} days"
    return f"in {amount}" if seconds >= 0 else f"{amount} ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def size(count: int | None) -> str:
    if count is None:
        return "-"
    amount = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def with_query(query: Mapping[str, str], **changes: object) -> str:
    """The current query string with some parameters changed (None or "" removes one)."""
    values = {key: value for key, value in query.items()}
    for key, value in changes.items():
        if value is None or value == "":
            values.pop(key, None)
        else:
            values[key] = str(value)
    return "?" + urlencode(values) if values else "?"


def _environment(folder: Path) -> Environment:
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        printable=printable,
        http_link=http_link,
        when=when,
        relative=relative,
        duration=duration,
        ratio=ratio,
        percent=percent,
        size=size,
    )
    env.globals.update(with_query=with_query)
    return env


templates = Jinja2Templates(env=_environment(Path(__file__).parent / "templates"))
