"""Opening the state: one writer at a time, folders checked, old schemas upgraded, read-only
opens beside a running pass."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import manifest_entry
from feedd.dedup import DuplicateMatch, Evidence, SharedRun
from feedd.errors import StateError, StateLockedError
from feedd.state import SCHEMA_VERSION, NewDocument, State

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


def _doc(n: int) -> NewDocument:
    return NewDocument(
        doc_id=f"{n:016x}",
        canonical_url=f"https://news.example/{n}",
        body_hash=f"hash{n}",
        text=f"Title {n}",
        filename_date=datetime(2024, 5, 2, tzinfo=UTC),
        feed_url="https://news.example/feed",
        entry_key=f"guid:{n}",
        entry_link=f"https://news.example/{n}",
        manifest=manifest_entry(f"Title {n}"),
    )


def _state(tmp_path: Path, *, read_only: bool = False) -> State:
    return State(
        tmp_path / "state" / "db.sqlite3", tmp_path / "out", "{seq:03d}_{id}.txt", read_only=read_only
    )


def test_second_process_is_refused(tmp_path: Path) -> None:
    with _state(tmp_path):
        with pytest.raises(StateLockedError, match="another feedd process"):
            _state(tmp_path).open()


def test_the_lock_is_released_on_close_and_the_instance_id_is_kept(tmp_path: Path) -> None:
    with _state(tmp_path) as state:
        first = state.instance_id()
    with _state(tmp_path) as state:
        assert state.instance_id() == first and len(first) == 32


def test_output_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(StateError, match="exists and is not a folder"):
        _state(tmp_path).open()


def test_read_only_opens_beside_a_writer_and_reads_what_it_committed(tmp_path: Path) -> None:
    with _state(tmp_path) as writer:
        writer.documents.save(_doc(1))
        with _state(tmp_path, read_only=True) as reader:
            found = reader.documents.find("https://news.example/1")
            assert found is not None and found.seq == 0


def test_read_only_needs_a_database(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="no state database at .* \\(has feedd run yet\\?\\)"):
        _state(tmp_path, read_only=True).open()


def test_read_only_refuses_an_old_schema_and_a_writer_refuses_a_newer_one(tmp_path: Path) -> None:
    with _state(tmp_path) as state:
        state.db.set_meta("schema_version", str(SCHEMA_VERSION - 1))
    with pytest.raises(StateError, match=f"has schema {SCHEMA_VERSION - 1}; run feedd once to upgrade it"):
        _state(tmp_path, read_only=True).open()
    with sqlite3.connect(tmp_path / "state" / "db.sqlite3") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StateError, match=f"written by a newer feedd \\(schema {SCHEMA_VERSION + 1}\\)"):
        _state(tmp_path).open()
    # The refused open let go of its lock.
    with pytest.raises(StateError, match="newer feedd"):
        _state(tmp_path).open()


def test_schema_1_state_is_upgraded(tmp_path: Path) -> None:
    with _state(tmp_path) as state:
        state.documents.save(_doc(1))
        db = state.db.connection
        for column in ("title", "canonical_url", "jaccard", "containment", "evidence"):
            db.execute(f"ALTER TABLE entries DROP COLUMN {column}")
        for column in ("next_poll", "interval", "interval_reason"):
            db.execute(f"ALTER TABLE feeds DROP COLUMN {column}")
        db.execute("ALTER TABLE documents DROP COLUMN nearest")
        db.execute("DROP TABLE hosts")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with _state(tmp_path) as state:
        assert state.db.meta("schema_version") == str(SCHEMA_VERSION)
        assert state.hosts.current() == []
        match = DuplicateMatch(
            "0000000000000001", "near duplicate", jaccard=0.9, containment=1.0, evidence=EVIDENCE
        )
        state.entries.record_duplicate("f", "k", None, match)
        (dropped,) = state.entries.recent_duplicates(5)
        assert dropped.entry.jaccard == 0.9 and dropped.entry.containment == 1.0
        assert dropped.entry.evidence == EVIDENCE
        assert dropped.kept_file == "000_0000000000000001.txt"
        nearest = DuplicateMatch("x", "independent write-up", jaccard=0.2, containment=0.4)
        state.documents.save(_doc(2), nearest=nearest)
        found = state.documents.find(_doc(2).doc_id)
        assert found is not None and found.nearest == nearest


def test_a_state_from_before_redaction_moves_its_secret_urls_out(tmp_path: Path) -> None:
    # Schema 6 kept a feed under its URL as written; schema 7 names it by the redacted URL.
    secret = "https://reader:pw@example.org/feed.xml?token=s3cr3t"
    shown = "https://***@example.org/feed.xml?token=***"
    with State(tmp_path / "db", tmp_path / "out", "{seq}_{id}.txt") as state:
        state.feeds.record_poll(secret, result="ok", etag='"v1"')
        state.entries.record(secret, "guid-1", "https://reader:pw@example.org/story", "failed", None, "x")
        # A row under the masked name already (a feedd that masked before this migration): newer.
        state.entries.record(shown, "guid-2", "https://example.org/other", "saved", "d2", None)
        state.entries.record(secret, "guid-2", "https://example.org/other", "failed", None, "old")
        state.documents.save(
            NewDocument(
                doc_id="0000000000000001",
                canonical_url="https://example.org/story",
                body_hash="1",
                text="Story\n",
                filename_date=datetime(2024, 1, 1, tzinfo=UTC),
                feed_url=secret,
                entry_key="guid-3",
                entry_link=None,
                manifest=manifest_entry(feed=secret),
            )
        )
        state.db.connection.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    (tmp_path / "out" / "manifest.jsonl").unlink()  # as if its line had not landed: repair re-appends it
    with State(tmp_path / "db", tmp_path / "out", "{seq}_{id}.txt") as state:
        assert state.db.meta("schema_version") == str(SCHEMA_VERSION)
        assert state.feeds.state(shown).etag == '"v1"'  # its history follows the feed
        assert state.entries.failed_attempts(shown)
        assert state.entries.settled_keys(shown) >= {"guid-2"}  # the newer row stayed
        # While the state is open, the old bytes are neither in the file nor in its log.
        stored = b"".join(path.read_bytes() for path in tmp_path.glob("db*"))
        assert b"s3cr3t" not in stored and b"reader:pw" not in stored
    manifest = (tmp_path / "out" / "manifest.jsonl").read_text()
    assert "s3cr3t" not in manifest and f'"feed": "{shown}"' in manifest
