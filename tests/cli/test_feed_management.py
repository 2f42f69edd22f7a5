"""`feedd add` and `feedd remove` on a real config file and loopback sites: a feed URL added as
is, a site's page searched for the feeds it announces (or at the usual paths), several feeds
listed instead of guessed, comments, order and the file's mode kept."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from conftest import LoopbackServer, article_page, rss, story, write_config

FEED_TYPE = {"Content-Type": "application/rss+xml"}


def _feedd(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedd", *arguments], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )


def _config(folder: Path) -> Path:
    config = write_config(folder, [{"url": "https://example.org/first.xml", "name": "First"}])
    config.write_text("# my feeds, hand-kept\n" + config.read_text())
    config.chmod(0o600)
    return config


def _site_page(server: LoopbackServer, *feeds: tuple[str, str]) -> str:
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" title="{t}" href="{h}">' for h, t in feeds
    )
    return server.add("/", f"<html><head><title>Site</title>{links}</head><body><p>Home</p></body></html>")


def test_a_page_with_one_feed_adds_that_feed(server: LoopbackServer, tmp_path: Path) -> None:
    page = server.add("/story", article_page("Story", story(3)))
    server.add(
        "/news/rss.xml", rss([{"title": "Story", "link": page}], title="Harbour News"), headers=FEED_TYPE
    )
    site = _site_page(server, ("/news/rss.xml", "Harbour News"))
    config = _config(tmp_path)
    added = _feedd("add", site, "-c", str(config), "--tag", "local")
    assert added.returncode == 0, added.stderr
    feed = server.url("/news/rss.xml")
    assert f"added {feed} (Harbour News)" in added.stdout
    text = config.read_text()
    assert text.startswith("# my feeds, hand-kept\n") and text.index("first.xml") < text.index(feed)
    assert f'url = "{feed}"\nname = "Harbour News"\ntags = ["local"]' in text
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    assert _feedd("check-config", "-c", str(config)).returncode == 0

    removed = _feedd("remove", "Harbour News", "-c", str(config))
    assert removed.returncode == 0 and f"removed {feed}" in removed.stdout
    assert feed not in config.read_text() and "# my feeds, hand-kept" in config.read_text()
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600


def test_several_feeds_are_listed_not_guessed(server: LoopbackServer, tmp_path: Path) -> None:
    for path, title in (("/world.xml", "World"), ("/sport.xml", "Sport")):
        server.add(path, rss([{"title": "x", "link": server.url("/x")}], title=title), headers=FEED_TYPE)
    site = _site_page(server, ("/world.xml", "World"), ("/sport.xml", "Sport"))
    config = _config(tmp_path)
    before = config.read_text()
    added = _feedd("add", site, "-c", str(config))
    assert added.returncode == 2
    assert server.url("/world.xml") in added.stderr and server.url("/sport.xml") in added.stderr
    assert config.read_text() == before


def test_a_feed_url_is_added_and_a_page_without_feeds_is_refused(
    server: LoopbackServer, other_host: LoopbackServer, tmp_path: Path
) -> None:
    feed = server.add(
        "/feed", rss([{"title": "x", "link": server.url("/x")}], title="Plain"), headers=FEED_TYPE
    )
    config = _config(tmp_path)
    assert _feedd("add", feed, "-c", str(config), "--name", "Mine").returncode == 0
    assert f'url = "{feed}"\nname = "Mine"' in config.read_text()
    assert _feedd("add", feed, "-c", str(config)).returncode == 2  # already there

    about = "<html><head><title>About</title></head><body><p>us</p></body></html>"
    refused = _feedd("add", other_host.add("/about", about), "-c", str(config))
    assert refused.returncode == 2 and "announces none" in refused.stderr
    # The usual paths are tried when a page announces nothing: on this site, /feed.
    found = _feedd("add", server.add("/about", about), "-c", str(config))
    assert found.returncode == 2 and f"{feed} is already in the config" in found.stderr


def test_remove_takes_the_url_as_feedd_shows_it_and_never_prints_secrets(tmp_path: Path) -> None:
    config = _config(tmp_path)
    secret = "https://reader:pw@example.org/private.xml?token=s3cret"
    added = _feedd("add", secret, "-c", str(config), "--as-is")
    assert added.returncode == 0 and "s3cret" not in added.stdout and "pw@" not in added.stdout
    shown = "https://***@example.org/private.xml?token=***"
    removed = _feedd("remove", shown, "-c", str(config))
    assert removed.returncode == 0 and removed.stdout.startswith(f"removed {shown}")
    assert "private.xml" not in config.read_text()
    last = _feedd("remove", "First", "-c", str(config))
    assert last.returncode == 2 and "last feed" in last.stderr
