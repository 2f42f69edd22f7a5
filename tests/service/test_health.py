"""`feedd health` and the daemon's /healthz: healthy after good polls, unhealthy (exit 1, HTTP
503) when every feed fails or the state cannot be written; /metrics stays beside it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd.config import load_config
from feedd.service import check_health


def _health(config: Path) -> tuple[int, dict[str, object]]:
    ran = subprocess.run(
        [sys.executable, "-m", "feedd", "health", "--json", "-c", str(config)], capture_output=True, text=True
    )
    return ran.returncode, json.loads(ran.stdout)


def _feed(server: LoopbackServer) -> str:
    page = server.add("/story", article_page("Harbour reopens", story(9)))
    return server.add(
        "/feed.xml",
        rss([{"title": "Harbour reopens", "link": page}]),
        headers={"Content-Type": "application/rss+xml"},
    )


def test_feedd_health_exit_codes(server: LoopbackServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"url": _feed(server)}])
    subprocess.run(
        [sys.executable, "-m", "feedd", "run-once", "-c", str(config)], check=True, capture_output=True
    )
    code, found = _health(config)
    assert code == 0 and found["healthy"] is True and found["feeds_in_error"] == 0
    assert found["last_successful_poll"] is not None and found["state_writable"] is True

    (tmp_path / "broken").mkdir()
    broken = write_config(tmp_path / "broken", [{"url": server.url("/missing.xml")}])
    subprocess.run([sys.executable, "-m", "feedd", "run-once", "-c", str(broken)], capture_output=True)
    code, found = _health(broken)
    assert code == 1 and "every feed's last poll failed (1 of 1)" in found["problems"]

    (tmp_path / "out").rename(tmp_path / "moved")
    (tmp_path / "out").write_text("a file where the documents go")
    code, found = _health(config)
    assert code == 1 and found["state_writable"] is False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_daemon_answers_healthz_beside_metrics(server: LoopbackServer, tmp_path: Path) -> None:
    port = _free_port()
    extra = f'[metrics]\nlisten = "127.0.0.1:{port}"\n[schedule]\ninterval = "1h"\n'
    config = write_config(tmp_path, [{"url": _feed(server)}], extra=extra)
    daemon = subprocess.Popen(
        [sys.executable, "-m", "feedd", "run", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    status, found = answer.status, json.loads(answer.read())
                if found["last_successful_poll"] and server.hits("/feed.xml"):
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert time.monotonic() < deadline, "no /healthz answer"
            time.sleep(0.2)
        assert status == 200 and found["healthy"] is True and found["feeds"] == 1
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
            assert b"feedd_polls_total" in answer.read()
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)


def test_a_quiet_feed_polled_hourly_is_not_a_stalled_daemon(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, [{"url": "https://example.org/f.xml", "interval": "2h"}]))
    now = datetime.now(UTC)
    assert check_health(config, last_successful_poll=now - timedelta(minutes=40), feeds_in_error=0).healthy
    stalled = check_health(config, last_successful_poll=now - timedelta(hours=25), feeds_in_error=0)
    assert not stalled.healthy and "no feed polled successfully since" in stalled.problems[0]
