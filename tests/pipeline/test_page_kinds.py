"""A pass over pages that are not the article: each entry is saved from the feed's text, and the
manifest says why; an article beside them is saved from its page."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd import load_config, run_once


def _live_blog(updates: list[str]) -> str:
    data = {
        "@type": "LiveBlogPosting",
        "headline": "Harbour vote: live",
        "datePublished": "2024-03-05T08:00:00Z",
    }
    posts = "".join(f"<div class='live-blog-post'><p>{text}</p></div>" for text in updates)
    return (
        "<!DOCTYPE html><html lang='en'><head><title>Harbour vote: live</title>"
        f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
        f"<body><article><h1>Harbour vote: live</h1>{posts}</article></body></html>"
    )


def _video_page() -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><title>Watch: the tram</title>"
        '<meta property="og:type" content="video.other"></head><body><h1>Watch: the tram</h1>'
        "<video src='/tram.mp4'></video><p>The first tram leaves the new depot.</p></body></html>"
    )


def test_live_blogs_and_video_pages_are_saved_from_the_feed_with_the_reason(
    server: LoopbackServer, tmp_path: Path
) -> None:
    live_text, video_text, article_text = story(81, 2), story(82, 2), story(83, 4)
    pages = {
        "Harbour vote: live": (server.add("/live/harbour", _live_blog(story(84, 6))), live_text),
        "Watch: the tram": (server.add("/video/tram", _video_page()), video_text),
        "Budget approved": (
            server.add("/news/budget", article_page("Budget approved", article_text)),
            story(85, 1),
        ),
    }
    items = [
        {"title": title, "link": url, "guid": url, "description": " ".join(text)}
        for title, (url, text) in pages.items()
    ]
    feed = server.add("/rss", rss(items), headers={"Content-Type": "application/rss+xml"})
    summary = run_once(load_config(write_config(tmp_path, [{"url": feed, "name": "News"}])))
    assert (summary.saved, summary.failed) == (3, 0)
    output = tmp_path / "out"
    lines = [
        json.loads(line) for line in (output / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    by_title = {line["title"]: line for line in lines}
    assert (by_title["Harbour vote: live"]["source"], by_title["Harbour vote: live"]["fallback_reason"]) == (
        "feed",
        "page is a live blog (LiveBlogPosting)",
    )
    assert by_title["Watch: the tram"]["source"] == "feed"
    assert by_title["Watch: the tram"]["fallback_reason"].startswith("page is a video page with little text")
    assert (by_title["Budget approved"]["source"], by_title["Budget approved"]["fallback_reason"]) == (
        "page",
        None,
    )
    for title, text, absent in (
        ("Harbour vote: live", live_text, story(84, 6)[0]),
        ("Watch: the tram", video_text, "The first tram leaves the new depot."),
        ("Budget approved", article_text, story(85, 1)[0]),
    ):
        document = (output / by_title[title]["file"]).read_text(encoding="utf-8")
        assert all(sentence in document for sentence in text) and absent not in document
