"""Load and validate the TOML config; every error names the file, the key and its line."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from feedd.config.model import ConfigDocument, FeedConfig
from feedd.config.resolved import BasicCredentials, Config, WebSecret
from feedd.config.section import BasicAuthConfig, SecretSource
from feedd.config.site_rules import load_site_rules
from feedd.config.toml_lines import line_of, validate_toml
from feedd.errors import ConfigError


def load_config(path: str | Path) -> Config:
    """Read, parse and validate a config file; raise ConfigError naming what is wrong and where."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Validate config text; `path` names it in errors and anchors relative paths."""
    document = validate_toml(text, path, ConfigDocument)
    _reject_duplicate_feeds(document.feeds, text, path)
    if document.schedule.min_interval > document.schedule.max_interval:
        line = line_of(text, ("schedule", "min_interval"))
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where}: schedule.min_interval: must not exceed schedule.max_interval")
    config = Config(
        path=path.resolve(),
        storage=document.storage,
        fetch=document.fetch,
        extract=document.extract,
        dedup=document.dedup,
        schedule=document.schedule,
        metrics=document.metrics,
        feeds=tuple(document.feeds),
        cluster=document.cluster,
        state_directory=_state_directory(),
        web=document.web,
    )
    rules_file = config.extract.site_rules
    return replace(
        config,
        site_rules=load_site_rules(config.resolve_path(rules_file) if rules_file else None),
        credentials=_read_credentials(config, text, path),
        web_secret=_read_web_secret(config, text, path),
    )


def _state_directory() -> Path | None:
    """The first of systemd's $STATE_DIRECTORY (a colon-separated list), if it set one."""
    first = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(first) if first else None


def _read_credentials(config: Config, text: str, path: Path) -> dict[str, BasicCredentials]:
    """Each feed's basic-auth credentials from its environment variable or file."""
    found = {}
    for index, feed in enumerate(config.feeds):
        if feed.basic_auth is not None:
            where = ("feeds", index, "basic_auth")
            username, password = _user_and_password(config, feed.basic_auth, text, path, where)
            found[feed.url] = BasicCredentials(username, password)
    return found


def _read_web_secret(config: Config, text: str, path: Path) -> WebSecret | None:
    """The web view's bearer token or basic-auth credentials, read as a feed's are."""
    web = config.web
    if web.basic_auth is not None:
        where = ("web", "basic_auth")
        username, password = _user_and_password(config, web.basic_auth, text, path, where)
        if not username or not password:  # as an empty token is: no guard at all
            key = (*where, "env" if web.basic_auth.env is not None else "file")
            _refuse(text, path, key, f"the {'user name' if not username else 'password'} is empty")
        return WebSecret("basic", username, password)
    if web.token is not None:
        token = _secret_line(config, web.token, text, path, ("web", "token"))
        if not token.strip():
            _refuse(text, path, ("web", "token", "env" if web.token.env else "file"), "the token is empty")
        return WebSecret("bearer", None, token.strip())
    return None


def _user_and_password(
    config: Config, source: BasicAuthConfig, text: str, path: Path, where: tuple[str | int, ...]
) -> tuple[str, str]:
    value = _secret_line(config, source, text, path, where)
    username, colon, password = value.partition(":")
    if not colon:  # the value itself is never repeated
        _refuse(text, path, (*where, "env" if source.env is not None else "file"), 'expected "user:password"')
    return username, password


def _secret_line(
    config: Config,
    source: BasicAuthConfig | SecretSource,
    text: str,
    path: Path,
    where: tuple[str | int, ...],
) -> str:
    """The secret in `source`'s environment variable, or the first line of its file;
    ConfigError naming the config's line when it cannot be read."""
    if source.env is not None:
        value = os.environ.get(source.env)
        if value is None:
            _refuse(text, path, (*where, "env"), f"environment variable {source.env} is not set")
        return value
    assert source.file is not None
    file = _credential_file(config, source.file)
    try:
        return file.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        problem = f"cannot read {file}: {exc if not isinstance(exc, IndexError) else 'empty'}"
        _refuse(text, path, (*where, "file"), problem)


def _refuse(text: str, path: Path, key: tuple[str | int, ...], problem: str) -> NoReturn:
    line = line_of(text, key)
    where = f"{path}:{line}" if line else str(path)
    name = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in key).lstrip(".")
    raise ConfigError(f"{where}: {name}: {problem}")


def _credential_file(config: Config, name: str) -> Path:
    """Where a basic-auth file is read. Under systemd, a relative name is first looked up among
    the unit's credentials (LoadCredential=, in $CREDENTIALS_DIRECTORY), so the file itself can
    stay readable by root alone; "/" reads as "_", the name systemd gives each file of a folder
    it loads. Otherwise, or when no such credential was loaded, it resolves against the config's
    folder."""
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and not Path(name).expanduser().is_absolute():
        loaded = Path(credentials) / "_".join(Path(name).parts)
        if loaded.is_file():
            return loaded
    return config.resolve_path(name)


def _reject_duplicate_feeds(feeds: list[FeedConfig], text: str, path: Path) -> None:
    seen: dict[str, int] = {}
    for index, feed in enumerate(feeds):
        if feed.url in seen:
            line = line_of(text, ("feeds", index, "url"))
            where = f"{path}:{line}" if line else str(path)
            raise ConfigError(
                f"{where}: feeds[{index}].url: {feed.url} is already listed as feeds[{seen[feed.url]}]"
            )
        seen[feed.url] = index
