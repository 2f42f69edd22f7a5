"""Per-feed options: enabled, fetch_article, user_agent, headers, basic_auth, tags, and the
include/exclude filters; `feedd check-config` validates them all."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd import load_config, run_once
from feedd.errors import ConfigError
from feedd.state.history import feed_statuses

RSS = {"Content-Type": "application/rss+xml"}


def _config(folder: Path, feeds: list[str]) -> Path:
    """A loopback config whose [[feeds]] tables are given as TOML text."""
    config = write_config(folder, [])
    config.write_text(config.read_text() + "\n".join(feeds))
    return config


def _feed(server: LoopbackServer, prefix: str, titles: list[str], **route: object) -> str:
    items = []
    for n, title in enumerate(titles):
        url = server.add(f"{prefix}/{n}", article_page(title, story(zlib.crc32(f"{prefix}/{n}".encode()))))
        items.append({"title": title, "link": url, "guid": f"{prefix}-{n}", "description": f"About {title}."})
    return server.add(f"{prefix}/feed", rss(items), headers=RSS, **route)


def _manifest(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "out" / "manifest.jsonl").read_text().splitlines()]


def _check_config(config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedd", "check-config", "-c", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_a_disabled_feed_is_not_polled(server: LoopbackServer, tmp_path: Path) -> None:
    on, off = _feed(server, "/on", ["Harbour reopens"]), _feed(server, "/off", ["Bridge closes"])
    config = _config(tmp_path, [f'[[feeds]]\nurl = "{on}"', f'[[feeds]]\nurl = "{off}"\nenabled = false'])
    summary = run_once(load_config(config))
    assert summary.feeds_polled == 1 and summary.saved == 1
    assert server.hits("/off/feed") == 0
    statuses = {status.url: status for status in feed_statuses(load_config(config))}
    assert statuses[off].interval_reason == "disabled in the config" and statuses[off].next_poll is None
    assert statuses[on].last_result == "ok"


def test_fetch_article_false_saves_the_entry_s_own_content(server: LoopbackServer, tmp_path: Path) -> None:
    body = (
        "&lt;p&gt;The harbour reopened on Monday after three months of repairs to the quay walls.&lt;/p&gt;"
    )
    items = [{"title": "Harbour reopens", "link": server.url("/page"), "guid": "h1", "description": body}]
    feed = server.add("/feed", rss(items), headers=RSS)
    server.add("/page", article_page("Harbour reopens", story(1)))
    config = _config(tmp_path, [f'[[feeds]]\nurl = "{feed}"\nfetch_article = false'])
    assert run_once(load_config(config)).saved == 1
    assert server.hits("/page") == 0 and server.hits("/robots.txt") == 0
    (line,) = _manifest(tmp_path)
    assert line["source"] == "feed" and line["fallback_reason"] == "feed has fetch_article = false"
    assert (
        (tmp_path / "out" / line["file"])
        .read_text()
        .endswith("The harbour reopened on Monday after three months of repairs to the quay walls.")
    )


def test_user_agent_headers_and_tags_apply_to_their_feed_only(
    server: LoopbackServer, other_host: LoopbackServer, tmp_path: Path
) -> None:
    # Feed "a" links one page on its own host and one on another host.
    elsewhere = other_host.add("/story", article_page("Bridge closes", story(7)))
    here = server.add("/a/story", article_page("Harbour reopens", story(8)))
    items = [
        {"title": "Harbour reopens", "link": here, "guid": "a1"},
        {"title": "Bridge closes", "link": elsewhere, "guid": "a2"},
    ]
    feed_a = server.add("/a/feed", rss(items), headers=RSS)
    feed_b = _feed(server, "/b", ["Tram line opens"])
    config = _config(
        tmp_path,
        [
            f'[[feeds]]\nurl = "{feed_a}"\nuser_agent = "NewsroomBot/2.0"\ntags = ["wire", "europe"]\n'
            'headers = { "X-Api-Key" = "k-123", "Accept-Language" = "de" }',
            f'[[feeds]]\nurl = "{feed_b}"',
        ],
    )
    assert run_once(load_config(config)).saved == 3
    seen = {path: headers for path, headers in server.requests}
    for path in ("/a/feed", "/a/story"):
        assert seen[path]["user-agent"] == "NewsroomBot/2.0"
        assert seen[path]["x-api-key"] == "k-123" and seen[path]["accept-language"] == "de"
    # The other host gets the feed's User-Agent but not its headers.
    (elsewhere_headers,) = [headers for path, headers in other_host.requests if path == "/story"]
    assert elsewhere_headers["user-agent"] == "NewsroomBot/2.0" and "x-api-key" not in elsewhere_headers
    # The other feed is untouched.
    assert seen["/b/feed"]["user-agent"].startswith("feedd/") and "x-api-key" not in seen["/b/feed"]
    tags = {line["entry_link"]: line["tags"] for line in _manifest(tmp_path)}
    assert tags[here] == tags[elsewhere] == ["wire", "europe"]
    assert tags[server.url("/b/0")] is None


def _requires_basic_auth(user: str, password: str, body: bytes):  # type: ignore[no-untyped-def]
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def handler(request: BaseHTTPRequestHandler) -> None:
        ok = request.headers.get("Authorization") == expected
        request.send_response(200 if ok else 401)
        request.send_header("Content-Type", "application/rss+xml" if ok else "text/plain")
        if not ok:
            request.send_header("WWW-Authenticate", 'Basic realm="feeds"')
        payload = body if ok else b"login required"
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    return handler


def test_basic_auth_from_the_environment_or_a_file_reaches_the_server_and_nothing_else(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "pa55-w0rd:with-colon"
    page = server.add("/private/story", article_page("Harbour reopens", story(3)))
    feed_xml = rss([{"title": "Harbour reopens", "link": page, "guid": "p1"}]).encode()
    server.add("/private/feed", handler=_requires_basic_auth("reader", secret, feed_xml))
    feed = server.url("/private/feed")
    (tmp_path / "reader.auth").write_text(f"reader:{secret}\n")
    os.chmod(tmp_path / "reader.auth", 0o600)
    for source, env in (
        ('basic_auth = { env = "FEEDD_TEST_AUTH" }', {"FEEDD_TEST_AUTH": f"reader:{secret}"}),
        ('[feeds.basic_auth]\nfile = "reader.auth"', {}),
    ):
        folder = tmp_path / ("env" if env else "file")
        folder.mkdir()
        (folder / "reader.auth").write_text(f"reader:{secret}\n")
        config = _config(folder, [f'[[feeds]]\nurl = "{feed}"\n{source}'])
        result = subprocess.run(
            [sys.executable, "-m", "feedd", "-vv", "--log-format", "json", "run-once", "-c", str(config)],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )
        assert result.returncode == 0, result.stderr
        assert "1 saved" in result.stdout
        state = "\n".join(
            str(row)
            for table in ("feeds", "entries", "documents")
            for row in sqlite3.connect(folder / "state.sqlite3").execute(f"SELECT * FROM {table}")  # noqa: S608
        )
        manifest = (folder / "out" / "manifest.jsonl").read_text()
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        encoded = base64.b64encode(f"reader:{secret}".encode()).decode()
        for where in (result.stdout, result.stderr, state, manifest, repr(load_config(config))):
            assert secret not in where and encoded not in where
    # The article page, on the feed's host, was asked with the credentials too.
    page_requests = [headers for path, headers in server.requests if path == "/private/story"]
    assert len(page_requests) == 2 and all(
        h.get("authorization", "").startswith("Basic ") for h in page_requests
    )


def _auth_by_path(server: LoopbackServer) -> dict[str, str | None]:
    return {path: headers.get("authorization") for path, headers in server.requests}


def test_basic_auth_never_reaches_another_host_nor_follows_a_redirect_there(
    server: LoopbackServer, other_host: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """127.0.0.1 holds the feeds; 127.0.0.2 is another host. The credentials go with the feed and
    with article pages on its host, and never to the other host: not for an article linked there,
    not after an article or the feed itself redirects there."""
    secret = "pa55-w0rd"
    expected = "Basic " + base64.b64encode(f"reader:{secret}".encode()).decode()
    monkeypatch.setenv("FEEDD_TEST_AUTH", f"reader:{secret}")
    here = server.add("/private/story", article_page("Harbour reopens", story(11)))
    elsewhere = other_host.add("/story", article_page("Bridge closes", story(12)))
    landed = other_host.add("/landed", article_page("Tram line opens", story(13)))
    moved = server.add("/private/moved", status=302, headers={"Location": landed})
    items = [
        {"title": "Harbour reopens", "link": here, "guid": "p1"},
        {"title": "Bridge closes", "link": elsewhere, "guid": "p2"},
        {"title": "Tram line opens", "link": moved, "guid": "p3"},
    ]
    server.add("/private/feed", handler=_requires_basic_auth("reader", secret, rss(items).encode()))
    # A second feed with credentials that has moved to the other host.
    moved_page = other_host.add("/museum", article_page("Museum reopens", story(14)))
    other_host.add("/feed", rss([{"title": "Museum reopens", "link": moved_page, "guid": "m1"}]), headers=RSS)
    hop = server.add("/hop/feed", status=301, headers={"Location": other_host.url("/feed")})
    auth = 'basic_auth = { env = "FEEDD_TEST_AUTH" }'
    config = _config(
        tmp_path,
        [
            f'[[feeds]]\nurl = "{server.url("/private/feed")}"\n{auth}',
            f'[[feeds]]\nurl = "{hop}"\n{auth}',
        ],
    )
    assert run_once(load_config(config)).saved == 4

    sent_here, sent_elsewhere = _auth_by_path(server), _auth_by_path(other_host)
    assert {
        path: sent_here[path] for path in ("/private/feed", "/private/story", "/private/moved", "/hop/feed")
    } == {
        "/private/feed": expected,
        "/private/story": expected,
        "/private/moved": expected,
        "/hop/feed": expected,
    }
    assert {path for path, _ in other_host.requests} >= {"/story", "/landed", "/feed", "/museum"}
    assert all(value is None for value in sent_elsewhere.values()), sent_elsewhere


def test_basic_auth_never_reaches_another_port_of_the_feed_s_host(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDD_TEST_AUTH", "reader:pa55-w0rd")
    second_port = LoopbackServer()
    second_port.start()
    try:
        page = second_port.add("/story", article_page("Bridge closes", story(15)))
        items = [{"title": "Bridge closes", "link": page, "guid": "s1"}]
        server.add("/private/feed", handler=_requires_basic_auth("reader", "pa55-w0rd", rss(items).encode()))
        config = _config(
            tmp_path,
            [f'[[feeds]]\nurl = "{server.url("/private/feed")}"\nbasic_auth = {{ env = "FEEDD_TEST_AUTH" }}'],
        )
        assert run_once(load_config(config)).saved == 1
        assert _auth_by_path(second_port)["/story"] is None
    finally:
        second_port.stop()


def test_basic_auth_problems_are_config_errors_naming_the_line(tmp_path: Path) -> None:
    feed = '[[feeds]]\nurl = "https://news.example/feed"\n'
    cases = {
        'basic_auth = { env = "FEEDD_UNSET_VARIABLE" }': (
            "feeds[0].basic_auth.env: environment variable FEEDD_UNSET_VARIABLE is not set"
        ),
        'basic_auth = { file = "missing.auth" }': "feeds[0].basic_auth.file: cannot read",
        'basic_auth = { env = "X", file = "y" }': "feeds[0].basic_auth: give exactly one of env or file",
        'basic_auth = { env = "FEEDD_TEST_NO_COLON" }': 'feeds[0].basic_auth.env: expected "user:password"',
    }
    os.environ.pop("FEEDD_UNSET_VARIABLE", None)
    for option, message in cases.items():
        config = _config(tmp_path, [feed + option])
        result = _check_config(config, {"FEEDD_TEST_NO_COLON": "no-colon-here"})
        assert result.returncode == 2, option
        line = config.read_text().splitlines().index(option) + 1
        assert f"{config}:{line}: {message}" in result.stderr, (option, result.stderr)
        assert "no-colon-here" not in result.stderr


def test_include_and_exclude_filters_skip_entries_before_their_pages_are_fetched(
    server: LoopbackServer, tmp_path: Path
) -> None:
    titles = ["Election results are in", "Sponsored: buy a boat", "Election night live blog", "Weather today"]
    feed = _feed(server, "/f", titles)
    config = _config(
        tmp_path,
        [
            f'[[feeds]]\nurl = "{feed}"\ninclude = ["(?i)election", "weather"]\n'
            'exclude = ["^Sponsored:", "live blog"]'
        ],
    )
    summary = run_once(load_config(config))
    assert summary.saved == 1 and summary.filtered == 3 and summary.entries_new == 1
    assert [server.hits(f"/f/{n}") for n in range(4)] == [1, 0, 0, 0]
    # A filter matches the link and summary too.
    folder = tmp_path / "by-link"
    folder.mkdir()
    config = _config(folder, [f"[[feeds]]\nurl = \"{feed}\"\nexclude = ['/f/[02]\\b', 'About Weather']"])
    assert run_once(load_config(config)).saved == 1
    assert [line["title"] for line in _manifest(folder)] == ["Sponsored: buy a boat"]


def test_check_config_validates_filters_headers_and_user_agents(tmp_path: Path) -> None:
    feed = '[[feeds]]\nurl = "https://news.example/feed"\n'
    cases = {
        'include = ["(unclosed"]': "feeds[0].include: invalid regular expression '(unclosed'",
        'exclude = ["ok", "[z-a]"]': "invalid regular expression '[z-a]'",
        'headers = { "Bad Header" = "x" }': "'Bad Header' is not a valid HTTP header name",
        'user_agent = ""': "expected a one-line, non-empty User-Agent",
        'tags = "wire"': "feeds[0].tags",
        'fetch_article = "no"': "feeds[0].fetch_article",
        "enabled = 0": "feeds[0].enabled",
    }
    for option, message in cases.items():
        config = _config(tmp_path, [feed + option])
        result = _check_config(config)
        assert result.returncode == 2, option
        line = config.read_text().splitlines().index(option) + 1
        assert f"{config}:{line}: " in result.stderr and message in result.stderr, (option, result.stderr)
        with pytest.raises(ConfigError):
            load_config(config)
