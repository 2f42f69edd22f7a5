"""robots.txt for article pages: fetched once per site, kept until it expires, obeyed.

Feed URLs are fetched as configured (a subscription is the user's explicit request); article
pages are crawled, so their site's robots.txt decides (RFC 9309, parsed by protego):

- 2xx: its rules for feedd's product token, "feedd"; a Crawl-delay widens the gap between
  feedd's requests to that host.
- 401 or 403: everything is disallowed (the site does not want robots, as Fundus reads it).
- other 4xx (404, 410): everything is allowed.
- 5xx, timeouts, refused connections: everything is disallowed for now (RFC 9309 2.3.1.4), and
  the entry is retried on a later pass rather than settled without its page.

Fetched files are kept in the state for their Cache-Control max-age, at most 24 hours (RFC 9309
2.4), so cron-driven passes do not ask again every few minutes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from protego import Protego

from feedd.errors import FetchError, HTTPStatusError
from feedd.http.client import Fetcher

#: The product token feedd's robots.txt groups are matched against.
ROBOTS_TOKEN = "feedd"
#: Crawlers that collect text to train AI models. A site that shuts any of them out of a page
#: has opted out of AI training; with [fetch] respect_ai_optout, feedd leaves that page alone.
AI_TRAINING_AGENTS = (
    "GPTBot",
    "Google-Extended",
    "CCBot",
    "anthropic-ai",
    "ClaudeBot",
    "Claude-Web",
    "cohere-ai",
    "cohere-training-data-crawler",
    "Bytespider",
    "Applebot-Extended",
    "Meta-ExternalAgent",
    "FacebookBot",
    "Diffbot",
    "Omgilibot",
    "ImagesiftBot",
    "PerplexityBot",
    "AI2Bot",
)
_MAX_AGE = timedelta(hours=24)
_RETRY_UNREACHABLE = timedelta(minutes=10)
_MIN_MEMORY_AGE = timedelta(minutes=10)
#: Only the first 500 KiB of a robots.txt count, as with Google's crawler (RFC 9309 2.5).
_MAX_ROBOTS_BYTES = 500 * 1024
_ROBOTS_ACCEPT = "text/plain, */*;q=0.5"
#: Allows everything: what a missing robots.txt means.
_ALLOW_ALL = ""
_DISALLOW_ALL = "User-agent: *\nDisallow: /\n"


@dataclass(frozen=True, slots=True)
class RobotsVerdict:
    """Whether feedd may fetch a page and, if not, why."""

    allowed: bool
    reason: str | None = None
    #: The refusal may pass (robots.txt could not be fetched): try the page again later.
    transient: bool = False


@dataclass(frozen=True, slots=True)
class _Rules:
    parser: Protego
    expires: datetime
    #: Why everything is disallowed, when it is for a reason other than the file's rules.
    blanket: str | None = None
    transient: bool = False


class CachedRobotsFile(Protocol):
    """A robots.txt as last fetched."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> str: ...

    @property
    def expires(self) -> datetime: ...


class RobotsCache(Protocol):
    """Where fetched robots.txt files are kept between passes (the state's `robots` table)."""

    def cached(self, origin: str, now: datetime) -> CachedRobotsFile | None:
        """`origin`'s file as last fetched, unless it has expired by `now`."""
        ...

    def cache(self, origin: str, status: int, body: str, expires: datetime) -> None: ...


class RobotsPolicy:
    """robots.txt verdicts for page URLs, one fetch per site however many pages ask at once."""

    def __init__(self, fetcher: Fetcher, cache: RobotsCache, *, respect_ai_optout: bool = False) -> None:
        self._fetcher = fetcher
        self._cache = cache
        self._respect_ai_optout = respect_ai_optout
        self._rules: dict[str, _Rules] = {}
        self._loading: dict[str, asyncio.Lock] = {}

    async def verdict(self, url: str) -> RobotsVerdict:
        """May feedd fetch `url`?"""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        rules = await self._rules_for(origin)
        if rules.blanket:
            return RobotsVerdict(False, rules.blanket, rules.transient)
        if not rules.parser.can_fetch(url, ROBOTS_TOKEN):
            return RobotsVerdict(False, "robots.txt disallows feedd")
        if self._respect_ai_optout:
            for agent in AI_TRAINING_AGENTS:
                if not rules.parser.can_fetch(url, agent):
                    return RobotsVerdict(
                        False, f"site opts out of AI training (robots.txt disallows {agent})"
                    )
        return RobotsVerdict(True)

    async def _rules_for(self, origin: str) -> _Rules:
        rules = self._rules.get(origin)
        if rules is not None and rules.expires > datetime.now(UTC):
            return rules
        async with self._loading.setdefault(origin, asyncio.Lock()):
            rules = self._rules.get(origin)
            if rules is None or rules.expires <= datetime.now(UTC):
                rules = self._rules[origin] = await self._load(origin)
        return rules

    async def _load(self, origin: str) -> _Rules:
        now = datetime.now(UTC)
        cached = self._cache.cached(origin, now)
        if cached is not None:
            status, body, expires = cached.status, cached.body, cached.expires
        else:
            try:
                response = await self._fetcher.get(
                    f"{origin}/robots.txt", accept=_ROBOTS_ACCEPT, keep_first=_MAX_ROBOTS_BYTES
                )
            except HTTPStatusError as exc:
                if exc.status_code >= 500 or exc.status_code == 429:
                    return _unreachable(f"robots.txt answered {exc.status_code}", now)
                status, body, max_age = exc.status_code, "", None
            except FetchError as exc:
                return _unreachable(f"robots.txt unreachable: {exc.reason}", now)
            else:
                status, max_age = response.status_code, response.fresh_for()
                content = response.content
                if response.truncated:
                    # Cut at the limit: a rule cut mid-line ("Disallow: /s" of "/search/") would
                    # say something else, so the last, partial line goes.
                    content = content[: max(content.rfind(b"\n"), content.rfind(b"\r")) + 1]
                body = content.decode("utf-8", "replace")
            expires = now + (min(_MAX_AGE, timedelta(seconds=max_age)) if max_age is not None else _MAX_AGE)
            self._cache.cache(origin, status, body, expires)
        # However short the file's own lifetime, one pass asks once.
        expires = max(expires, now + _MIN_MEMORY_AGE)
        if status in (401, 403):
            why = f"robots.txt is forbidden ({status}): the site wants no robots"
            return _Rules(Protego.parse(_DISALLOW_ALL), expires, why)
        parser = Protego.parse(body if 200 <= status < 300 else _ALLOW_ALL)
        if (delay := parser.crawl_delay(ROBOTS_TOKEN)) is not None:
            self._fetcher.slow_down(urlsplit(origin).hostname or "", float(delay))
        return _Rules(parser, expires)


def _unreachable(why: str, now: datetime) -> _Rules:
    # Kept in memory briefly, so the pages of a site that is down do not each ask; never stored.
    return _Rules(Protego.parse(_DISALLOW_ALL), now + _RETRY_UNREACHABLE, why, transient=True)
