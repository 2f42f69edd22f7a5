"""The http stage's records: a completed GET, and a feed's own request settings."""

from __future__ import annotations

import base64
import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from feedd.config import BasicCredentials


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One completed GET: the final URL after redirects, its headers and decoded body."""

    url: str
    final_url: str
    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def not_modified(self) -> bool:
        return self.status_code == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    def fresh_for(self, now: float | None = None) -> float | None:
        """Seconds the server says the response stays fresh (Cache-Control max-age, Expires)."""
        cache_control = self.headers.get("cache-control", "")
        if match := re.search(r"(?:^|[,\s])(?:s-)?max-age\s*=\s*(\d+)", cache_control, re.I):
            return float(match.group(1))
        expires = self.headers.get("expires")
        if expires:
            try:
                when = email.utils.parsedate_to_datetime(expires)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is not None:
                return max(0.0, when.timestamp() - (time.time() if now is None else now))
        return None


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """A feed's own request settings. Its headers and credentials go to `host` only: a redirect
    or an article link to another host does not carry them along."""

    host: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    credentials: BasicCredentials | None = field(default=None, repr=False)
    user_agent: str | None = None

    def for_host(self, host: str, base: dict[str, str]) -> dict[str, str]:
        if host != self.host or not (self.headers or self.credentials):
            return base
        headers = {**base, **self.headers}
        if self.credentials is not None:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return headers
