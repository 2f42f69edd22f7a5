"""The config's schema: one frozen section per table, the value types they share (durations,
networks), and Config, the validated whole that every stage reads."""

from __future__ import annotations

import hashlib
import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BeforeValidator,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from feedd.config.filename import check_filename_template
from feedd.config.listen import ListenAddress, ListenText, parse_listen
from feedd.config.redaction import redacted_url
from feedd.config.section import BasicAuthConfig, Section
from feedd.config.web import WebConfig

_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string such as "90s", "15m", "24h"."""
    if isinstance(value, bool):
        raise ValueError('expected a duration such as 20, "90s", "15m" or "24h"')
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError('expected a duration such as 20, "90s", "15m" or "24h"')
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
#: A duration that may be zero ("0s" turns the feature off).
Pause = Annotated[
    float, BeforeValidator(lambda value: 0.0 if value in (0, "0", "0s") else parse_duration(value))
]


def _parse_networks(value: Any) -> tuple[IPv4Network | IPv6Network, ...]:
    if not isinstance(value, list | tuple):
        raise ValueError('expected a list of networks such as ["10.20.0.0/16"]')
    networks = []
    for item in value:
        try:
            networks.append(ip_network(item) if isinstance(item, str) else item)
        except ValueError:
            raise ValueError(f"{item!r} is not a network in CIDR form, such as 10.20.0.0/16") from None
    return tuple(networks)


Networks = Annotated[tuple[IPv4Network | IPv6Network, ...], BeforeValidator(_parse_networks)]


class StorageConfig(Section):
    """Where documents and state live. Relative paths resolve against the config's folder."""

    output_dir: str = "articles"
    database: str = "feedd.sqlite3"
    filename: str = "{seq:03d}_{id}.txt"

    @field_validator("filename")
    @classmethod
    def _check_template(cls, template: str) -> str:
        check_filename_template(template)
        return template


class FetchConfig(Section):
    """HTTP behaviour shared by feed and page requests."""

    allow_private_networks: bool = False
    #: Non-public networks that are allowed all the same (an intranet feed server), in CIDR form;
    #: everything else non-public stays refused.
    allowed_networks: Networks = ()
    #: Every request goes through this HTTP proxy ("http://[user:password@]host:port"), which is
    #: trusted; HTTP_PROXY and its kin in the environment are ignored.
    proxy: str | None = Field(default=None, repr=False)
    max_per_host: int = Field(default=2, ge=1, le=64)
    #: Minimum time between the starts of two requests to one host.
    host_gap: Pause = 0.5
    max_connections: int = Field(default=16, ge=1, le=1024)
    connect_timeout: Duration = 10.0
    read_timeout: Duration = 20.0
    timeout: Duration = 60.0
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_redirects: int = Field(default=5, ge=0, le=30)
    #: The whole User-Agent header; by default "feedd/VERSION (+contact)".
    user_agent: str | None = None
    #: A URL or e-mail address where publishers can reach whoever runs this feedd; it goes into
    #: the default User-Agent.
    contact: str | None = None
    #: Also skip article pages whose robots.txt shuts out AI-training crawlers (GPTBot, CCBot,
    #: Google-Extended, ...), saving the feed's own text instead.
    respect_ai_optout: bool = False

    @field_validator("proxy")
    @classmethod
    def _check_proxy(cls, proxy: str | None) -> str | None:
        parts = urlsplit(proxy or "http://unset")
        try:  # .port raises on a port that is not a number
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:
            valid = False
        if not valid:
            raise ValueError('expected an http(s) proxy URL such as "http://proxy.internal:3128"')
        return proxy


class ExtractConfig(Section):
    """Article extraction: CPU-bound, so it runs in worker processes."""

    # 0 extracts in the main process; unset means one worker per CPU.
    workers: int | None = Field(default=None, ge=0, le=256)
    #: A page whose extraction takes longer fails (and its worker is replaced).
    timeout: Duration = 120.0
    #: A file of per-site rules (CSS selectors) that add to and override the shipped ones.
    site_rules: str | None = None


