"""Log lines for where they go, each with its fields: plain lines with an ISO time in a pipe,
the journal's priority prefix when stderr is the journal (JOURNAL_STREAM names its device and
inode), JSON objects with --log-format json; other libraries' chatter stays below -vv."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import LoopbackServer, rss, write_config


def _config(server: LoopbackServer, folder: Path) -> Path:
    gone = server.url("/gone")  # 404: the entry's own text stands in, which feedd logs at INFO
    feed = server.add(
        "/feed.xml",
        rss(
            [
                {
                    "title": "Quay walls",
                    "link": gone,
                    "description": "&lt;p&gt;Repairs to the quay walls ended.&lt;/p&gt;",
                }
            ]
        ),
        headers={"Content-Type": "application/rss+xml"},
    )
    return write_config(folder, [{"url": feed, "name": "Harbour News"}])


def _run(
    config: Path, *options: str, env: dict[str, str] | None = None, stderr_file: Path | None = None
) -> str:
    command = [sys.executable, "-m", "feedd", *options, "run-once", "-c", str(config)]
    if stderr_file is None:
        ran = subprocess.run(command, capture_output=True, text=True, env=env)
        assert ran.returncode == 0, ran.stderr
        return ran.stderr
    with open(stderr_file, "w") as handle:
        ran = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=handle, env=env)
    assert ran.returncode == 0
    return stderr_file.read_text()


def test_in_a_pipe_a_line_has_an_iso_time_and_its_fields(server: LoopbackServer, tmp_path: Path) -> None:
    lines = _run(_config(server, tmp_path), "-v").splitlines()
    (line,) = [line for line in lines if "saved from the feed's own text" in line]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 INFO feedd: ", line)
    assert 'feed="Harbour News"' in line and f"url={server.url('/gone')}" in line
    assert 'reason="page fetch failed: HTTP 404' in line
    assert not any("httpcore" in line or "asyncio" in line for line in lines)  # not below -vv


def test_json_records_carry_the_fields(server: LoopbackServer, tmp_path: Path) -> None:
    records = [
        json.loads(line)
        for line in _run(_config(server, tmp_path), "-v", "--log-format", "json").splitlines()
    ]
    (record,) = [r for r in records if "saved from the feed's own text" in r["message"]]
    assert record["level"] == "info" and record["logger"] == "feedd"
    assert record["feed"] == "Harbour News" and record["url"] == server.url("/gone")
    assert record["reason"].startswith("page fetch failed: HTTP 404")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", record["time"])


def test_the_journal_gets_priority_prefixes(server: LoopbackServer, tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    journal.touch()
    stat = os.stat(journal)
    env = {**os.environ, "JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"}
    lines = _run(_config(server, tmp_path), "-v", env=env, stderr_file=journal).splitlines()
    (line,) = [line for line in lines if "saved from the feed's own text" in line]
    assert line.startswith("<6>INFO feedd: ")  # journald keeps its own time
    # Another stream (a terminal, a pipe) is not the journal, whatever the variable says.
    (tmp_path / "again").mkdir()
    piped = _run(_config(server, tmp_path / "again"), "-v", env=env)
    assert not any(line.startswith("<") for line in piped.splitlines())


def test_the_group_s_options_are_accepted_after_the_command(server: LoopbackServer, tmp_path: Path) -> None:
    config = _config(server, tmp_path)
    ran = subprocess.run(
        [sys.executable, "-m", "feedd", "run-once", "-c", str(config), "--log-format", "json", "-v"],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    assert any(json.loads(line)["level"] == "info" for line in ran.stderr.splitlines())
