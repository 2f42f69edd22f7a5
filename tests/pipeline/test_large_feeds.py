"""A feed of ten thousand entries: parsed off the event loop, and only the newest `max_entries`
of them taken in one poll."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from conftest import LoopbackServer, rss, write_config
from feedd import load_config
from feedd.pipeline import PassSummary, run_pass

ENTRIES = 10_000


def _big_feed(server: LoopbackServer) -> str:
    """The feed's URL; the document is about 0.9 MB."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    items = [
        {
            "title": f"Story {n}",
            "guid": f"story-{n}",
            "description": f"Teaser {n}.",
            # The newest entries sit in the middle of the document.
            "pubDate": format_datetime(start + timedelta(minutes=(n * 7919) % ENTRIES), usegmt=True),
        }
        for n in range(ENTRIES)
    ]
    document = rss(items)
    assert len(document) > 700_000
    return server.add("/big.xml", document, headers={"Content-Type": "application/rss+xml"})


async def _pass_with_a_ticker(config_path: Path) -> tuple[float, PassSummary]:
    """Run a pass while a task ticks every 10 ms; return the loop's longest stall and the summary."""
    longest = 0.0

    async def tick() -> None:
        nonlocal longest
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            longest = max(longest, now - last - 0.01)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        summary = await run_pass(load_config(config_path))
    finally:
        ticker.cancel()
    return longest, summary


def test_a_huge_feed_neither_stalls_the_loop_nor_floods_the_pass(
    server: LoopbackServer, tmp_path: Path
) -> None:
    url = _big_feed(server)
    config = write_config(tmp_path, [])
    config.write_text(
        config.read_text() + f'[[feeds]]\nurl = "{url}"\nfetch_article = false\nmax_entries = 5\n'
    )
    longest_stall, summary = asyncio.run(_pass_with_a_ticker(config))
    (report,) = summary.feeds
    assert report.result == "ok" and report.new == 5 and summary.saved == 5
    # The five newest by date, wherever they stand in the document.
    newest = {n for n in range(ENTRIES) if (n * 7919) % ENTRIES >= ENTRIES - 5}
    saved = sorted((tmp_path / "out").glob("*.txt"))
    assert {int(path.read_text().split("\n", 1)[0].split()[1]) for path in saved} == newest
    assert any(
        f"{ENTRIES - 5} older entries beyond max_entries = 5 were skipped" in w for w in report.warnings
    )
    # Parsing the 0.7 MB feed takes over a second; on the loop, it stalled it that long.
    assert longest_stall < 0.5, f"the event loop stalled {longest_stall:.2f}s"
    print(f"longest event-loop stall during the pass: {longest_stall * 1000:.0f} ms")