class DedupConfig(Section):
    """Duplicate detection. The defaults are chosen by measurement (docs/dedup.md)."""

    #: Near-duplicate detection (MinHash LSH) on top of the exact checks.
    near_duplicates: bool = True
    #: How a near-duplicate candidate is decided: "shared-runs" (on the share of the new
    #: document's text inside runs of words shared with saved documents, quotes counted at a
    #: quarter) or "overlap" (on the share of its word 5-grams found in saved documents).
    verification: Literal["shared-runs", "overlap"] = "shared-runs"
    #: Under "shared-runs", a new document is a copy when saved documents together hold this
    #: share of its text ...
    copied_share: float = Field(default=0.55, gt=0, le=1)
    #: ... and it has fewer than this many words of its own (outside every shared run): one
    #: with more says something new, is kept, and extends the saved documents it holds most of.
    min_new_words: int = Field(default=150, ge=1)
    #: A new document whose word-5-gram Jaccard with a saved one reaches this is the same text,
    #: whatever the verification says (if it has fewer than min_new_words of its own).
    jaccard: float = Field(default=0.5, gt=0, le=1)
    #: Under "overlap", a new document whose containment (its shingles found in saved
    #: documents, over all of its shingles) reaches this is a duplicate.
    containment: float = Field(default=0.6, gt=0, le=1)
    #: Anything but Jaccard counts only when the new document has this many shingles.
    min_shingles: int = Field(default=20, ge=1)
    #: Documents saved within this window are compared against; older ones are forgotten.
    window: Duration = 30 * 86400.0
    #: Also append every drop to duplicates.jsonl beside the documents.
    log_duplicates: bool = False
    #: "local" (the state database), or "redis://host:6379/0": an index shared by several feedd
    #: instances, each saving a story only if no instance has saved it.
    backend: str = "local"
    #: Prefix of every Redis key, so that separate corpora can share one Redis.
    namespace: str = Field(default="feedd", pattern=r"^[A-Za-z0-9_.\-]+$")

    @field_validator("backend")
    @classmethod
    def _check_backend(cls, backend: str) -> str:
        if backend != "local" and urlsplit(backend).scheme not in ("redis", "rediss", "unix"):
            raise ValueError('expected "local" or a Redis URL such as "redis://127.0.0.1:6379/0"')
        return backend

    @property
    def shared(self) -> str | None:
        """The Redis URL of a shared index, or None for the local one."""
        return None if self.backend == "local" else self.backend


