"""`feedd add` and `feedd remove`: the config edited in place (tomlkit: comments, order and
layout kept), validated before it replaces the file, and written with the file's own mode and
owner (a 0600 config holding headers stays 0600)."""

from __future__ import annotations

import os
from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Table

from feedd.config.load import parse_config
from feedd.config.redaction import redacted_url
from feedd.config.resolved import Config
from feedd.errors import ConfigError


def add_feed(path: Path, url: str, *, name: str | None = None, tags: tuple[str, ...] = ()) -> Config:
    """Append a [[feeds]] table for `url`; the config as it now reads."""
    document = _read(path)
    feeds = _feeds(document)
    if any(redacted_url(str(feed.get("url"))) == redacted_url(url) for feed in feeds):
        raise ConfigError(f"{path}: {url} is already in the config")
    if len(feeds):
        feeds[-1].add(tomlkit.nl())
    table = tomlkit.table()
    table["url"] = url
    if name:
        table["name"] = name
    if tags:
        table["tags"] = list(tags)
    feeds.append(table)
    return _write(path, document)


def remove_feed(path: Path, url_or_name: str) -> str:
    """Remove the [[feeds]] table whose URL (as written, or as feedd shows it: secrets masked) or
    name is `url_or_name`; its URL as feedd shows it."""
    document = _read(path)
    feeds = _feeds(document)
    matches = [
        index
        for index, feed in enumerate(feeds)
        if url_or_name in (feed.get("url"), redacted_url(str(feed.get("url"))), feed.get("name"))
    ]
    if not matches:
        raise ConfigError(f"{path}: no feed has the URL or name {url_or_name!r}")
    if len(matches) > 1:
        raise ConfigError(f"{path}: {len(matches)} feeds are named {url_or_name!r}: give the URL")
    url = redacted_url(str(feeds[matches[0]]["url"]))
    del feeds[matches[0]]
    if not feeds:
        raise ConfigError(f"{path}: {url} is the config's last feed; a config needs at least one")
    _write(path, document)
    return url


def _read(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}") from None
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _feeds(document: tomlkit.TOMLDocument) -> AoT:
    feeds = document.get("feeds")
    if feeds is None:
        feeds = tomlkit.aot()
        document.append("feeds", feeds)
    if not isinstance(feeds, AoT) or not all(isinstance(feed, Table) for feed in feeds):
        raise ConfigError("the config's feeds are not written as [[feeds]] tables: edit it by hand")
    return feeds


def _write(path: Path, document: tomlkit.TOMLDocument) -> Config:
    text = tomlkit.dumps(document)
    config = parse_config(text, path)  # a ConfigError leaves the file untouched
    replace_keeping_mode(path, text)
    return config


def replace_keeping_mode(path: Path, text: str) -> None:
    """Replace the file at once (a temporary file renamed over it), with its mode and owner: a
    config holding credentials is often 0600, and must not come back world-readable. A symlink
    stays one: its target is replaced."""
    path = path.resolve()
    old = path.stat()
    mode = old.st_mode & 0o7777
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Created with the old mode from the start, so it is never readable by more than the file was.
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o777)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            new = os.fstat(file.fileno())
            if (new.st_uid, new.st_gid) != (old.st_uid, old.st_gid):
                try:
                    os.fchown(
                        file.fileno(),
                        -1 if new.st_uid == old.st_uid else old.st_uid,
                        -1 if new.st_gid == old.st_gid else old.st_gid,
                    )
                except PermissionError:
                    raise ConfigError(
                        f"{path}: cannot keep its owner and group ({old.st_uid}:{old.st_gid}) in a "
                        "rewritten copy; run feedd as its owner, or edit it by hand"
                    ) from None
            os.fchmod(file.fileno(), mode)  # open() left out the bits the umask removes
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
