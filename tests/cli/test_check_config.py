"""`feedd check-config`: folders that cannot be written are errors before any run; `--dump`
prints the effective config with its defaults (secrets masked); `--schema` the JSON Schema."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

from conftest import write_config


def _check(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedd", "check-config", *arguments], capture_output=True, text=True
    )


def test_an_output_dir_that_is_a_file_fails_the_check(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"url": "https://example.org/feed.xml"}])
    (tmp_path / "out").write_text("not a folder")
    checked = _check("-c", str(config))
    assert checked.returncode == 2
    assert f"storage.output_dir: {tmp_path / 'out'} exists and is not a folder" in checked.stderr


def test_dump_writes_every_default_and_masks_secrets(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"url": "https://reader:pw@example.org/feed.xml?token=abc"}])
    config.write_text(config.read_text() + 'headers = { "X-Api-Key" = "k3y" }\n')
    dumped = _check("-c", str(config), "--dump")
    assert dumped.returncode == 0, dumped.stderr
    effective = tomllib.loads(dumped.stdout)
    assert effective["dedup"]["copied_share"] == 0.55 and effective["fetch"]["max_per_host"] == 2
    assert effective["fetch"]["host_gap"] == 0  # written in the test config
    (feed,) = effective["feeds"]
    assert feed["url"] == "https://***@example.org/feed.xml?token=***" and feed["headers"] == {
        "X-Api-Key": "***"
    }
    assert "pw" not in dumped.stdout and "abc" not in dumped.stdout and "k3y" not in dumped.stdout


def test_schema_is_json_schema_of_the_config() -> None:
    schema = json.loads(_check("--schema").stdout)
    assert schema["type"] == "object" and {"feeds", "fetch", "dedup"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
