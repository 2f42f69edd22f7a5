"""End to end through `feedd run-once`: wire copies spread over feeds and passes are dropped,
independent write-ups of the same event are kept, and every drop can be explained."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd import load_config, run_once
from feedd.feeds import document_id

WIRE = story(2026, paragraphs=10)  # the agency's story
QUOTE = "Officials said the bridge would reopen next week after safety checks were completed."


def _copies() -> dict[str, tuple[str, list[str]]]:
    return {
        "original": ("Bridge closes after storm", WIRE),
        "retitled": ("Storm shuts bridge for days", WIRE),
        "trimmed": ("Bridge closes after storm", WIRE[:6]),
        "relead": ("Bridge closes", ["(AFP) — " + WIRE[1]] + WIRE[2:]),
        "extended": (
            "Bridge closes after storm (update)",
            ["UPDATE: adds mayor's comment."] + WIRE + ["Reporting by AFP."],
        ),
        "brief": ("Bridge closed", WIRE[:2]),
        # An outlet's own story on the same event, quoting one sentence of the wire: not a copy.
        "own": ("Our reporter at the bridge", story(77, paragraphs=6) + [QUOTE]),
    }


def _serve(server: LoopbackServer, names: list[str], feed_path: str) -> str:
    items = []
    for name in names:
        title, paragraphs = _copies()[name]
        if name == "original":
            paragraphs = [*paragraphs, QUOTE]
        url = server.add(f"/{feed_path}/{name}", article_page(title, paragraphs))
        items.append({"title": title, "link": url, "guid": f"{feed_path}-{name}"})
    return server.add(f"/{feed_path}.xml", rss(items), headers={"Content-Type": "application/rss+xml"})


def test_copies_across_feeds_and_restarts_are_dropped(server: LoopbackServer, tmp_path: Path) -> None:
    feed_a = _serve(server, ["original", "retitled"], "a")
    feed_b = _serve(server, ["trimmed", "own"], "b")
    config_path = write_config(
        tmp_path, [{"url": feed_a}, {"url": feed_b}], extra="[dedup]\nlog_duplicates = true"
    )
    first = run_once(load_config(config_path))
    assert (first.saved, first.duplicate) == (2, 2)  # original and "own" kept

    # A new pass (a new process in real life: the index is rebuilt from the state).
    feed_c = _serve(server, ["relead", "extended", "brief"], "c")
    config_path.write_text(config_path.read_text() + f'[[feeds]]\nurl = "{feed_c}"\n')
    second = run_once(load_config(config_path))
    assert (second.saved, second.duplicate) == (0, 3)

    manifest = [json.loads(line) for line in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert [line["title"] for line in manifest] == ["Bridge closes after storm", "Our reporter at the bridge"]
    original_id = manifest[0]["id"]
    drops = [json.loads(line) for line in (tmp_path / "out" / "duplicates.jsonl").read_text().splitlines()]
    assert len(drops) == 5 and {d["duplicate_of"] for d in drops} == {original_id}
    by_title = {d["title"]: d for d in drops}
    assert by_title["Bridge closed"]["containment"] > 0.9 and by_title["Bridge closed"]["jaccard"] < 0.5
    assert by_title["Storm shuts bridge for days"]["jaccard"] > 0.9

    env = {**os.environ, "COLUMNS": "250"}
    dups = subprocess.run(
        [sys.executable, "-m", "feedd", "dups", "-c", str(config_path), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert dups.returncode == 0, dups.stderr
    listed = [json.loads(line) for line in dups.stdout.splitlines()]
    assert len(listed) == 5 and listed[0]["title"] in {
        "Bridge closes",
        "Bridge closes after storm (update)",
        "Bridge closed",
    }
    assert all(entry["kept_file"] == manifest[0]["file"] for entry in listed)

    brief_url = server.url("/c/brief")
    explained = subprocess.run(
        [sys.executable, "-m", "feedd", "explain", brief_url, "-c", str(config_path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert explained.returncode == 0, explained.stderr
    assert "dropped" in explained.stdout and manifest[0]["file"] in explained.stdout
    assert "near duplicate of " + manifest[0]["file"] in explained.stdout
    assert "containment 0.97" in explained.stdout

    kept = subprocess.run(
        [sys.executable, "-m", "feedd", "explain", original_id, "-c", str(config_path), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    report = json.loads(kept.stdout)
    assert report["kept"]["doc_id"] == original_id and len(report["drops"]) == 5
    assert document_id(manifest[0]["canonical_url"]) == original_id


def test_edited_article_with_the_same_url_is_not_new(server: LoopbackServer, tmp_path: Path) -> None:
    url = server.add("/story", article_page("Bridge closes after storm", WIRE))
    feed = server.add("/f.xml", rss([{"title": "Bridge", "link": url, "guid": "v1"}]))
    config = load_config(write_config(tmp_path, [{"url": feed}]))
    assert run_once(config).saved == 1
    # The publisher edits the text and re-issues the entry under a new GUID.
    server.add(
        "/story", article_page("Bridge closes after storm", ["Correction: a new first paragraph."] + WIRE[3:])
    )
    server.add("/f.xml", rss([{"title": "Bridge (corrected)", "link": url, "guid": "v2"}]))
    second = run_once(config)
    assert (second.saved, second.duplicate) == (0, 1)


def test_near_duplicate_detection_can_be_turned_off(server: LoopbackServer, tmp_path: Path) -> None:
    feed = _serve(server, ["original", "retitled"], "off")
    config = load_config(write_config(tmp_path, [{"url": feed}], extra="[dedup]\nnear_duplicates = false"))
    assert run_once(config).saved == 2
