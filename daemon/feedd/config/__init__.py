"""The config: the TOML file validated into a frozen Config that every stage reads, and the
per-site extraction rules.

The SiteRule record loads eagerly: extraction workers receive it with each page. The rest (pydantic
models, the loader, cssselect for the rules) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedd._lazy import lazy_exports
from feedd.config.site_rule import SiteRule

if TYPE_CHECKING:
    from feedd.config.checks import config_schema, effective_toml, path_problems
    from feedd.config.edit import add_feed, remove_feed, replace_keeping_mode
    from feedd.config.filename import MANIFEST, check_filename_template, render_filename
    from feedd.config.listen import ListenAddress, is_loopback, parse_listen
    from feedd.config.load import load_config, parse_config
    from feedd.config.model import (
        ClusterConfig,
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
    from feedd.config.redaction import redacted_url
    from feedd.config.resolved import BasicCredentials, Config, WebSecret
    from feedd.config.search import config_search_path, find_config, starter_path, write_starter
    from feedd.config.section import BasicAuthConfig, SecretSource
    from feedd.config.site_rules import SiteRules, load_site_rules, parse_site_rules
    from feedd.config.web import DEFAULT_WEB_LISTEN, WebConfig

_LAZY = {
    "MANIFEST": "feedd.config.filename",
    "redacted_url": "feedd.config.redaction",
    "config_search_path": "feedd.config.search",
    "find_config": "feedd.config.search",
    "starter_path": "feedd.config.search",
    "write_starter": "feedd.config.search",
    "config_schema": "feedd.config.checks",
    "add_feed": "feedd.config.edit",
    "remove_feed": "feedd.config.edit",
    "replace_keeping_mode": "feedd.config.edit",
    "effective_toml": "feedd.config.checks",
    "path_problems": "feedd.config.checks",
    "BasicAuthConfig": "feedd.config.section",
    "SecretSource": "feedd.config.section",
    "WebConfig": "feedd.config.web",
    "WebSecret": "feedd.config.resolved",
    "DEFAULT_WEB_LISTEN": "feedd.config.web",
    "is_loopback": "feedd.config.listen",
    "ListenAddress": "feedd.config.listen",
    "parse_listen": "feedd.config.listen",
    "BasicCredentials": "feedd.config.resolved",
    "ClusterConfig": "feedd.config.model",
    "Config": "feedd.config.resolved",
    "DedupConfig": "feedd.config.model",
    "Duration": "feedd.config.model",
    "ExtractConfig": "feedd.config.model",
    "FeedConfig": "feedd.config.model",
    "FetchConfig": "feedd.config.model",
    "MetricsConfig": "feedd.config.model",
    "ScheduleConfig": "feedd.config.model",
    "SiteRules": "feedd.config.site_rules",
    "StorageConfig": "feedd.config.model",
    "check_filename_template": "feedd.config.filename",
    "load_config": "feedd.config.load",
    "load_site_rules": "feedd.config.site_rules",
    "parse_config": "feedd.config.load",
    "parse_duration": "feedd.config.model",
    "parse_site_rules": "feedd.config.site_rules",
    "render_filename": "feedd.config.filename",
}

__all__ = [
    "DEFAULT_WEB_LISTEN",
    "MANIFEST",
    "BasicAuthConfig",
    "BasicCredentials",
    "ClusterConfig",
    "Config",
    "DedupConfig",
    "Duration",
    "ExtractConfig",
    "FeedConfig",
    "FetchConfig",
    "ListenAddress",
    "MetricsConfig",
    "ScheduleConfig",
    "SecretSource",
    "SiteRule",
    "SiteRules",
    "StorageConfig",
    "WebConfig",
    "WebSecret",
    "check_filename_template",
    "is_loopback",
    "parse_listen",
    "load_config",
    "load_site_rules",
    "parse_config",
    "parse_duration",
    "parse_site_rules",
    "render_filename",
    "redacted_url",
    "config_schema",
    "effective_toml",
    "path_problems",
    "config_search_path",
    "find_config",
    "starter_path",
    "write_starter",
    "add_feed",
    "remove_feed",
    "replace_keeping_mode",
]


__getattr__ = lazy_exports(__name__, _LAZY)
