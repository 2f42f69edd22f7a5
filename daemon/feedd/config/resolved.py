"""The config as the rest of feedd reads it: the validated sections, with paths resolved and
secrets read (feedd.config.load builds it from the TOML document of feedd.config.model)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from feedd.config.model import (
    ClusterConfig,
    DedupConfig,
    ExtractConfig,
    FeedConfig,
    FetchConfig,
    MetricsConfig,
    ScheduleConfig,
    StorageConfig,
)
from feedd.config.site_rules import SiteRules
from feedd.config.web import WebConfig


@dataclass(frozen=True)
class BasicCredentials:
    """A feed's basic-auth user and password, read from where its config points."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class WebSecret:
    """What a request to the web view must carry: a bearer token, or basic-auth credentials."""

    scheme: Literal["bearer", "basic"]
    #: The basic-auth user (None for a token).
    username: str | None
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Config:
    """A validated config with its paths resolved."""

    path: Path
    storage: StorageConfig
    fetch: FetchConfig
    extract: ExtractConfig
    dedup: DedupConfig
    schedule: ScheduleConfig
    metrics: MetricsConfig
    feeds: tuple[FeedConfig, ...]
    cluster: ClusterConfig = ClusterConfig()
    #: The shipped per-site extraction rules with the user's on top.
    site_rules: SiteRules = field(default_factory=SiteRules)
    #: Basic-auth credentials by feed URL, for feeds that have them.
    credentials: dict[str, BasicCredentials] = field(default_factory=dict, repr=False)
    #: Where relative [storage] paths go: systemd's $STATE_DIRECTORY when it set one (the
    #: config's folder, /etc/feedd, is read-only there), else the config's folder.
    state_directory: Path | None = None
    web: WebConfig = WebConfig()
    #: The web view's token or basic-auth credentials, read from where [web] points; None: open.
    web_secret: WebSecret | None = field(default=None, repr=False)

    @property
    def active_feeds(self) -> tuple[FeedConfig, ...]:
        """The feeds this instance polls: enabled, and in its [cluster] shard."""
        return tuple(feed for feed in self.feeds if feed.enabled and self.cluster.owns(feed.url))

    @property
    def output_dir(self) -> Path:
        return self._state_path(self.storage.output_dir)

    @property
    def database(self) -> Path:
        return self._state_path(self.storage.database)

    def _state_path(self, value: str) -> Path:
        path = Path(value).expanduser()
        if path.is_absolute() or self.state_directory is None:
            return self.resolve_path(value)
        return (self.state_directory / path).resolve()

    def resolve_path(self, value: str) -> Path:
        """A path from the config, made absolute against the config file's folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.path.parent / path).resolve()
