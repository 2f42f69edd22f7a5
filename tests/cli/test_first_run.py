"""A first run: `feedd init` writes the commented example config where feedd then finds it, and
"no config found" lists where feedd looked; relative storage paths follow systemd's
$STATE_DIRECTORY; the example config and the units are inside the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from feedd.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def _feedd(*arguments: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedd", *arguments], capture_output=True, text=True, env=env, cwd=cwd
    )


def test_init_writes_the_example_where_feedd_then_finds_it(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    env.pop("FEEDD_CONFIG", None)
    missing = _feedd("status", env=env, cwd=tmp_path)
    assert missing.returncode == 2
    assert (
        f"no config found (looked in {tmp_path / 'xdg' / 'feedd' / 'feedd.toml'}, /etc/feedd/feedd.toml"
        in (missing.stderr)
    )
    written = tmp_path / "somewhere" / "feedd.toml"
    done = _feedd("init", str(written), env=env, cwd=tmp_path)
    assert done.returncode == 0 and f"feedd check-config -c {written}" in done.stdout
    assert written.read_text() == (ROOT / "config" / "feedd.toml").read_text()
    assert _feedd("init", str(written), env=env, cwd=tmp_path).returncode == 2  # never over an existing file
    if os.geteuid() != 0:  # root's default is /etc/feedd, not this test's to write
        assert _feedd("init", env=env, cwd=tmp_path).returncode == 0
        assert _feedd("check-config", env=env, cwd=tmp_path).returncode == 0


def test_relative_storage_paths_follow_state_directory(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "feedd.toml"
    config.parent.mkdir()
    config.write_text('[storage]\noutput_dir = "articles"\n[[feeds]]\nurl = "https://example.org/f.xml"\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STATE_DIRECTORY", f"{tmp_path / 'state'}:{tmp_path / 'other'}")
        loaded = load_config(config)
    assert loaded.output_dir == tmp_path / "state" / "articles"
    assert loaded.database == tmp_path / "state" / "feedd.sqlite3"
    assert load_config(config).output_dir == tmp_path / "etc" / "articles"


def test_the_wheel_carries_the_example_config_and_the_units(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("feedd-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"feedd/share/feedd.toml", "feedd/share/systemd/feedd.service"} <= names
