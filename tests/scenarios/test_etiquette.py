"""Publisher etiquette: robots.txt decides which article pages feedd fetches, Crawl-delay spaces
its requests, AI-training opt-outs can be respected, and the User-Agent says who is asking."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd import __version__, load_config, run_once
from feedd.pipeline import PassSummary

RSS = {"Content-Type": "application/rss+xml"}


def _site(
    server: LoopbackServer, paths: list[str], robots: str | None = None, **robots_options: object
) -> str:
    """Article pages at `paths`, a feed listing them (each with its own summary) and, unless
    None, a robots.txt; returns the feed URL."""
    items = []
    for n, path in enumerate(paths):
        url = server.add(path, article_page(f"Story {n}", story(n)))
        items.append(
            {"title": f"Story {n}", "link": url, "guid": path, "description": f"Summary of story {n}."}
        )
    if robots is not None:
        server.add("/robots.txt", robots, headers={"Content-Type": "text/plain"}, **robots_options)
    return server.add("/feed", rss(items), headers=RSS)


def _pass(folder: Path, feed: str, fetch_options: str = "") -> PassSummary:
    """One pass over `feed` with state in `folder`; `fetch_options` go into [fetch]."""
    folder.mkdir(exist_ok=True)
    config = write_config(folder, [{"url": feed}])
    config.write_text(config.read_text().replace("[fetch]\n", f"[fetch]\n{fetch_options}"))
    return run_once(load_config(config))


def _manifest(folder: Path) -> dict[str, dict]:
    """Manifest lines by their entry link's path."""
    lines = [json.loads(line) for line in (folder / "out" / "manifest.jsonl").read_text().splitlines()]
    return {urlsplit(line["entry_link"]).path: line for line in lines}


def _add_story(server: LoopbackServer, path: str) -> None:
    """Make `path` the feed's only (new) entry."""
    url = server.add(path, article_page(f"Story {path}", story(len(path) * 31)))
    server.add("/feed", rss([{"title": f"Story {path}", "link": url, "guid": path}]), headers=RSS)


def test_pages_robots_txt_disallows_are_not_fetched_and_the_feed_text_is_saved(
    server: LoopbackServer, tmp_path: Path
) -> None:
    robots = "User-agent: *\nDisallow: /members/\n\nUser-agent: feedd\nDisallow: /private/\n"
    feed = _site(server, ["/news/a", "/private/b", "/members/c"], robots)
    summary = _pass(tmp_path, feed)
    assert summary.saved == 3
    assert server.hits("/private/b") == 0
    # feedd obeys its own group only (RFC 9309): the * group's /members/ rule is not for it.
    assert server.hits("/news/a") == 1 and server.hits("/members/c") == 1
    manifest = _manifest(tmp_path)
    assert manifest["/news/a"]["source"] == "page" and manifest["/members/c"]["source"] == "page"
    assert manifest["/private/b"]["source"] == "feed"
    assert manifest["/private/b"]["fallback_reason"] == "robots.txt disallows feedd"
    assert (tmp_path / "out" / manifest["/private/b"]["file"]).read_text().endswith("Summary of story 1.")
    # The feed itself is fetched as configured, whatever robots.txt says.
    assert server.hits("/feed") == 1


def test_a_feed_url_is_fetched_even_where_robots_txt_disallows_everything(
    server: LoopbackServer, tmp_path: Path
) -> None:
    feed = _site(server, ["/news/a"], "User-agent: *\nDisallow: /\n")
    summary = _pass(tmp_path, feed)
    assert summary.saved == 1 and server.hits("/feed") == 1 and server.hits("/news/a") == 0


def test_missing_robots_txt_allows_everything(server: LoopbackServer, tmp_path: Path) -> None:
    feed = _site(server, ["/news/a", "/private/b"], robots=None)  # 404
    _pass(tmp_path, feed)
    assert server.hits("/robots.txt") == 1
    assert server.hits("/news/a") == 1 and server.hits("/private/b") == 1


def test_unauthorized_robots_txt_disallows_everything(server: LoopbackServer, tmp_path: Path) -> None:
    for status in (401, 403):
        folder = tmp_path / str(status)
        server.requests.clear()
        feed = _site(server, ["/news/a"], "no", status=status)
        _pass(folder, feed)
        assert server.hits("/news/a") == 0
        reason = _manifest(folder)["/news/a"]["fallback_reason"]
        assert reason == f"robots.txt is forbidden ({status}): the site wants no robots"


def test_robots_txt_server_error_retries_the_entries_on_the_next_pass(
    server: LoopbackServer, tmp_path: Path
) -> None:
    feed = _site(server, ["/news/a", "/news/b"], "down", status=500)
    first = _pass(tmp_path, feed)
    assert first.saved == 0 and first.failed == 2
    assert server.hits("/news/a") == 0
    reasons = {reason for report in first.feeds for _, reason in report.failures}
    assert reasons == {"robots.txt answered 500; will retry"}
    server.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    second = _pass(tmp_path, feed)
    assert second.saved == 2
    assert {line["source"] for line in _manifest(tmp_path).values()} == {"page"}


def test_robots_txt_is_fetched_once_per_site_and_kept_between_passes(
    server: LoopbackServer, tmp_path: Path
) -> None:
    feed = _site(server, [f"/news/{n}" for n in range(5)], "User-agent: *\nAllow: /\n")
    _pass(tmp_path, feed)
    assert server.hits("/robots.txt") == 1
    # A new story on the next pass: the stored robots.txt still holds.
    _add_story(server, "/news/new")
    assert _pass(tmp_path, feed).saved == 1
    assert server.hits("/robots.txt") == 1
    # ... unless it has expired (max-age=0: asked again on every pass).
    server.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Cache-Control": "max-age=0"})
    folder = tmp_path / "fresh"
    _pass(folder, feed)
    _add_story(server, "/news/newer")
    _pass(folder, feed)
    assert server.hits("/robots.txt") == 3


def test_crawl_delay_spaces_the_requests_to_a_site(server: LoopbackServer, tmp_path: Path) -> None:
    feed = _site(server, ["/news/a", "/news/b", "/news/c"], "User-agent: *\nCrawl-delay: 1\n")
    _pass(tmp_path, feed)
    arrivals = zip(server.requests, server.request_times, strict=True)
    times = sorted(t for (path, _), t in arrivals if path.startswith("/news/"))
    assert len(times) == 3
    assert min(later - earlier for earlier, later in zip(times, times[1:], strict=False)) >= 0.95


def test_ai_training_opt_outs_are_respected_when_asked(server: LoopbackServer, tmp_path: Path) -> None:
    feed = _site(server, ["/news/a"], "User-agent: GPTBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    _pass(tmp_path / "default", feed)
    assert server.hits("/news/a") == 1  # by default, only feedd's own group counts
    respectful = tmp_path / "respectful"
    _pass(respectful, feed, "respect_ai_optout = true\n")
    assert server.hits("/news/a") == 1
    line = _manifest(respectful)["/news/a"]
    assert line["source"] == "feed"
    assert line["fallback_reason"] == "site opts out of AI training (robots.txt disallows GPTBot)"


def test_the_user_agent_names_feedd_its_version_and_the_contact(
    server: LoopbackServer, tmp_path: Path
) -> None:
    feed = _site(server, ["/news/a"], "User-agent: *\nAllow: /\n")
    _pass(tmp_path, feed, 'contact = "mailto:news-team@example.org"\n')
    agents = {headers["user-agent"] for _, headers in server.requests}
    assert agents == {f"feedd/{__version__} (+mailto:news-team@example.org)"}
