"""The repositories besides the save: feeds, entries, waiting documents, robots.txt files and
fingerprints, read back as typed records with aware UTC datetimes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from conftest import manifest_entry
from feedd.dedup import DuplicateMatch, Evidence, FingerprintRecord, SharedRun
from feedd.state import DUPLICATES_LOG, MAX_ENTRY_ATTEMPTS, NewDocument, State

EVIDENCE = Evidence(
    copied_share=0.75,
    measured="new",
    words=40,
    quoted_words=4,
    shared_words=30,
    shared_quoted_words=2,
    run_count=1,
    runs=(SharedRun(start=3, other_start=10, length=30, quoted=2, excerpt="the harbour … walls"),),
    quote_weight=0.5,
)
RECORD = FingerprintRecord(text=b"text", shingles=b"shingles", minhash=b"minhash")


def _doc(n: int, fingerprint: FingerprintRecord | None = None) -> NewDocument:
    return NewDocument(
        doc_id=f"{n:016x}",
        canonical_url=f"https://news.example/{n}",
        body_hash=f"hash{n}",
        text=f"Title {n}",
        filename_date=datetime(2024, 5, 2, 9, 30, tzinfo=UTC),
        feed_url="https://news.example/feed",
        entry_key=f"guid:{n}",
        entry_link=f"https://news.example/{n}",
        manifest=manifest_entry(f"Title {n}", tags=("a", "b")),
        fingerprint=fingerprint,
    )


def _state(tmp_path: Path, *, log_duplicates: bool = False) -> State:
    return State(
        tmp_path / "state" / "db.sqlite3",
        tmp_path / "out",
        "{seq:03d}_{id}.txt",
        log_duplicates=log_duplicates,
    )


def test_poll_bookkeeping(tmp_path: Path) -> None:
    with _state(tmp_path) as state:
        state.feeds.record_poll("f", result="ok", etag='"1"', last_modified="yesterday")
        state.feeds.record_poll("f", result="failed", error="HTTP 500")
        assert state.feeds.state("f").etag == '"1"'  # validators survive a failed poll
        (record,) = state.feeds.statuses()
        assert (record.consecutive_errors, record.last_error) == (1, "HTTP 500")
        assert state.feeds.consecutive_errors("f") == 1
        state.feeds.record_poll("f", result="ok", clear_validators=True)
        assert state.feeds.state("f").etag is None and state.feeds.consecutive_errors("f") == 0


def test_schedule_and_statuses_are_times_not_text(tmp_path: Path) -> None:
    paris = timezone(timedelta(hours=2))
    with _state(tmp_path) as state:
        state.feeds.record_poll("f", result="ok")
        state.feeds.record_schedule(
            "f", next_poll=datetime(2024, 5, 2, 12, 0, 30, 999, tzinfo=paris), interval=900.0, reason="rhythm"
        )
        state.entries.record_failure("f", "a", None, "boom")
        (record,) = state.feeds.statuses()
        assert record.next_poll == datetime(2024, 5, 2, 10, 0, 30, tzinfo=UTC)
        assert record.next_poll.tzinfo == UTC
        assert (record.interval, record.interval_reason, record.failed, record.saved) == (
            900.0,
            "rhythm",
            1,
            0,
        )
        assert record.last_polled is not None and record.last_polled.tzinfo == UTC
        assert state.entries.new_per_day("f") is None  # not a day of history yet


def test_failed_entries_are_retried_a_few_times(tmp_path: Path) -> None:
    with _state(tmp_path) as state:
        for attempt in range(MAX_ENTRY_ATTEMPTS):
            assert "k" not in state.entries.settled_keys("f")
            assert state.entries.failed_attempts("f") == ({"k": attempt} if attempt else {})
            state.entries.record_failure("f", "k", None, f"attempt {attempt}")
        assert "k" in state.entries.settled_keys("f")
        state.entries.record_failure("f", "w", None, "Redis down", count_attempt=False)
        assert state.entries.failed_attempts("f") == {"w": 0}


def test_a_duplicate_is_recorded_logged_and_read_back_typed(tmp_path: Path) -> None:
    with _state(tmp_path, log_duplicates=True) as state:
        kept = state.documents.save(_doc(1))
        match = DuplicateMatch(kept.doc_id, "near duplicate", jaccard=0.5, containment=0.9, evidence=EVIDENCE)
        state.entries.record_duplicate(
            "g", "copy", "https://copy.example/1", match, title="Copy", canonical_url="https://copy.example/1"
        )
        (dropped,) = state.entries.recent_duplicates(5)
        entry = dropped.entry
        assert dropped.kept_file == kept.path.name
        assert (entry.status, entry.document_id, entry.reason, entry.title) == (
            "duplicate",
            kept.doc_id,
            "near duplicate",
            "Copy",
        )
        assert entry.evidence == EVIDENCE and entry.last_seen.tzinfo == UTC
        assert [e.entry_key for e in state.entries.find(kept.doc_id)] == ["guid:1", "copy"]
    (line,) = [json.loads(x) for x in (tmp_path / "out" / DUPLICATES_LOG).read_text().splitlines()]
    assert line["duplicate_of"] == kept.doc_id and line["reason"] == "near duplicate"
    assert (line["jaccard"], line["containment"], line["title"]) == (0.5, 0.9, "Copy")
    assert line["evidence"] == json.loads(EVIDENCE.to_json())


def test_columns_written_by_the_previous_version_read_back(tmp_path: Path) -> None:
    """`evidence` and `nearest` keep the JSON layout feedd wrote before the state took the match."""
    old_nearest = json.dumps(
        {"document_id": "x", "jaccard": 0.25, "containment": 0.5, "evidence": EVIDENCE.as_dict()},
        ensure_ascii=False,
    )
    with _state(tmp_path) as state:
        state.documents.save(_doc(1))
        db = state.db.connection
        db.execute("UPDATE documents SET nearest = ?", (old_nearest,))
        state.entries.record_duplicate(
            "g", "copy", None, DuplicateMatch(_doc(1).doc_id, "same normalised body")
        )
        db.execute("UPDATE entries SET evidence = ? WHERE entry_key = 'copy'", (EVIDENCE.to_json(),))
        found = state.documents.find(_doc(1).doc_id)
        assert found is not None
        assert found.nearest == DuplicateMatch(
            "x", "independent write-up", jaccard=0.25, containment=0.5, evidence=EVIDENCE
        )
        assert state.entries.recent_duplicates(1)[0].entry.evidence == EVIDENCE
        # What the state writes now is what it wrote then.
        state.documents.save(_doc(2), nearest=found.nearest)
        (written,) = db.execute("SELECT nearest FROM documents WHERE seq = 1").fetchone()
        assert written == old_nearest


def test_waiting_documents_come_back_whole_and_in_order(tmp_path: Path) -> None:
    with _state(tmp_path) as state:
        state.waiting.queue(_doc(1, RECORD), 120)
        state.waiting.queue(_doc(2), 30)
        assert state.waiting.count() == 2
        assert state.entries.settled_keys("https://news.example/feed") == {"guid:1", "guid:2"}
        first, second = state.waiting.documents()
        assert (first.document, first.body_words) == (_doc(1, RECORD), 120)
        assert (second.document, second.body_words) == (_doc(2), 30)
        assert first.queued_at.tzinfo == UTC
        state.waiting.remove("https://news.example/feed", "guid:1")
        assert [w.document.doc_id for w in state.waiting.documents()] == [_doc(2).doc_id]


def test_robots_files_are_kept_until_they_expire(tmp_path: Path) -> None:
    now = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    with _state(tmp_path) as state:
        state.robots.cache("https://a.example", 200, "User-agent: *\n", now + timedelta(hours=1))
        cached = state.robots.cached("https://a.example", now)
        assert cached is not None
        assert (cached.status, cached.body, cached.expires) == (
            200,
            "User-agent: *\n",
            now + timedelta(hours=1),
        )
        assert state.robots.cached("https://a.example", now + timedelta(hours=1)) is None
        assert state.robots.cached("https://b.example", now) is None


def test_fingerprints_by_document_by_time_and_forgotten(tmp_path: Path) -> None:
    with _state(tmp_path) as state:
        for n in range(3):
            state.documents.save(_doc(n, FingerprintRecord(b"t%d" % n, b"s%d" % n, b"m%d" % n)))
        state.documents.save(_doc(3))  # no fingerprint
        db = state.db.connection
        db.execute("UPDATE fingerprints SET saved_at = '2000-01-01T00:00:00+00:00' WHERE seq = 0")
        since = datetime(2001, 1, 1, tzinfo=UTC)
        assert [(f.seq, f.doc_id, f.record) for f in state.fingerprints.of_documents([2, 0, 3])] == [
            (0, _doc(0).doc_id, FingerprintRecord(b"t0", b"s0", b"m0")),
            (2, _doc(2).doc_id, FingerprintRecord(b"t2", b"s2", b"m2")),
        ]
        assert [f.seq for f in state.fingerprints.since(since)] == [1, 2]
        assert [(s.seq, s.minhash) for s in state.fingerprints.sketches_since(since)] == [
            (1, b"m1"),
            (2, b"m2"),
        ]
        state.fingerprints.replace({1: FingerprintRecord(b"t1", b"new shingles", b"new minhash")})
        (one,) = state.fingerprints.of_documents([1])
        assert one.record == FingerprintRecord(b"t1", b"new shingles", b"new minhash")
        assert state.fingerprints.forget_before(since) == [0]
        assert state.fingerprints.forget_before(since) == []
        assert [f.seq for f in state.fingerprints.since(datetime(1970, 1, 1, tzinfo=UTC))] == [1, 2]
        assert state.fingerprints.parameters() is None
        state.fingerprints.record_parameters("params v1")
        assert state.fingerprints.parameters() == "params v1"
