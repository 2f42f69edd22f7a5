"""The `feedd` command as users and their scripts call it: arguments, output, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

from rich.console import Console
from rich.table import Table

from conftest import LoopbackServer, article_page, rss, write_config
from feedd.cli.views import drops_listing, explanation_paragraphs, hosts_listing, shown
from feedd.config import DedupConfig
from feedd.state import Drop, Explanation, HostQueue


def feedd(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedd", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
    )


def test_check_config_ok(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"url": "https://example.org/rss"}])
    result = feedd("check-config", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "OK, 1 feed(s)" in result.stdout


def test_bad_config_exits_2_naming_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[feeds]]\nurl = "https://example.org/rss"\ncolour = "red"\n')
    for command in ("check-config", "run-once"):
        result = feedd(command, "-c", str(config))
        assert result.returncode == 2
        assert f"{config}:3: feeds[0].colour: unknown key" in result.stderr


def test_missing_config_and_bad_usage_exit_2(tmp_path: Path) -> None:
    assert feedd("check-config", "-c", str(tmp_path / "none.toml")).returncode == 2
    assert feedd("run-once", "--no-such-option").returncode == 2


def test_config_from_environment(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"url": "https://example.org/rss"}, {"url": "https://example.org/2"}])
    result = feedd("check-config", env={"FEEDD_CONFIG": str(config)})
    assert result.returncode == 0 and "2 feed(s)" in result.stdout


def test_run_once_saves_and_summarises(server: LoopbackServer, tmp_path: Path) -> None:
    page = server.add(
        "/a",
        article_page("Harbour reopens", ["The harbour reopened on Monday after repairs.", "Ferries resume."]),
    )
    feed = server.add("/rss", rss([{"title": "Harbour reopens", "link": page, "guid": "1"}]))
    result = feedd("run-once", "-c", str(write_config(tmp_path, [{"url": feed}])))
    assert result.returncode == 0, result.stderr
    assert (
        "1 polled, 0 not modified, 0 failed; entries: 1 new, 1 saved, 0 duplicate, 0 failed" in result.stdout
    )
    assert len(list((tmp_path / "out").glob("000_*.txt"))) == 1


def test_every_feed_failing_exits_1_with_reasons(server: LoopbackServer, tmp_path: Path) -> None:
    feeds = [
        {"url": server.url("/missing"), "name": "Gone"},
        {"url": server.add("/html", "<html></html>"), "name": "Page"},
    ]
    result = feedd("run-once", "-c", str(write_config(tmp_path, feeds)))
    assert result.returncode == 1
    assert "Gone" in result.stdout and "HTTP 404" in result.stdout
    assert "not a feed" in result.stdout


def test_some_feeds_failing_still_exits_0(server: LoopbackServer, tmp_path: Path) -> None:
    page = server.add(
        "/a", article_page("Harbour reopens", ["The harbour reopened on Monday after repairs."])
    )
    good = server.add("/rss", rss([{"title": "Harbour reopens", "link": page, "guid": "1"}]))
    result = feedd(
        "run-once", "-c", str(write_config(tmp_path, [{"url": good}, {"url": server.url("/nope")}]))
    )
    assert result.returncode == 0
    assert "1 failed" in result.stdout


def test_locked_state_exits_2(server: LoopbackServer, tmp_path: Path) -> None:
    from feedd.state import State

    config = write_config(tmp_path, [{"url": server.url("/rss")}])
    with State(tmp_path / "state.sqlite3", tmp_path / "out", "{seq:03d}_{id}.txt"):
        result = feedd("run-once", "-c", str(config))
    assert result.returncode == 2 and "another feedd process" in result.stderr


def test_explaining_an_unknown_document_exits_3(server: LoopbackServer, tmp_path: Path) -> None:
    """Not found has its own code: 1 means every feed failed, and a script must tell them apart."""
    config = str(write_config(tmp_path, [{"url": server.url("/missing")}]))
    assert feedd("run-once", "-c", config).returncode == 1
    result = feedd("explain", "https://example.org/never-seen", "-c", config)
    assert result.returncode == 3
    assert result.stdout == "feedd has no document or entry 'https://example.org/never-seen'\n"


def test_version() -> None:
    result = feedd("--version")
    assert result.returncode == 0 and result.stdout.startswith("feedd ")


def test_unwritable_output_folder_exits_2_with_the_reason(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"url": "https://example.org/rss"}])
    config.write_text(config.read_text().replace('output_dir = "out"', 'output_dir = "/proc/feedd-output"'))
    result = feedd("run-once", "-c", str(config))
    assert result.returncode == 2
    assert "cannot create output_dir /proc/feedd-output" in result.stderr


def test_proxy_credentials_are_used_but_never_logged(server: LoopbackServer, tmp_path: Path) -> None:
    """The [fetch] proxy carries its user and password to the proxy, and nowhere else:
    not in the output, the logs at debug level, nor the state, whether the proxy helps or refuses."""
    import base64
    import sqlite3

    secret = "s3cret-Pa55"
    expected_auth = "Basic " + base64.b64encode(f"reader:{secret}".encode()).decode()
    # Nothing listens on the origin's port: only the proxy (the loopback server) can answer.
    origin = "http://127.0.0.1:9"
    page = article_page("Harbour reopens", ["The harbour reopened on Monday after repairs."])
    server.add(f"{origin}/a", page)
    feed_xml = rss([{"title": "Harbour reopens", "link": f"{origin}/a", "guid": "1"}])
    server.add(f"{origin}/rss", feed_xml)
    proxy = server.url("").replace("http://", f"http://reader:{secret}@")
    config = write_config(tmp_path, [{"url": f"{origin}/rss"}, {"url": f"{origin}/refused"}])
    server.add(f"{origin}/refused", "proxy says no", status=407)

    config.write_text(config.read_text().replace("[fetch]\n", f'[fetch]\nproxy = "{proxy}"\n', 1))
    result = feedd("-vv", "--log-format", "json", "run-once", "-c", str(config))
    status = feedd("status", "--json", "-c", str(config))

    assert result.returncode == 0, result.stderr
    assert "1 saved" in result.stdout and "407" in result.stdout
    # The two feeds, the site's robots.txt and the article page, all through the proxy.
    assert len(server.requests) == 4
    assert [headers.get("proxy-authorization") for _, headers in server.requests] == [expected_auth] * 4
    state = "\n".join(
        str(row)
        for table in ("feeds", "entries")
        for row in sqlite3.connect(tmp_path / "state.sqlite3").execute(
            f"SELECT * FROM {table}"  # noqa: S608 - fixed table names
        )
    )
    for where in (result.stdout, result.stderr, status.stdout, state):
        assert secret not in where and base64.b64encode(secret.encode()).decode() not in where


def test_the_command_module_stays_light() -> None:
    """multiprocessing imports the main module again in every extraction worker: the module
    behind the `feedd` script must not pull the CLI, the scheduler or the dedup index in."""
    heavy = ("feedd.cli.app", "feedd.dedup.near", "scipy")
    probe = f"import sys, feedd.__main__; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_document_that_cannot_be_written_exits_1_and_is_saved_by_the_next_pass(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """The tests run as root, so permissions cannot refuse a write. The file name template puts
    each document in a folder named after its seq, and a regular file already sits where the first
    document's folder must be made: creating that folder fails (FileExistsError), so the write
    truly fails. Once the file is moved away, the next pass finishes the save."""
    page = server.add(
        "/a", article_page("Harbour reopens", ["The harbour reopened on Monday after repairs."])
    )
    feed = server.add("/rss", rss([{"title": "Harbour reopens", "link": page, "guid": "1"}]))
    config = write_config(tmp_path, [{"url": feed}], extra="")
    config.write_text(config.read_text().replace("[fetch]", 'filename = "{seq:03d}/{id}.txt"\n[fetch]', 1))
    out = tmp_path / "out"
    out.mkdir()
    obstacle = out / "000"
    obstacle.write_text("in the way")

    failed = feedd("run-once", "-c", str(config))
    assert failed.returncode == 1, failed.stderr
    assert f"cannot write {obstacle}/" in failed.stderr
    assert "saved by the next pass" in failed.stderr
    assert obstacle.read_text() == "in the way"

    obstacle.unlink()
    again = feedd("run-once", "-c", str(config))
    assert again.returncode == 0, again.stderr
    [document] = (out / "000").glob("*.txt")
    assert document.read_text().startswith("Harbour reopens\n\n")
    [line] = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert (line["seq"], line["file"], line["url"]) == (0, f"000/{document.name}", page)


def test_sigint_stops_feedd_run_with_exit_0(server: LoopbackServer, tmp_path: Path) -> None:
    page = server.add(
        "/a", article_page("Harbour reopens", ["The harbour reopened on Monday after repairs."])
    )
    feed = server.add("/rss", rss([{"title": "Harbour reopens", "link": page, "guid": "1"}]))
    config = write_config(tmp_path, [{"url": feed}])
    daemon = subprocess.Popen(
        [sys.executable, "-m", "feedd", "run", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        # Interrupt once the daemon is at work: its first document is saved.
        deadline = time.monotonic() + 60
        while not list((tmp_path / "out").glob("*.txt")) and time.monotonic() < deadline:
            assert daemon.poll() is None, daemon.communicate()
            time.sleep(0.05)
        daemon.send_signal(signal.SIGINT)
        stdout, stderr = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert daemon.returncode == 0, stderr
    assert "stopped" in stderr and "interrupted" not in stderr


def test_an_output_folder_that_is_a_file_exits_2_with_the_reason(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"url": "https://example.org/rss"}])
    (tmp_path / "out").write_text("not a folder")
    for command in ("run-once", "run"):
        result = feedd(command, "-c", str(config))
        assert result.returncode == 2, (command, result.stderr)
        assert f"output_dir {tmp_path / 'out'} exists and is not a folder" in result.stderr, (
            command,
            result.stderr,
        )
    assert (tmp_path / "out").read_text() == "not a folder"


def test_a_hosts_snapshot_left_by_a_killed_feedd_is_marked_old() -> None:
    def snapshot(age: timedelta) -> HostQueue:
        as_of = datetime.now(UTC) - age
        return HostQueue("example.org", 3, 1, as_of, 0.5, 10, 2.0, as_of)

    assert "still running" in str(hosts_listing([snapshot(timedelta(minutes=5))]).title)
    assert "still running" not in str(hosts_listing([snapshot(timedelta(seconds=1))]).title)


def test_control_characters_from_feeds_never_reach_the_terminal() -> None:
    hostile = "Breaking\x1b[2J\x1b]0;pwned\x07 news\x9b31m"
    drop = Drop(
        detected=datetime(2026, 12, 3, tzinfo=UTC),
        feed="https://x.example/feed",
        feed_name=None,
        link="https://x.example/a\x1b[2J",
        title=hostile,
        canonical_url=None,
        duplicate_of="0123456789abcdef",
        kept_file=None,
        reason="near duplicate",
        jaccard=0.9,
        containment=1.0,
    )
    screen = StringIO()
    console = Console(file=screen, force_terminal=True, width=200)
    listing = drops_listing([drop])
    table = Table(*listing.columns)
    for row in listing.rows:
        table.add_row(*(shown(cell) for cell in row))
    console.print(table)
    for paragraph in explanation_paragraphs(Explanation("q", None, (drop,)), DedupConfig()):
        console.print(paragraph, markup=False, highlight=False)
    printed = screen.getvalue()
    # Rich's own styling uses ESC[...m; none of the feed's sequences may pass.
    assert (
        "\x1b[2J" not in printed
        and "\x1b]0;" not in printed
        and "\x07" not in printed
        and "\x9b" not in printed
    )
    assert "\\x1b[2J" in printed and "\\x9b31m" in printed