class ClusterConfig(Section):
    """Several instances splitting one feed list (with a shared [dedup] backend)."""

    #: "K/N": this instance polls the K-th of N disjoint shares of the feeds (by a hash of each
    #: feed's URL, so adding or removing other feeds does not move a feed between instances).
    shard: str | None = None

    @field_validator("shard")
    @classmethod
    def _check_shard(cls, shard: str | None) -> str | None:
        if shard is None:
            return None
        part, _, total = shard.partition("/")
        if not (part.isdigit() and total.isdigit() and 1 <= int(part) <= int(total)):
            raise ValueError('expected "K/N" with 1 <= K <= N, such as "2/5"')
        return shard

    def owns(self, feed_url: str) -> bool:
        """Whether this instance polls `feed_url`."""
        if self.shard is None:
            return True
        part, total = (int(n) for n in self.shard.split("/"))
        digest = hashlib.sha256(feed_url.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % total == part - 1


class ScheduleConfig(Section):
    """How often `feedd run` polls each feed."""

    #: The starting interval; each feed's own rhythm and its server's hints adapt it.
    interval: Duration = 15 * 60.0
    #: Never poll a feed more often than this (never hammer a publisher) ...
    min_interval: Duration = 5 * 60.0
    #: ... nor less often than this (a feed that keeps failing is retried at this interval).
    max_interval: Duration = 24 * 3600.0
    #: Random spread of every interval, as a fraction (+-), so feeds do not poll in lockstep.
    jitter: float = Field(default=0.1, ge=0, le=0.5)
    #: A poll (feed, its pages, extraction, saving) that takes longer is abandoned and retried.
    poll_timeout: Duration = 10 * 60.0


class MetricsConfig(Section):
    """Prometheus metrics of `feedd run`."""

    #: "host:port" to serve /metrics on (an IPv6 host in brackets: "[::1]:9464"); unset serves nothing.
    listen: ListenText | None = None

    @property
    def address(self) -> ListenAddress | None:
        """`listen` as the server binds it; None when unset."""
        return parse_listen(self.listen) if self.listen is not None else None


class FeedConfig(Section):
    """One subscribed feed."""

    #: Its URL with any secret in it (userinfo, a token parameter) masked: see fetch_url.
    url: str
    name: str | None = None
    _fetch_url: str = PrivateAttr(default="")
    #: This feed's starting interval, instead of [schedule] interval.
    interval: Duration | None = None
    #: A disabled feed stays in the config but is not polled.
    enabled: bool = True
    #: False: save the entry's own content instead of fetching the article page (full-content
    #: feeds, sites that forbid fetching).
    fetch_article: bool = True
    #: Replaces [fetch] user_agent for this feed's requests.
    user_agent: str | None = None
    #: Sent with the feed's requests, and with article requests to the feed's own host.
    headers: dict[str, str] = {}
    basic_auth: BasicAuthConfig | None = None
    #: Copied into the manifest line of every document from this feed.
    tags: list[str] = []
    #: Regular expressions over each entry's title, link and summary, applied before its page is
    #: fetched: entries matching an `exclude` one are skipped; with `include` ones, entries
    #: matching none of them are skipped too.
    include: list[str] = []
    exclude: list[str] = []
    #: Entries one poll takes from this feed: the newest, by date (undated ones in document
    #: order); the rest are skipped with a warning. The largest real feed in the test data has 300.
    max_entries: int = Field(default=500, ge=1, le=100_000)

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL")
        return url.strip()

    @field_validator("include", "exclude")
    @classmethod
    def _check_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
        return patterns

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not a valid HTTP header name")
            if "\r" in value or "\n" in value:
                raise ValueError(f"the value of header {name!r} contains a line break")
        return headers

    @field_validator("user_agent")
    @classmethod
    def _check_user_agent(cls, user_agent: str | None) -> str | None:
        if user_agent is not None and ("\r" in user_agent or "\n" in user_agent or not user_agent.strip()):
            raise ValueError("expected a one-line, non-empty User-Agent")
        return user_agent

    @model_validator(mode="after")
    def _keep_secrets_apart(self) -> FeedConfig:
        # From here on `url` names the feed everywhere (logs, state, manifest, status); the URL
        # as written, with whatever credentials it carries, is only for the fetcher.
        self._fetch_url = self.url  # a private attribute: not frozen, compared with the fields
        object.__setattr__(self, "url", redacted_url(self.url))
        return self

    @property
    def fetch_url(self) -> str:
        """The URL as written in the config, credentials included: what is fetched."""
        return self._fetch_url

    @property
    def label(self) -> str:
        """How logs and summaries name this feed."""
        return self.name or self.url


class ConfigDocument(Section):
    """The config file as written; parse_config turns it into a Config."""

    storage: StorageConfig = StorageConfig()
    fetch: FetchConfig = FetchConfig()
    extract: ExtractConfig = ExtractConfig()
    dedup: DedupConfig = DedupConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    metrics: MetricsConfig = MetricsConfig()
    cluster: ClusterConfig = ClusterConfig()
    web: WebConfig = WebConfig()
    feeds: list[FeedConfig] = Field(min_length=1)
