"""Feed lists in and out as OPML."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from feedd.config import load_config
from feedd.feeds import read_opml

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="News">
      <outline type="rss" text="DW" title="DW" xmlUrl="https://rss.dw.com/xml/rss-en-all"/>
      <outline type="rss" text="BBC &amp; World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
    </outline>
    <outline type="rss" text="Already there" xmlUrl="https://example.org/rss"/>
    <outline type="rss" text="Not a web feed" xmlUrl="file:///etc/passwd"/>
  </body>
</opml>
"""


def _feedd(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feedd", *args], capture_output=True, text=True)


def test_import_adds_new_feeds_and_keeps_comments(tmp_path: Path) -> None:
    config = tmp_path / "feedd.toml"
    config.write_text('# my comment\n[[feeds]]\nurl = "https://example.org/rss"\n')
    opml = tmp_path / "feeds.opml"
    opml.write_text(OPML)
    result = _feedd("import-opml", str(opml), "-c", str(config))
    assert result.returncode == 0, result.stderr
    assert "2 feed(s) added" in result.stdout
    text = config.read_text()
    assert text.startswith("# my comment\n")
    feeds = load_config(config).feeds
    assert [(f.url, f.name) for f in feeds] == [
        ("https://example.org/rss", None),
        ("https://rss.dw.com/xml/rss-en-all", "DW"),
        ("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC & World"),
    ]
    again = _feedd("import-opml", str(opml), "-c", str(config))
    assert "0 feed(s) added" in again.stdout


def test_export_round_trips(tmp_path: Path) -> None:
    config = tmp_path / "feedd.toml"
    config.write_text('[[feeds]]\nurl = "https://rss.dw.com/xml/rss-en-all"\nname = "DW"\n')
    exported = _feedd("export-opml", "-c", str(config))
    assert exported.returncode == 0 and 'xmlUrl="https://rss.dw.com/xml/rss-en-all"' in exported.stdout
    other = tmp_path / "other.toml"
    other.write_text('[[feeds]]\nurl = "https://example.org/rss"\n')
    opml = tmp_path / "out.opml"
    opml.write_text(exported.stdout)
    assert _feedd("import-opml", str(opml), "-c", str(other)).returncode == 0
    assert [f.name for f in load_config(other).feeds] == [None, "DW"]


def test_bad_opml_is_refused_without_touching_the_config(tmp_path: Path) -> None:
    config = tmp_path / "feedd.toml"
    original = '[[feeds]]\nurl = "https://example.org/rss"\n'
    config.write_text(original)
    for name, body in (
        ("broken.opml", "<opml><body><outline"),
        ("html.opml", "<html></html>"),
        ("bomb.opml", '<!DOCTYPE x [<!ENTITY a "aaaa">]><opml/>'),
    ):
        path = tmp_path / name
        path.write_text(body)
        result = _feedd("import-opml", str(path), "-c", str(config))
        assert result.returncode == 2 and name in result.stderr
    assert config.read_text() == original


def test_folders_become_tags_and_left_out_outlines_are_listed(tmp_path: Path) -> None:
    config = tmp_path / "feedd.toml"
    config.write_text('[[feeds]]\nurl = "https://example.org/rss"\n')
    opml = tmp_path / "reader.opml"
    opml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>mine</title></head><body>'
        '<outline text="World"><outline text="DW" xmlUrl="https://rss.dw.com/world.xml"/>'
        '<outline text="Africa"><outline text="F24" xmlUrl="feed://www.france24.com/en/africa/rss"/>'
        "</outline></outline>"
        '<outline text="A page" htmlUrl="https://example.org/"/>'
        '<outline text="Gopher" xmlUrl="gopher://example.org/feed"/>'
        "</body></opml>"
    )
    dry = _feedd("import-opml", str(opml), "-c", str(config), "--dry-run")
    assert dry.returncode == 0 and "would add https://rss.dw.com/world.xml (DW) [World]" in dry.stdout
    assert config.read_text() == '[[feeds]]\nurl = "https://example.org/rss"\n'
    done = _feedd("import-opml", str(opml), "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert "skipped gopher://example.org/feed: not an http(s) or feed:// URL" in done.stdout
    assert "skipped https://example.org/: no feed URL (a web page only)" in done.stdout
    text = config.read_text()
    assert 'url = "http://www.france24.com/en/africa/rss"\nname = "F24"\ntags = ["World", "Africa"]' in text
    assert 'url = "https://rss.dw.com/world.xml"\nname = "DW"\ntags = ["World"]' in text


def test_an_iso_dated_list_reads_and_feeds_differing_in_a_secret_are_one(tmp_path: Path) -> None:
    opml = tmp_path / "reader.opml"
    opml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><head><title>mine</title>'
        "<dateCreated>2024-05-02T10:00:00Z</dateCreated></head><body>"
        '<outline text="A" xmlUrl="https://example.org/rss?token=one"/>'
        '<outline text="B" xmlUrl="https://example.org/rss?token=two"/>'
        "</body></opml>"
    )
    listed = read_opml(opml)
    assert [feed.url for feed in listed.feeds] == ["https://example.org/rss?token=one"]
    assert [(skip.url, skip.reason) for skip in listed.skipped] == [
        ("https://example.org/rss?token=two", "the same feed as an earlier outline")
    ]
