"""End to end through `feedd run-once`, `feedd explain` and the manifest, with the local index and
with Redis: a new document is dropped when what it says is already saved (a trimmed copy, a
teaser after its story, a roll-up of saved briefs), and kept when it adds text of its own (the
full story after its teaser, a roll-up with reporting of its own, a write-through); a kept
document that holds most of a saved one names it in `extends`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import LoopbackServer, RedisServer, article_page, rss, story, write_config
from feedd import load_config, run_once

FULL = story(1601, paragraphs=11, words=45)  # about 500 words
TEASER = FULL[:2]
BRIEFS = [story(1610 + n, paragraphs=2, words=45) for n in range(3)]
OWN_REPORTING = story(1620, paragraphs=11, words=45)
SAVED_STORY = story(1630, paragraphs=10, words=45)


@pytest.fixture(params=["local", "redis"])
def dedup_config(request: pytest.FixtureRequest) -> str:
    if request.param == "local":
        return ""
    redis: RedisServer = request.getfixturevalue("redis_server")
    return f'[dedup]\nbackend = "{redis.url}"\n'


class Newsroom:
    """One feed on a loopback server; each pass publishes more stories and runs `feedd run-once`."""

    def __init__(self, server: LoopbackServer, folder: Path, dedup: str) -> None:
        self._server = server
        self._items: list[dict[str, str]] = []
        self.links: dict[str, str] = {}
        self._feed = server.url("/news.xml")
        self.config = write_config(folder, [{"url": self._feed}], extra=dedup)
        self._out = folder / "out"

    def publish(self, **stories: list[str]) -> tuple[int, int]:
        """Publish `stories` (name -> paragraphs) and run a pass: (saved, dropped)."""
        for name, paragraphs in stories.items():
            link = self._server.add(
                f"/story/{name}", article_page(name.replace("_", " ").title(), paragraphs)
            )
            self.links[name] = link
            self._items.insert(0, {"title": name, "link": link, "guid": link})
        self._server.add("/news.xml", rss(self._items), headers={"Content-Type": "application/rss+xml"})
        report = run_once(load_config(self.config))
        return report.saved, report.duplicate

    def manifest(self) -> dict[str, dict[str, object]]:
        """Manifest lines by story name."""
        lines = [json.loads(line) for line in (self._out / "manifest.jsonl").read_text().splitlines()]
        names = {link: name for name, link in self.links.items()}
        return {names[str(line["url"])]: line for line in lines}

    def explain(self, name: str) -> str:
        return self.feedd("explain", self.links[name])

    def feedd(self, *arguments: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "feedd", *arguments, "-c", str(self.config)],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "250"},
        )
        assert done.returncode == 0, done.stderr
        return done.stdout


def test_the_full_story_after_its_teaser_is_kept_and_extends_it(
    server: LoopbackServer, tmp_path: Path, dedup_config: str
) -> None:
    newsroom = Newsroom(server, tmp_path, dedup_config)
    assert newsroom.publish(teaser=TEASER) == (1, 0)
    assert newsroom.publish(full_story=FULL) == (1, 0)
    manifest = newsroom.manifest()
    assert manifest["full_story"]["extends"] == [manifest["teaser"]["id"]]
    assert manifest["teaser"]["extends"] is None
    assert "It extends 000_" in newsroom.explain("full_story")
    assert "Extended by 001_" in newsroom.explain("teaser")
    (listed,) = [json.loads(line) for line in newsroom.feedd("dups", "--extends", "--json").splitlines()]
    assert (listed["doc_id"], listed["extends"]["doc_id"]) == (
        manifest["full_story"]["id"],
        manifest["teaser"]["id"],
    )
    # It holds all of the teaser but its title line, and adds the rest of the story.
    assert listed["extends"]["evidence"]["saved_share"] > 0.95
    assert listed["extends"]["evidence"]["coverage"]["own_words"] > 400


def test_a_teaser_after_its_full_story_is_dropped(
    server: LoopbackServer, tmp_path: Path, dedup_config: str
) -> None:
    newsroom = Newsroom(server, tmp_path, dedup_config)
    assert newsroom.publish(full_story=FULL) == (1, 0)
    assert newsroom.publish(teaser=TEASER) == (0, 1)
    assert set(newsroom.manifest()) == {"full_story"}
    # All of it but its title.
    assert re.search(r"Saved documents hold 9\d% of its text \(1 of them", newsroom.explain("teaser"))


def test_a_roll_up_of_saved_briefs_is_dropped(
    server: LoopbackServer, tmp_path: Path, dedup_config: str
) -> None:
    newsroom = Newsroom(server, tmp_path, dedup_config)
    assert newsroom.publish(brief_one=BRIEFS[0], brief_two=BRIEFS[1], brief_three=BRIEFS[2]) == (3, 0)
    # No brief holds more than a third of it: only their runs together cover it.
    assert newsroom.publish(roll_up=[*BRIEFS[0], *BRIEFS[1], *BRIEFS[2]]) == (0, 1)
    explained = newsroom.explain("roll_up")
    assert "(3 of them" in explained


def test_a_roll_up_with_reporting_of_its_own_is_kept_and_extends_each_brief(
    server: LoopbackServer, tmp_path: Path, dedup_config: str
) -> None:
    newsroom = Newsroom(server, tmp_path, dedup_config)
    assert newsroom.publish(brief_one=BRIEFS[0], brief_two=BRIEFS[1]) == (2, 0)
    assert newsroom.publish(roll_up=[*BRIEFS[0], *OWN_REPORTING, *BRIEFS[1]]) == (1, 0)
    manifest = newsroom.manifest()
    assert sorted(manifest["roll_up"]["extends"]) == sorted(
        [manifest["brief_one"]["id"], manifest["brief_two"]["id"]]
    )


def test_a_write_through_that_adds_eight_paragraphs_to_three_is_kept(
    server: LoopbackServer, tmp_path: Path, dedup_config: str
) -> None:
    newsroom = Newsroom(server, tmp_path, dedup_config)
    assert newsroom.publish(original=SAVED_STORY) == (1, 0)
    assert newsroom.publish(write_through=[*SAVED_STORY[:3], *OWN_REPORTING[:8]]) == (1, 0)
    # It holds three of the original's ten paragraphs: it does not extend it (most of the
    # original is not in it), and both stay.
    assert newsroom.manifest()["write_through"]["extends"] is None


def test_a_trimmed_copy_is_dropped(server: LoopbackServer, tmp_path: Path, dedup_config: str) -> None:
    newsroom = Newsroom(server, tmp_path, dedup_config)
    assert newsroom.publish(original=SAVED_STORY) == (1, 0)
    assert newsroom.publish(trimmed=SAVED_STORY[:6]) == (0, 1)
    assert "near duplicate of" in newsroom.explain("trimmed")


def test_a_copy_with_a_short_tail_of_its_own_is_still_a_copy(
    server: LoopbackServer, tmp_path: Path, dedup_config: str
) -> None:
    # 40 words of its own on a 450-word copy: a copy (min_new_words is 150 by default) ...
    newsroom = Newsroom(server, tmp_path, dedup_config)
    assert newsroom.publish(original=SAVED_STORY) == (1, 0)
    tail = story(1640, paragraphs=1, words=40)
    assert newsroom.publish(with_a_tail=[*SAVED_STORY, *tail]) == (0, 1)
    # ... and 400 words of its own are not.
    assert newsroom.publish(with_reporting=[*SAVED_STORY, *OWN_REPORTING[:9]]) == (1, 0)
    manifest = newsroom.manifest()
    assert manifest["with_reporting"]["extends"] == [manifest["original"]["id"]]
