"""The web view over a polled state, through a real uvicorn server on 127.0.0.1: every page and
JSON endpoint, the numbers and runs `feedd explain` reports, filters and search, hostile feed
text rendered inert, the security headers, and a state that is only ever read."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from webcorpus import HOSTILE_TITLE, Corpus, ServedView, explained_drop, polled_corpus

from conftest import LoopbackServer
from feedd.state import State
from feedd.web import CONTENT_SECURITY_POLICY

PAGES = ["/", "/feeds", "/documents", "/duplicates"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    server = LoopbackServer()
    server.start()
    try:
        yield polled_corpus(server, tmp_path_factory.mktemp("web"))
    finally:
        server.stop()


@pytest.fixture(scope="module")
def view(corpus: Corpus) -> Iterator[ServedView]:
    served = ServedView(corpus.config).start()
    yield served
    served.stop()


def _get(view: ServedView, path: str, **params: str) -> httpx.Response:
    response = httpx.get(view.url(path), params=params or None, timeout=10)
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return response


def _pair_query(corpus: Corpus) -> dict[str, str]:
    return {"of": corpus.original_id, "feed": corpus.copy_feed, "link": corpus.copy_link}


def test_every_page_answers_with_the_security_headers(view: ServedView, corpus: Corpus) -> None:
    paths = [
        *PAGES,
        f"/documents/{corpus.original_id}",
        f"/documents/{corpus.original_id}/file",
        f"/documents/{corpus.extended_id}/compare/{corpus.original_id}",
        "/duplicates/pair?" + urlencode(_pair_query(corpus)),
        "/api/overview",
        "/static/style.css",
        "/static/feedd.js",
    ]
    for path in paths:
        response = _get(view, path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
    missing = httpx.get(view.url("/documents/ffffffffffffffff"))
    assert (
        missing.status_code == 404 and missing.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    )
    # Pages carry no inline script: only the one script file, by its URL.
    for path in PAGES:
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", _get(view, path).text, re.S)
        assert scripts == [""]


def test_only_get_and_head(view: ServedView) -> None:
    assert httpx.head(view.url("/feeds")).status_code == 200
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert httpx.request(method, view.url("/api/feeds")).status_code == 405


def test_the_json_endpoints_shapes(view: ServedView, corpus: Corpus) -> None:
    overview = _get(view, "/api/overview", days="2").json()
    assert set(overview) == {
        "hours",
        "days",
        "saved",
        "dropped",
        "failed",
        "documents",
        "feeds",
        "feeds_in_error",
        "disk",
    }
    assert len(overview["hours"]) == 48 and set(overview["hours"][0]) == {
        "hour",
        "saved",
        "dropped",
        "failed",
    }
    assert (overview["saved"], overview["dropped"], overview["documents"], overview["feeds"]) == (4, 1, 4, 3)
    assert [row["status"]["url"] for row in overview["feeds_in_error"]] == [corpus.failing_feed]

    feeds = _get(view, "/api/feeds").json()
    assert set(feeds) == {"feeds", "hosts", "tags", "total", "page", "has_next"}
    row = feeds["feeds"][0]
    assert set(row) == {"status", "tags", "enabled", "health", "backing_off"}
    assert {
        "url",
        "name",
        "last_polled",
        "next_poll",
        "interval",
        "saved",
        "dropped",
        "failed",
        "last_error",
        "failing_since",
        "consecutive_errors",
    } <= set(row["status"])

    documents = _get(view, "/api/documents").json()
    assert set(documents) == {"documents", "page", "has_next"}
    assert [d["seq"] for d in documents["documents"]] == [3, 2, 1, 0]  # newest first
    assert set(documents["documents"][0]) == {
        "seq",
        "doc_id",
        "file",
        "title",
        "feed",
        "feed_name",
        "tags",
        "saved_at",
        "published",
        "url",
    }

    one = _get(view, f"/api/documents/{corpus.original_id}").json()
    assert set(one) == {"document", "explanation"}
    assert set(one["document"]) == {
        "seq",
        "doc_id",
        "file",
        "saved_at",
        "manifest_line",
        "text",
        "title",
        "url",
    }

    drops = _get(view, "/api/duplicates").json()
    assert set(drops) == {"drops", "page", "has_next"} and len(drops["drops"]) == 1

    pair = _get(view, "/api/duplicates/pair", **_pair_query(corpus)).json()
    assert set(pair) == {
        "relation",
        "reason",
        "new",
        "saved",
        "jaccard",
        "containment",
        "evidence",
        "summary",
        "kept_id",
    }
    assert set(pair["new"]) == {
        "role",
        "title",
        "doc_id",
        "file",
        "link",
        "feed",
        "when",
        "segments",
        "complete",
        "note",
    }
    related = _get(view, f"/api/documents/{corpus.extended_id}/compare/{corpus.original_id}").json()
    assert related["relation"] == "extends" and related["saved"]["doc_id"] == corpus.original_id


def test_the_numbers_and_runs_are_feedd_explains(view: ServedView, corpus: Corpus) -> None:
    drop = explained_drop(corpus)
    pair = _get(view, "/api/duplicates/pair", **_pair_query(corpus)).json()
    assert pair["evidence"] == drop["evidence"]
    assert (pair["jaccard"], pair["containment"], pair["reason"]) == (
        drop["jaccard"],
        drop["containment"],
        drop["reason"],
    )
    # The kept side's marks hold each run's words, as the excerpt shows them.
    marked: dict[int, list[str]] = {}
    for segment in pair["saved"]["segments"]:
        if segment["mark"] in ("shared", "quoted"):
            marked.setdefault(segment["run"], []).append(segment["text"])
    for rank, run in enumerate(drop["evidence"]["runs"], start=1):
        words = re.findall(r"[^\W_]+", " ".join(marked[rank]).casefold())
        assert len(words) == run["length"]
        shown = run["excerpt"].split(" ... ")
        assert " ".join(words).startswith(shown[0]) and " ".join(words).endswith(shown[-1])
    assert any(segment["mark"] == "quoted" for segment in pair["saved"]["segments"])
    # The dropped entry's side is its whole text (kept for the dedup window), marked the same way.
    assert pair["new"]["complete"] is True
    dropped: dict[int, list[str]] = {}
    for segment in pair["new"]["segments"]:
        if segment["mark"] in ("shared", "quoted"):
            dropped.setdefault(segment["run"], []).append(segment["text"])
    for rank, run in enumerate(drop["evidence"]["runs"], start=1):
        assert len(re.findall(r"[^\W_]+", " ".join(dropped[rank]))) == run["length"]
    html = _get(view, "/duplicates/pair", **_pair_query(corpus)).text
    assert html.count('<mark class="') >= 2 * len(marked)  # in both sides


def test_feeds_sort_and_filter_without_javascript(view: ServedView, corpus: Corpus) -> None:
    def names(**params: str) -> list[str]:
        return [
            row["status"]["name"] or row["status"]["url"]
            for row in _get(view, "/api/feeds", **params).json()["feeds"]
        ]

    assert names(tag="wire") == ["Wire"]
    assert names(state="failing") == [corpus.failing_feed]
    assert names(state="ok") == ["Paper", "Wire"]
    assert names(sort="saved", order="desc")[:2] == ["Paper", "Wire"]
    assert names(sort="saved")[:2] == [corpus.failing_feed, "Wire"]
    page = _get(view, "/feeds", tag="wire").text
    assert "Wire" in page and "Paper" not in page
    failing = _get(view, "/feeds", state="failing").text
    assert "failing since 20" in failing and "404" in failing


def test_documents_search_by_title_feed_tag_and_date(view: ServedView, corpus: Corpus) -> None:
    def ids(**params: str) -> list[str]:
        return [d["doc_id"] for d in _get(view, "/api/documents", **params).json()["documents"]]

    assert set(ids(title="bridge")) == {corpus.original_id, corpus.extended_id, ids(title="reporter")[0]}
    assert ids(title="FULL STORY") == [corpus.extended_id]
    assert ids(title="story  full") == [corpus.extended_id]  # every word, in any order
    assert ids(title="storm full") == [corpus.extended_id] and ids(title="storm nowhere") == []
    assert ids(title="%") == [] and ids(title="_") == []  # LIKE's wildcards are searched as text
    assert ids(tag="agency") == [corpus.original_id]
    assert ids(feed=corpus.copy_feed) and corpus.original_id not in ids(feed=corpus.copy_feed)
    saved = _get(view, "/api/documents").json()["documents"][0]["saved_at"][:10]
    assert len(ids(since=saved, until=saved)) == 4
    assert ids(until="2000-01-01") == []
    assert _get(view, "/api/documents", page="2").json() == {"documents": [], "page": 2, "has_next": False}
    assert httpx.get(view.url("/documents"), params={"since": "yesterday"}).status_code == 400
    assert httpx.get(view.url("/documents"), params={"page": "0"}).status_code == 400
    page = _get(view, "/documents", title="full story").text
    assert "the full story" in page and "Our reporter" not in page


def test_a_document_shows_its_file_exactly_and_its_manifest_line(view: ServedView, corpus: Corpus) -> None:
    with State(corpus.config.database, corpus.config.output_dir, "", read_only=True) as state:
        found = state.documents.find(corpus.original_id)
    assert found is not None
    written = (corpus.config.output_dir / found.file).read_text(encoding="utf-8")
    manifest = next(
        line
        for line in (corpus.config.output_dir / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
        if json.loads(line)["id"] == corpus.original_id
    )
    assert _get(view, f"/documents/{corpus.original_id}/file").text == written
    data = _get(view, f"/api/documents/{corpus.original_id}").json()["document"]
    assert (data["text"], data["manifest_line"]) == (written, manifest)
    page = _get(view, f"/documents/{corpus.original_id}").text
    assert html_escape(written) in page and html_escape(manifest) in page
    # The kept document links to the copy dropped of it and the document that extends it.
    assert "/duplicates/pair?" in page and f"/compare/{corpus.extended_id}" in page


def html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True).replace("&#x27;", "&#39;").replace("&quot;", "&#34;")


def test_hostile_titles_render_as_text(view: ServedView, corpus: Corpus) -> None:
    for path in ("/documents", f"/documents/{corpus.hostile_id}", "/"):
        page = _get(view, path).text
        assert "<script>window.pwned" not in page and "<img src=x" not in page
        assert 'onmouseover="window' not in page
    page = _get(view, "/documents").text
    assert html_escape(HOSTILE_TITLE) in page


def test_browsing_never_writes_the_state(view: ServedView, corpus: Corpus) -> None:
    database = corpus.config.database
    watched = [
        database,
        database.with_name(database.name + "-wal"),
        corpus.config.output_dir / "manifest.jsonl",
    ]
    paths = [
        *PAGES,
        f"/documents/{corpus.original_id}",
        "/api/duplicates/pair?" + urlencode(_pair_query(corpus)),
    ]

    def snapshot() -> dict[Path, tuple[bytes, int | None]]:
        # A reader of a WAL database may create an empty write-ahead log (and the shared-memory
        # index) where the last writer removed them: SQLite's read path, not a write to the state.
        return {
            path: (path.read_bytes(), path.stat().st_mtime_ns if path != watched[1] else None)
            if path.exists()
            else (b"", None)
            for path in watched
        }

    # While a writer holds the state's lock (as a running daemon does), and while none does.
    with State(database, corpus.config.output_dir, corpus.config.storage.filename):
        before = snapshot()
        for path in paths:
            _get(view, path)
        assert snapshot() == before
    before = snapshot()
    for path in paths:
        _get(view, path)
    assert snapshot() == before


def test_a_missing_state_is_a_503_that_says_so(tmp_path: Path, corpus: Corpus) -> None:
    from dataclasses import replace

    from feedd.config import StorageConfig

    empty = replace(corpus.config, storage=StorageConfig(database=str(tmp_path / "none.sqlite3")))
    served = ServedView(empty).start()
    try:
        response = httpx.get(served.url("/feeds"))
        assert response.status_code == 503 and "has feedd run yet?" in response.text
        assert httpx.get(served.url("/api/feeds")).json() == {
            "error": f"no state database at {tmp_path / 'none.sqlite3'} (has feedd run yet?)"
        }
    finally:
        served.stop()


@pytest.mark.parametrize("text", [None, b"not zlib data"], ids=["gone", "corrupt"])
def test_a_dropped_entry_whose_text_is_not_kept_shows_its_runs_between_counts(
    tmp_path: Path, text: bytes | None
) -> None:
    from feedd.web.pair import drop_pair

    server = LoopbackServer()
    server.start()
    try:
        corpus = polled_corpus(server, tmp_path)
    finally:
        server.stop()
    with sqlite3.connect(corpus.config.database) as db:
        if text is None:
            db.execute("DELETE FROM dropped_texts")
        else:
            db.execute("UPDATE dropped_texts SET text = ?", (text,))
    pair = drop_pair(corpus.config, corpus.original_id, corpus.copy_feed, corpus.copy_link)
    assert pair is not None and not pair.new.complete and "not kept" in pair.new.note
    assert any(segment.mark == "gap" for segment in pair.new.segments)
    assert any(segment.mark == "shared" for segment in pair.new.segments)
