"""The http stage's records: a completed GET, and a feed's own request settings."""

from __future__ import annotations

import base64
import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from feedd.config import BasicCredentials


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One completed GET: the final URL after redirects, its headers and decoded body."""

    url: str
    final_url: str
    status_code: int
    headers: Mapping[str, str]
    content: bytes
    #: The body went on past what the request asked to keep (Fetcher.get's keep_first).
    truncated: bool = False

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


_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host and port (RFC 6454): the reach of a feed's credentials and headers."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """The origin of an http(s) URL; None for anything else."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        try:
            port = parts.port
        except ValueError:
            return None
        return cls(parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme])

    def reaches(self, url: str) -> bool:
        """Whether `url` is on this origin, or on its https form: plain http on the default port
        upgraded to https on the same host sends nothing anywhere new, and safer."""
        other = Origin.of(url)
        if other is None or other.host != self.host:
            return False
        upgraded = (self.scheme, self.port, other.scheme, other.port) == ("http", 80, "https", 443)
        return other == self or upgraded


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """A feed's own request settings. Its headers and credentials go to `origin` only (scheme,
    host and port): another port or scheme of its host, another host, a downgrade to plain http,
    and a redirect to any of them do not carry them along."""

    origin: Origin | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    credentials: BasicCredentials | None = field(default=None, repr=False)
    user_agent: str | None = None

    def reaches(self, url: str) -> bool:
        """Whether this feed's headers and credentials may go to `url`."""
        return self.origin is not None and self.origin.reaches(url)

    def with_secrets(self, base: dict[str, str]) -> dict[str, str]:
        """`base` with this feed's headers and credentials added, for a URL it `reaches`."""
        if not (self.headers or self.credentials):
            return base
        headers = {**base, **self.headers}
        if self.credentials is not None:
            pair = f"{self.credentials.username}:{self.credentials.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return headers
