"""A feed URL's own secrets (userinfo, a token parameter) reach the feed's server and nothing
else: not the logs, not `feedd status`, not the state database, not the manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import LoopbackServer, article_page, rss, story, write_config
from feedd.config import FeedConfig, redacted_url

SECRETS = ("s3cr3t-t0ken", "hunter2-pass")


def test_secrets_in_a_feed_url_are_sent_but_never_shown_or_stored(
    server: LoopbackServer, tmp_path: Path
) -> None:
    page = server.add("/story", article_page("Harbour reopens", story(5)))
    # A relative link, resolved against the feed's URL: its credentials must not come along.
    server.add("/feed.xml", rss([{"title": "Harbour reopens", "link": "/story", "guid": page}]))
    host_and_port = server.url("/").split("//", 1)[1].rstrip("/")
    url = f"http://reader:{SECRETS[1]}@{host_and_port}/feed.xml?token={SECRETS[0]}&lang=en"
    config = write_config(tmp_path, [{"url": url}], extra="")

    env = {**os.environ, "COLUMNS": "250"}
    ran = subprocess.run(
        [sys.executable, "-m", "feedd", "-v", "run-once", "-c", str(config)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ran.returncode == 0, ran.stderr
    status = subprocess.run(
        [sys.executable, "-m", "feedd", "status", "-c", str(config), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert status.returncode == 0, status.stderr

    # The server got them: the token in the query, the password as basic auth.
    (feed_request,) = [headers for path, headers in server.requests if path.startswith("/feed.xml")]
    assert any(path == f"/feed.xml?token={SECRETS[0]}&lang=en" for path, _ in server.requests)
    assert "authorization" in feed_request

    shown = ran.stdout + ran.stderr + status.stdout
    stored = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file() and path != config)
    for secret in SECRETS:
        assert secret not in shown
        assert secret.encode() not in stored
    (line,) = [json.loads(text) for text in (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()]
    assert line["feed"] == f"http://***@{host_and_port}/feed.xml?token=***&lang=en"


def test_what_counts_as_a_secret() -> None:
    assert redacted_url("https://example.org/feed.xml?page=2") == "https://example.org/feed.xml?page=2"
    assert (
        redacted_url("https://a:b@example.org/f?api_key=1&q=x") == "https://***@example.org/f?api_key=***&q=x"
    )
    assert redacted_url("https://example.org/f?auth=1&Signature=2&sessionid=3&key=4&monkey=5") == (
        "https://example.org/f?auth=***&Signature=***&sessionid=***&key=***&monkey=5"
    )
    # Two feeds that differ only in their secret are one feed.
    one, two = (
        FeedConfig(url="https://example.org/f?token=a"),
        FeedConfig(url="https://example.org/f?token=b"),
    )
    assert one.url == two.url and one.fetch_url != two.fetch_url
