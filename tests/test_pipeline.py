"""End to end: one pass over loopback feeds and pages, through the library and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TESTDATA, LoopbackServer, Route, article_page, rss, write_config
from feedd import load_config, run_once
from feedd.urls import document_id

PARAGRAPHS = [
    "The city council voted on Tuesday to expand the tram network by twelve kilometres.",
    "The project, estimated at 340 million euros, will connect three outer districts to the centre.",
    "Construction is due to begin next spring and last four years, the mayor said.",
]


def _documents(output: Path) -> list[Path]:
    return sorted(p for p in output.rglob("*.txt"))


def _manifest(output: Path) -> list[dict]:
    path = output / "manifest.jsonl"
    return (
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    )


def test_seed_article_renders_to_the_seed_minus_chrome(server: LoopbackServer, tmp_path: Path) -> None:
    page = server.add(
        "/en/north-korea-kim-putin/a-71194537", (TESTDATA / "dw_seed_article.html").read_bytes()
    )
    feed = server.add(
        "/rss",
        rss(
            [
                {
                    "title": "North Korea's Kim calls Putin his 'dearest friend'",
                    "link": page,
                    "guid": "https://p.dw.com/p/4ohNM",
                    "pubDate": "Tue, 31 Dec 2024 06:12:08 GMT",
                    "description": "In his New Year letter to the Russian leader, Kim Jong Un praised ...",
                }
            ]
        ),
        headers={"Content-Type": "application/rss+xml"},
    )
    summary = run_once(load_config(write_config(tmp_path, [{"url": feed, "name": "DW"}])))
    assert (summary.saved, summary.failed) == (1, 0)
    [document] = _documents(tmp_path / "out")
    canonical = "https://www.dw.com/en/north-koreas-kim-calls-putin-his-dearest-friend/a-71194537"
    assert document.name == f"000_{document_id(canonical)}.txt"
    assert document.read_bytes() == (TESTDATA / "dw_seed_expected.txt").read_bytes()
    [line] = _manifest(tmp_path / "out")
    assert line["seq"] == 0 and line["file"] == document.name
    assert line["url"] == "https://p.dw.com/p/4ohNM"
    assert line["canonical_url"] == canonical
    assert line["feed_name"] == "DW" and line["source"] == "page"
    assert line["published"].startswith("2024-12-31")


def test_second_pass_saves_nothing_new_and_uses_validators(server: LoopbackServer, tmp_path: Path) -> None:
    pages = [
        server.add(f"/a/{n}", article_page(f"Story {n}", [f"{p} (story {n})" for p in PARAGRAPHS]))
        for n in range(3)
    ]
    feed_body = rss([{"title": f"Story {n}", "link": url, "guid": f"id-{n}"} for n, url in enumerate(pages)])
    feed = server.add("/feed.xml", feed_body, etag='"v1"', headers={"Content-Type": "application/rss+xml"})
    config = load_config(write_config(tmp_path, [{"url": feed}]))
    first = run_once(config)
    assert (first.saved, first.entries_new) == (3, 3)
    second = run_once(config)
    assert second.feeds_not_modified == 1 and second.entries_new == 0
    assert server.requests[-1][1].get("if-none-match") == '"v1"'
    # Without validators the feed is parsed again, but known entries are not fetched again.
    server.routes["/feed.xml"] = Route(
        body=feed_body.encode(), headers={"Content-Type": "application/rss+xml"}
    )
    third = run_once(config)
    assert (third.feeds_not_modified, third.entries_new, third.saved) == (0, 0, 0)
    assert all(server.hits(f"/a/{n}") == 1 for n in range(3))
    assert [line["seq"] for line in _manifest(tmp_path / "out")] == [0, 1, 2]
    assert len(_documents(tmp_path / "out")) == 3
