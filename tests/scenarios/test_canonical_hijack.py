"""A page may claim any URL as its canonical one, and the canonical URL is the identity stories
are deduplicated by: a claim on another site is believed only where that site vouches for the
page (the feed is there, or the entry's link or its redirects led there)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd import load_config, run_once


def _manifest(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (folder / "out" / "manifest.jsonl").read_text().splitlines()]


def test_a_page_cannot_claim_another_site_s_story(
    server: LoopbackServer, other_host: LoopbackServer, tmp_path: Path
) -> None:
    # The victim (127.0.0.2) publishes a story; a hostile page on 127.0.0.1, in a feed polled
    # first, claims the victim's URL as its canonical one.
    victim_story = other_host.add("/news/story", article_page("The real story", story(61)))
    victim_feed = other_host.add("/feed.xml", rss([{"title": "The real story", "link": victim_story}]))
    hostile_page = server.add(
        "/fake", article_page("Something else entirely", story(62), canonical=victim_story)
    )
    hostile_feed = server.add("/feed.xml", rss([{"title": "Something else", "link": hostile_page}]))
    config = write_config(tmp_path, [{"url": hostile_feed}, {"url": victim_feed}])

    summary = run_once(load_config(config))
    assert (summary.saved, summary.duplicate) == (2, 0)
    by_title = {line["title"]: line for line in _manifest(tmp_path)}
    assert by_title["Something else entirely"]["canonical_url"] == hostile_page
    assert by_title["The real story"]["canonical_url"] == victim_story
    assert other_host.hits("/news/story") == 1  # fetched, not skipped as already saved


def test_a_canonical_on_the_feed_s_own_site_is_believed(
    server: LoopbackServer, other_host: LoopbackServer, tmp_path: Path
) -> None:
    # The feed is on 127.0.0.2 and links to a mirror on 127.0.0.1 whose canonical points home.
    home = other_host.url("/news/story")
    mirror = server.add("/mirror", article_page("Story on a mirror", story(63), canonical=home))
    feed = other_host.add("/feed.xml", rss([{"title": "Story on a mirror", "link": mirror}]))
    config = write_config(tmp_path, [{"url": feed}])
    assert run_once(load_config(config)).saved == 1
    (line,) = _manifest(tmp_path)
    assert line["canonical_url"] == home
