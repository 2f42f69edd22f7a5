"""A pass killed at random moments and run again ends exactly like a pass never interrupted."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd import load_config, run_once

STORIES = 75


def _world(server: LoopbackServer) -> list[dict[str, str]]:
    feeds = []
    for f in range(3):
        items = []
        for n in range(f * STORIES // 3, (f + 1) * STORIES // 3):
            paragraphs = story(n)
            url = server.add(f"/s/{n}", article_page(f"Story number {n}", paragraphs), delay=0.05)
            items.append({"title": f"Story number {n}", "link": url, "guid": f"story-{n}"})
        # With an ETag: a pass that stored the validators before committing its entries would
        # lose them to a 304 on the next run.
        url = server.add(
            f"/feed/{f}", rss(items), etag=f'"{f}"', headers={"Content-Type": "application/rss+xml"}
        )
        feeds.append({"url": url})
    return feeds


def _count(folder: Path) -> int:
    return len(list((folder / "out").glob("*.txt"))) if (folder / "out").exists() else 0


def _snapshot(folder: Path) -> tuple[dict[str, bytes], list[dict]]:
    out = folder / "out"
    files = {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and p.name != "manifest.jsonl"
    }
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    for line in manifest:
        line.pop("fetched")
    return files, manifest


def test_killed_passes_lose_nothing_and_write_nothing_twice(server: LoopbackServer, tmp_path: Path) -> None:
    feeds = _world(server)
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    clean.mkdir()
    crashed.mkdir()
    run_once(load_config(write_config(clean, feeds)))
    config = write_config(crashed, feeds)
    rng = random.Random(20261127)
    progress_at_kills: list[int] = []
    saved = 0
    for _ in range(STORIES):
        process = subprocess.Popen(
            [sys.executable, "-m", "feedd", "run-once", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # Kill once one or two more documents have landed, plus a random moment: mid-save included.
        target = saved + rng.randint(1, 2)
        deadline = time.monotonic() + 120
        while process.poll() is None and _count(crashed) < target:
            assert time.monotonic() < deadline, f"no new document within 120 s ({saved} saved)"
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.02))
        if process.poll() is not None:
            break  # the pass finished before the kill
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        saved = _count(crashed)
        progress_at_kills.append(saved)
    final = subprocess.run(
        [sys.executable, "-m", "feedd", "run-once", "-c", str(config)], capture_output=True, text=True
    )
    assert final.returncode == 0, final.stderr
    # Each kill waited for more documents to land, so the kills step through the whole pass: from
    # its first documents to its last third, each at a later point than the one before.
    assert progress_at_kills == sorted(set(progress_at_kills)), progress_at_kills
    assert len(progress_at_kills) >= 5, progress_at_kills
    assert 0 < progress_at_kills[0] <= STORIES // 3, progress_at_kills
    assert progress_at_kills[-1] >= 2 * STORIES // 3, progress_at_kills
    clean_files, clean_manifest = _snapshot(clean)
    crashed_files, crashed_manifest = _snapshot(crashed)
    assert len(clean_files) == STORIES
    assert crashed_files == clean_files  # same names (so same seq), same bytes, no temp files
    assert crashed_manifest == clean_manifest  # one line per document, in seq order
