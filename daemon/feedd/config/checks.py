"""What `feedd check-config` looks at beyond the file itself: whether the folders it names can be
written (an output_dir that is a file passed validation and failed at run time), and the
effective config, defaults included, for `--dump` and editors (`--schema`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import tomlkit

from feedd.config.model import ConfigDocument
from feedd.config.redaction import MASK, redacted_url
from feedd.config.resolved import Config


def path_problems(config: Config) -> list[str]:
    """One line per folder feedd could not write: output_dir, and the database's folder."""
    problems = []
    for key, folder in (
        ("storage.output_dir", config.output_dir),
        ("storage.database", config.database.parent),
    ):
        if problem := _unwritable(folder):
            problems.append(f"{config.path}: {key}: {folder} {problem}")
    return problems


def _unwritable(folder: Path) -> str | None:
    if folder.exists():
        if not folder.is_dir():
            return "exists and is not a folder"
        return None if os.access(folder, os.W_OK | os.X_OK) else "is not writable"
    existing = next((parent for parent in folder.parents if parent.exists()), None)
    if existing is None or not existing.is_dir():
        return f"cannot be created ({existing} is not a folder)"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot be created ({existing} is not writable)"
    return None


def effective_toml(config: Config) -> str:
    """The config as feedd reads it, every default written out. Secrets are masked (feed URLs'
    credentials, header values, the proxy's and Redis's passwords): to read, not to load back."""
    data: dict[str, Any] = {}
    for section in ("storage", "fetch", "extract", "dedup", "schedule", "metrics", "cluster", "web"):
        data[section] = _plain(getattr(config, section).model_dump(mode="json", exclude_none=True))
    if proxy := data["fetch"].get("proxy"):
        data["fetch"]["proxy"] = redacted_url(proxy)
    if "://" in (backend := data["dedup"].get("backend", "")):
        data["dedup"]["backend"] = redacted_url(backend)
    feeds = []
    for feed in config.feeds:
        entry = _plain(feed.model_dump(mode="json", exclude_none=True))
        entry["headers"] = {name: MASK for name in entry.get("headers", {})}
        feeds.append(entry)
    data["feeds"] = feeds
    return tomlkit.dumps(data)


def config_schema() -> str:
    """JSON Schema of the config file, for editors (taplo, VS Code's Even Better TOML)."""
    schema = ConfigDocument.model_json_schema(by_alias=True)
    schema["title"] = "feedd config"
    return json.dumps(schema, indent=2)


def _plain(value: Any) -> Any:
    """TOML has no null: keys without a value are left out."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
