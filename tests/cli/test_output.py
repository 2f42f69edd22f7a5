"""Output that fits where it goes: in a pipe, one line per record, tab-separated, never wrapped
or cut; on a terminal (a real pseudo-terminal here), Rich tables."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd.cli.views import duration

LONG_NAME = "The Harbour and Riverside Evening Chronicle, Local News Desk, Late Edition"


def _config(server: LoopbackServer, folder: Path) -> Path:
    page = server.add("/story", article_page("Harbour reopens", story(7)))
    feed = server.add(
        "/feed.xml",
        rss([{"title": "Harbour reopens", "link": page}]),
        headers={"Content-Type": "application/rss+xml"},
    )
    return write_config(folder, [{"url": feed, "name": LONG_NAME}])


def _feedd(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "feedd", *arguments]


def test_in_a_pipe_every_record_is_one_whole_line(server: LoopbackServer, tmp_path: Path) -> None:
    config = _config(server, tmp_path)
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    ran = subprocess.run(_feedd("run-once", "-c", str(config)), capture_output=True, text=True, env=env)
    assert ran.returncode == 0, ran.stderr
    (summary,) = ran.stdout.splitlines()  # one line, however long
    assert summary.startswith("feeds: 1 polled") and "1 saved" in summary

    status = subprocess.run(_feedd("status", "-c", str(config)), capture_output=True, text=True, env=env)
    header, row = status.stdout.splitlines()[:2]
    assert header.split("\t")[:3] == ["feed", "last poll", "result"]
    cells = row.split("\t")
    assert cells[0] == LONG_NAME and cells[2] == "ok" and "…" not in row

    dups = subprocess.run(_feedd("dups", "-c", str(config)), capture_output=True, text=True, env=env)
    assert dups.stdout == "no duplicates dropped yet\n"


def test_on_a_terminal_it_is_a_table(server: LoopbackServer, tmp_path: Path) -> None:
    config = _config(server, tmp_path)
    subprocess.run(_feedd("run-once", "-c", str(config)), capture_output=True, check=True)
    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    process = subprocess.Popen(
        _feedd("status", "-c", str(config)), stdout=terminal, stderr=terminal, stdin=terminal, env=env
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=30) == 0
    os.close(controller)
    drawn = b"".join(chunks).decode("utf-8", "replace")
    assert "┃" in drawn or "│" in drawn  # a Rich table's rules
    assert LONG_NAME in drawn


def test_intervals_read_as_durations() -> None:
    assert [duration(seconds) for seconds in (973, 7200, 90061, 0.4)] == ["16m13s", "2h", "1d1h1m1s", "0s"]


def test_run_once_json_is_one_object_of_the_documented_shape(server: LoopbackServer, tmp_path: Path) -> None:
    page = server.add("/story", article_page("Harbour reopens", story(8)))
    feed = server.add(
        "/feed.xml",
        rss([{"title": "Harbour reopens", "link": page}]),
        headers={"Content-Type": "application/rss+xml"},
    )
    own = server.add(
        "/own.xml",
        rss(
            [
                {
                    "title": "Quay",
                    "link": server.url("/gone"),
                    "description": "&lt;p&gt;Quay walls repaired.&lt;/p&gt;",
                }
            ]
        ),
        headers={"Content-Type": "application/rss+xml"},
    )
    config = write_config(
        tmp_path, [{"url": feed, "name": "Harbour"}, {"url": own, "fetch_article": "false"}]
    )
    config.write_text(config.read_text().replace('fetch_article = "false"', "fetch_article = false"))
    ran = subprocess.run(_feedd("run-once", "--json", "-c", str(config)), capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    (line,) = ran.stdout.splitlines()
    record = json.loads(line)
    assert set(record) == {
        "started", "finished", "feeds_polled", "feeds_not_modified", "feeds_failed", "entries_new",
        "saved", "duplicate", "failed", "filtered", "waiting", "from_feed_text", "feeds",
    }  # fmt: skip
    assert (record["feeds_polled"], record["saved"]) == (2, 2)
    assert record["from_feed_text"] == {"feed has fetch_article = false": 1}
    first, second = record["feeds"]
    assert (first["name"], first["url"], first["result"], first["saved"]) == ("Harbour", feed, "ok", 1)
    assert second["from_feed_text"] == {"feed has fetch_article = false": 1} and second["failures"] == []


def test_explain_takes_a_file_name_or_a_seq_and_names_feeds_by_name(
    server: LoopbackServer, tmp_path: Path
) -> None:
    config = _config(server, tmp_path)
    subprocess.run(_feedd("run-once", "-c", str(config)), capture_output=True, check=True)
    (document,) = (tmp_path / "out").glob("*.txt")
    by_name = subprocess.run(
        _feedd("explain", document.name, "-c", str(config)), capture_output=True, text=True
    )
    by_path = subprocess.run(
        _feedd("explain", str(document), "-c", str(config)), capture_output=True, text=True
    )
    by_seq = subprocess.run(_feedd("explain", "0", "-c", str(config)), capture_output=True, text=True)
    assert by_name.returncode == by_path.returncode == by_seq.returncode == 0, by_name.stderr
    assert by_name.stdout == by_path.stdout == by_seq.stdout
    assert f"kept: {document.name}" in by_name.stdout and f"from {LONG_NAME}." in by_name.stdout
    missing = subprocess.run(
        _feedd("explain", "nothing-like-it", "-c", str(config)), capture_output=True, text=True
    )
    assert missing.returncode == 3 and "no document or entry" in missing.stdout


def test_a_failed_feed_is_reported_once(server: LoopbackServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"url": server.url("/missing.xml"), "name": "Gone Daily"}])
    ran = subprocess.run(_feedd("run-once", "-c", str(config)), capture_output=True, text=True)
    assert ran.returncode == 1
    assert (ran.stdout + ran.stderr).count("Gone Daily") == 1
    assert "Gone Daily\tfeed failed: HTTP 404" in ran.stdout


def test_a_web_page_configured_as_a_feed_names_the_feeds_it_announces(
    server: LoopbackServer, tmp_path: Path
) -> None:
    feed = server.add(
        "/news/rss.xml",
        rss([{"title": "x", "link": server.url("/x")}]),
        headers={"Content-Type": "application/rss+xml"},
    )
    page = server.add(
        "/",
        f'<html><head><link rel="alternate" type="application/rss+xml" href="{feed}"></head>'
        "<body>Hi</body></html>",
    )
    config = write_config(tmp_path, [{"url": page, "name": "Homepage"}])
    ran = subprocess.run(_feedd("run-once", "-c", str(config)), capture_output=True, text=True)
    assert ran.returncode == 1
    assert f"the page announces {feed}: use one as the feed (feedd add URL)" in ran.stdout
