"""One pass over a busy host and a quick one, on loopback: every host polite, none waiting on
another, the per-host cap holding for feeds, robots.txt, redirects and pages alike."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd import load_config, run_once


def _serve_stories(host: LoopbackServer, prefix: str, count: int, **options: object) -> list[dict[str, str]]:
    items = []
    for n in range(count):
        link = host.add(
            # A seed per story that no other prefix shares (hash() of a str changes per process:
            # two prefixes' seeds overlapped now and then, and their stories were duplicates).
            f"/{prefix}/{n}",
            article_page(f"{prefix} story {n}", story(zlib.crc32(f"{prefix}/{n}".encode()))),
            **options,
        )
        items.append({"title": f"{prefix} {n}", "link": link, "guid": f"{prefix}-{n}"})
    return items


def test_a_busy_host_s_turns_do_not_hold_up_a_quick_host(
    server: LoopbackServer, other_host: LoopbackServer, tmp_path: Path
) -> None:
    busy = server.add("/busy.xml", rss(_serve_stories(server, "busy", 10)))
    quick = other_host.add("/quick.xml", rss(_serve_stories(other_host, "quick", 3)))
    config = write_config(tmp_path, [{"url": busy}, {"url": quick}])
    fetch = 'host_gap = "300ms"\nmax_connections = 2\n'
    config.write_text(config.read_text().replace('host_gap = "0s"\n', fetch), encoding="utf-8")
    summary = run_once(load_config(config))
    assert (summary.saved, summary.failed) == (13, 0)
    started = min(server.request_times)
    quick_done = max(other_host.request_times)
    busy_done = max(server.request_times)
    # The busy host needs about 3.3 s (feed, robots.txt and ten pages, 0.3 s apart); the quick
    # host's five requests need about a second of their own gaps, whatever the busy host does.
    assert busy_done - started >= 3.2
    assert quick_done - started < 1.8, f"quick host finished {quick_done - started:.1f}s in"


def test_max_per_host_holds_for_feeds_robots_txt_redirects_and_pages(
    server: LoopbackServer, tmp_path: Path
) -> None:
    server.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"}, delay=0.3)
    feeds = []
    for feed in range(3):
        items = _serve_stories(server, f"f{feed}", 5, delay=0.2)
        for item in items:
            path = item["link"].split("/", 3)[3]
            item["link"] = server.add(f"/go/{path}", status=302, headers={"Location": f"/{path}"}, delay=0.1)
        feeds.append({"url": server.add(f"/feed{feed}.xml", rss(items), delay=0.3)})
    config = write_config(tmp_path, feeds, extra="")
    config.write_text(
        config.read_text().replace("[fetch]\n", "[fetch]\nmax_per_host = 2\n"), encoding="utf-8"
    )
    summary = run_once(load_config(config))
    assert (summary.saved, summary.failed) == (15, 0)
    assert server.hits("/robots.txt") == 1
    assert server.max_active == 2


def test_status_shows_each_host_s_queue_while_a_pass_runs(server: LoopbackServer, tmp_path: Path) -> None:
    feed = server.add("/busy.xml", rss(_serve_stories(server, "busy", 8)))
    config = write_config(tmp_path, [{"url": feed}])
    config.write_text(config.read_text().replace('host_gap = "0s"', 'host_gap = "700ms"'), encoding="utf-8")
    feedd = [sys.executable, "-m", "feedd"]
    run = subprocess.Popen([*feedd, "run-once", "-c", str(config)], stdout=subprocess.DEVNULL)
    seen: list[dict[str, object]] = []
    try:
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            status = subprocess.run(
                [*feedd, "status", "-c", str(config), "--hosts", "--json"], capture_output=True, text=True
            )
            seen = [row for line in status.stdout.splitlines() if (row := json.loads(line))["queued"]]
            time.sleep(0.3)
    finally:
        assert run.wait(timeout=30) == 0
    [row] = seen
    assert row["host"] == "127.0.0.1" and row["gap"] == pytest.approx(0.7)
    assert 0 < row["queued"] <= 8 and row["started"] >= 2
    assert row["next_allowed"] >= row["as_of"]
    after = subprocess.run([*feedd, "status", "-c", str(config), "--hosts"], capture_output=True, text=True)
    assert "no requests waiting" in after.stdout
