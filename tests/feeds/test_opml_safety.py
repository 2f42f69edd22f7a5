"""OPML files with DTDs that slip past a pattern, and import-opml's rewrite of a private config."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import dtd_evasions
from feedd.errors import OpmlError
from feedd.feeds import OpmlFeed, add_to_config, read_opml

_BODY = b'<opml version="2.0"><body><outline text="&a9;" xmlUrl="https://news.example/rss"/></body></opml>'
EVASIONS = dtd_evasions(b"opml", _BODY)


@pytest.mark.parametrize("document", EVASIONS.values(), ids=EVASIONS.keys())
def test_every_dtd_evasion_is_refused_at_once(document: bytes, tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_bytes(document)
    started = time.monotonic()
    with pytest.raises(OpmlError, match=r"feeds\.opml: declares XML entities or other DTD declarations"):
        read_opml(path)
    assert time.monotonic() - started < 0.5  # expanding the bomb took 0.7-1 s; refusing it takes ms


def test_an_opml_file_naming_an_external_dtd_is_read(tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_bytes(b'<!DOCTYPE opml SYSTEM "opml.dtd">' + _BODY.replace(b"&a9;", b"News"))
    assert list(read_opml(path).feeds) == [OpmlFeed("https://news.example/rss", "News")]


def _private_config(tmp_path: Path) -> Path:
    config = tmp_path / "feedd.toml"
    config.write_text('[[feeds]]\nurl = "https://user:secret@example.org/rss"\n')
    config.chmod(0o600)
    return config


def test_import_opml_keeps_a_private_config_private(tmp_path: Path) -> None:
    config = _private_config(tmp_path)
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(_BODY.replace(b"&a9;", b"News"))
    result = subprocess.run(
        [sys.executable, "-m", "feedd", "import-opml", str(opml), "-c", str(config)],
        capture_output=True,
        text=True,
        umask=0o022,  # the usual one, under which a new file comes out 0644
    )
    assert result.returncode == 0, result.stderr
    assert "1 feed(s) added" in result.stdout and "https://news.example/rss" in config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["feedd.toml", "feeds.opml"]  # no temp left


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_import_opml_keeps_the_config_s_owner(tmp_path: Path) -> None:
    config = _private_config(tmp_path)
    os.chown(config, 65534, 65534)
    add_to_config(config, [OpmlFeed("https://news.example/rss", "News")])
    status = config.stat()
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (65534, 65534, 0o600)


def test_import_opml_through_a_symlink_replaces_the_target(tmp_path: Path) -> None:
    config = _private_config(tmp_path)
    link = tmp_path / "link.toml"
    link.symlink_to(config)
    add_to_config(link, [OpmlFeed("https://news.example/rss", "News")])
    assert link.is_symlink() and "https://news.example/rss" in config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_outline_titles_lose_their_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    # C0 controls but tab and line feed are not XML; C1 ones and DEL are.
    path.write_bytes(_BODY.replace(b"&a9;", "News\x9b2J\x7f&#10;today".encode()))
    assert list(read_opml(path).feeds) == [OpmlFeed("https://news.example/rss", "News2J today")]
