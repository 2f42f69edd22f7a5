"""The manifest line of a saved document, key by key, for a known page and a known feed entry."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import LoopbackServer, article_page, manifest_entry, rss, write_config
from feedd import load_config, run_once
from feedd.output import ManifestEntry

KEYS = [
    "seq",
    "id",
    "file",
    "url",
    "canonical_url",
    "title",
    "published",
    "fetched",
    "feed",
    "feed_name",
    "tags",
    "guid",
    "entry_link",
    "language",
    "source",
    "fallback_reason",
    "body_sha256",
    "extends",
]
PARAGRAPHS = [
    "The harbour reopened on Monday after three months of repairs to the quay walls.",
    "Ferries to the islands resume their summer timetable, the port authority said.",
]
#: The body as duplicate detection hashes it, written out by hand: case-folded, punctuation and
#: the paragraph break folded to single spaces.
BODY_NORMALISED = (
    "the harbour reopened on monday after three months of repairs to the quay walls "
    "ferries to the islands resume their summer timetable the port authority said"
)
#: The page's rel=canonical, on its own site (a canonical on another site is not believed).
CANONICAL_PATH = "/2024/05/harbour-reopens"
#: Absolute: an RSS guid is a permalink unless it says otherwise, so a relative one is resolved.
GUID = "https://news.example/?p=4711"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "out" / "manifest.jsonl").read_text().splitlines()]


def _assert_fetched_during(value: str, started: datetime, finished: datetime) -> None:
    """ISO 8601 with a timezone, to the second, within the pass."""
    fetched = datetime.fromisoformat(value)
    assert fetched.utcoffset() == timedelta(0), value
    assert value.endswith("+00:00") and fetched.microsecond == 0, value
    assert started.replace(microsecond=0) <= fetched <= finished, value


def test_manifest_line_of_a_page_and_of_a_feed_entry(server: LoopbackServer, tmp_path: Path) -> None:
    canonical = server.url(CANONICAL_PATH)
    page = server.add("/news/harbour", article_page("Harbour reopens", PARAGRAPHS, canonical=canonical))
    feed = server.add(
        "/rss",
        rss(
            [
                {
                    "title": "Harbour reopens",
                    "link": page,
                    "guid": GUID,
                    "pubDate": "Thu, 02 May 2024 08:00:00 GMT",
                }
            ]
        ),
        headers={"Content-Type": "application/rss+xml"},
    )
    own_text = server.add(
        "/own.xml",
        rss(
            [
                {
                    "title": "Quay walls repaired",
                    "link": server.url("/never-fetched"),
                    "description": "&lt;p&gt;Repairs to the quay walls ended on Friday.&lt;/p&gt;",
                }
            ]
        ),
        headers={"Content-Type": "application/rss+xml"},
    )
    feeds = (
        f'[[feeds]]\nurl = "{feed}"\nname = "Harbour News"\ntags = ["port", "local"]\n'
        f'[[feeds]]\nurl = "{own_text}"\nfetch_article = false\n'
    )
    config = write_config(tmp_path, [], extra=feeds)
    started = datetime.now(UTC)
    summary = run_once(load_config(config))
    finished = datetime.now(UTC)
    assert summary.saved == 2

    first, second = _lines(tmp_path)
    assert list(first) == KEYS and list(second) == KEYS
    _assert_fetched_during(first.pop("fetched"), started, finished)
    _assert_fetched_during(second.pop("fetched"), started, finished)
    page_id = _sha256(canonical)[:16]
    assert first == {
        "seq": 0,
        "id": page_id,
        "file": f"000_{page_id}.txt",
        # The page's shortlink, or else its canonical link, or else where it was fetched.
        "url": canonical,
        "canonical_url": canonical,
        "title": "Harbour reopens",
        "published": "2024-05-02T08:00:00+00:00",
        "feed": feed,
        "feed_name": "Harbour News",
        "tags": ["port", "local"],
        "guid": GUID,
        "entry_link": page,
        "language": "en",
        "source": "page",
        "fallback_reason": None,
        "body_sha256": _sha256(BODY_NORMALISED),
        "extends": None,
    }
    # Never fetched: the entry's link, canonicalised (already canonical here), names the document.
    link = server.url("/never-fetched")
    own_id = _sha256(link)[:16]
    assert second == {
        "seq": 1,
        "id": own_id,
        "file": f"001_{own_id}.txt",
        "url": link,
        "canonical_url": link,
        "title": "Quay walls repaired",
        "published": None,
        "feed": own_text,
        "feed_name": None,
        "tags": None,
        "guid": None,
        "entry_link": link,
        "language": None,
        "source": "feed",
        "fallback_reason": "feed has fetch_article = false",
        "body_sha256": _sha256("repairs to the quay walls ended on friday"),
        "extends": None,
    }
    assert (tmp_path / "out" / first["file"]).read_text().startswith("Harbour reopens\n\nMay 2, 2024\n\n")
    assert server.hits("/never-fetched") == 0


def test_an_entry_survives_the_waiting_table_s_round_trip() -> None:
    entry = manifest_entry(
        "Tram network to grow",
        published=datetime(2024, 5, 1, 8, 15, 30, 123456, tzinfo=UTC),
        tags=("local", "transport"),
    )
    assert ManifestEntry.from_dict(json.loads(json.dumps(entry.as_dict()))) == entry
    line = json.loads(entry.line(seq=7, doc_id="2dce832f619571ad", file="007_2dce832f619571ad.txt"))
    assert list(line)[:4] == ["seq", "id", "file", "url"]
    assert (line["published"], line["fetched"], line["tags"]) == (
        "2024-05-01T08:15:30.123456+00:00",
        "2024-05-02T09:30:00+00:00",
        ["local", "transport"],
    )


def test_a_manifest_line_reads_back_as_its_entry() -> None:
    entry = manifest_entry("Tram network to grow", tags=("local",))
    line = entry.line(seq=7, doc_id="2dce832f619571ad", file="007_2dce832f619571ad.txt")
    assert ManifestEntry.from_line(line) == entry
    for broken in ("", "{", "[1]", '{"url": "https://news.example/"}'):
        assert ManifestEntry.from_line(broken) is None
