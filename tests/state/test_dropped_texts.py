"""What an entry dropped as a near duplicate said is kept for the dedup window, to be read beside
the document it copies; exact duplicates keep nothing (they say what the saved document says)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd import load_config, run_once
from feedd.pipeline import open_session
from feedd.state import State

WIRE = story(2027, paragraphs=8)


def test_a_near_duplicates_text_is_kept_for_the_window(server: LoopbackServer, tmp_path: Path) -> None:
    items = []
    for name, title, paragraphs in (
        ("original", "Bridge closes after storm", WIRE),
        ("retitled", "Storm shuts bridge for days", WIRE[:6]),
    ):
        url = server.add(f"/wire/{name}", article_page(title, paragraphs))
        items.append({"title": title, "link": url, "guid": name})
    feed = server.add("/wire.xml", rss(items), headers={"Content-Type": "application/rss+xml"})
    config_path = write_config(tmp_path, [{"url": feed}])
    summary = run_once(load_config(config_path))
    assert (summary.saved, summary.duplicate) == (1, 1)

    config = load_config(config_path)
    with State(config.database, config.output_dir, config.storage.filename) as state:
        said = state.dropped_texts.text_of(feed, "guid:retitled")
        assert said is not None and said.startswith("Storm shuts bridge for days")
        assert WIRE[5] in said and WIRE[6] not in said
        assert state.dropped_texts.text_of(feed, "guid:original") is None  # saved, not dropped

    # Out of the window, forgotten with the fingerprints.
    with sqlite3.connect(config.database) as db:
        db.execute("UPDATE dropped_texts SET dropped_at = '2000-01-01T00:00:00+00:00'")

    async def evict() -> None:
        async with open_session(load_config(config_path)):
            pass  # a session evicts what fell out of the window when it opens

    asyncio.run(evict())
    with State(config.database, config.output_dir, config.storage.filename) as state:
        assert state.dropped_texts.text_of(feed, "guid:retitled") is None
