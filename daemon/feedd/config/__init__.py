"""The config: the TOML file validated into a frozen Config that every stage reads, and the
per-site extraction rules."""

from feedd.config.filename import check_filename_template, render_filename
from feedd.config.load import load_config, parse_config
from feedd.config.model import (
    BasicAuthConfig,
    BasicCredentials,
    ClusterConfig,
    Config,
    DedupConfig,
    Duration,
    ExtractConfig,
    FeedConfig,
    FetchConfig,
    MetricsConfig,
    ScheduleConfig,
    StorageConfig,
    parse_duration,
)
from feedd.config.site_rules import SiteRule, SiteRules, load_site_rules, parse_site_rules

__all__ = [
    "BasicAuthConfig",
    "BasicCredentials",
    "ClusterConfig",
    "Config",
    "DedupConfig",
    "Duration",
    "ExtractConfig",
    "FeedConfig",
    "FetchConfig",
    "MetricsConfig",
    "ScheduleConfig",
    "SiteRule",
    "SiteRules",
    "StorageConfig",
    "check_filename_template",
    "load_config",
    "load_site_rules",
    "parse_config",
    "parse_duration",
    "parse_site_rules",
    "render_filename",
]
