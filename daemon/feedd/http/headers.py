"""The header values feedd sends (Accept, User-Agent) and Retry-After, which it reads."""

from __future__ import annotations

import email.utils
import time

import feedd
from feedd.config import FetchConfig

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
PROJECT_URL = "https://github.com/feedd/feedd"


def user_agent(fetch: FetchConfig) -> str:
    """The User-Agent: [fetch] user_agent, else feedd's name and version with a contact."""
    return fetch.user_agent or f"feedd/{feedd.__version__} (+{fetch.contact or PROJECT_URL})"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
