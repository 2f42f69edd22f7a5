"""The store: atomic, durable saves; seq never reused; interrupted saves finished on open."""

from __future__ import annotations

import errno
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedd.errors import DocumentWriteError, StateError, StateLockedError
from feedd.state import store as store_module
from feedd.state.store import MANIFEST, NewDocument, Store


def _doc(n: int, **changes: object) -> NewDocument:
    fields: dict[str, object] = {
        "doc_id": f"{n:016x}",
        "canonical_url": f"https://news.example/{n}",
        "body_hash": f"hash{n}",
        "text": f"Title {n}\n\nhttps://news.example/{n}\n\nBody {n}.",
        "filename_date": datetime(2024, 5, 2, tzinfo=UTC),
        "feed_url": "https://news.example/feed",
        "entry_key": f"guid:{n}",
        "entry_link": f"https://news.example/{n}",
        "metadata": {"title": f"Title {n}"},
    }
    fields.update(changes)
    return NewDocument(**fields)  # type: ignore[arg-type]


def _store(tmp_path: Path, template: str = "{seq:03d}_{id}.txt") -> Store:
    return Store(tmp_path / "state" / "db.sqlite3", tmp_path / "out", template)


def _manifest(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "out" / MANIFEST).read_text().splitlines()]


def test_save_writes_file_manifest_and_state(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        first = store.save_document(_doc(1))
        second = store.save_document(_doc(2))
        assert (first.seq, second.seq) == (0, 1)
        assert first.path.read_text() == _doc(1).text
        assert store.document_id_by_url("https://news.example/2") == second.doc_id
        assert store.document_id_by_body_hash("hash1") == first.doc_id
        assert store.settled_entry_keys("https://news.example/feed") == {"guid:1", "guid:2"}
    assert [(line["seq"], line["file"], line["title"]) for line in _manifest(tmp_path)] == [
        (0, "000_0000000000000001.txt", "Title 1"),
        (1, "001_0000000000000002.txt", "Title 2"),
    ]


def test_files_honour_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with _store(tmp_path, "{date:%Y/%m}/{seq:03d}_{id}.txt") as store:
            saved = store.save_document(_doc(1))
    finally:
        os.umask(old)
    assert stat.S_IMODE(saved.path.stat().st_mode) == 0o644
    assert stat.S_IMODE(saved.path.parent.stat().st_mode) == 0o755
    assert saved.path.relative_to(tmp_path / "out").as_posix() == "2024/05/000_0000000000000001.txt"


def test_seq_continues_across_restarts(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.save_document(_doc(1))
    with _store(tmp_path) as store:
        assert store.save_document(_doc(2)).seq == 1


def test_disk_full_keeps_the_document_pending_and_the_next_open_saves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _store(tmp_path) as store:
        store.save_document(_doc(1))

        def disk_full(path: Path, data: bytes) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(store_module, "_write_atomically", disk_full)
        with pytest.raises(DocumentWriteError, match="No space left on device"):
            store.save_document(_doc(2))
        monkeypatch.undo()
    assert len(_manifest(tmp_path)) == 1
    with _store(tmp_path) as store:
        assert store.save_document(_doc(3)).seq == 2
    assert [line["seq"] for line in _manifest(tmp_path)] == [0, 1, 2]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.txt")) == [
        "000_0000000000000001.txt",
        "001_0000000000000002.txt",
        "002_0000000000000003.txt",
    ]


def test_torn_manifest_line_and_temp_files_are_cleaned_on_open(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.save_document(_doc(1))
    out = tmp_path / "out"
    with open(out / MANIFEST, "a") as handle:
        handle.write('{"seq": 1, "id": "tor')
    (out / ".001_x.txt.123.feedd-tmp").write_text("half")
    with _store(tmp_path) as store:
        store.save_document(_doc(2))
    assert [line["seq"] for line in _manifest(tmp_path)] == [0, 1]
    assert not list(out.glob(".*feedd-tmp"))


def test_manifest_line_already_written_is_not_repeated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the manifest append but before the state update."""
    with _store(tmp_path) as store:
        real_update = Store._complete

        def crash_after_manifest(
            self: Store, seq: int, relative: str, text: str, line: str, **kw: object
        ) -> None:
            store_module._write_atomically(self.output_dir / relative, text.encode())
            self._append_manifest(line)
            raise OSError(errno.EIO, "simulated crash")

        monkeypatch.setattr(Store, "_complete", crash_after_manifest)
        with pytest.raises(DocumentWriteError):
            store.save_document(_doc(1))
        monkeypatch.setattr(Store, "_complete", real_update)
    with _store(tmp_path) as store:
        pass
    assert [line["seq"] for line in _manifest(tmp_path)] == [0]


def test_second_process_is_refused(tmp_path: Path) -> None:
    with _store(tmp_path):
        with pytest.raises(StateLockedError, match="another feedd process"):
            _store(tmp_path).open()


def test_output_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(StateError, match="exists and is not a folder"):
        _store(tmp_path).open()


def test_poll_bookkeeping(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.record_poll("f", result="ok", etag='"1"', last_modified="yesterday")
        store.record_poll("f", result="failed", error="HTTP 500")
        assert store.feed_state("f").etag == '"1"'  # validators survive a failed poll
        row = store.db.execute("SELECT consecutive_errors, last_error FROM feeds").fetchone()
        assert tuple(row) == (1, "HTTP 500")


def test_failed_entries_are_retried_a_few_times(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        for attempt in range(store_module.MAX_ENTRY_ATTEMPTS):
            assert "k" not in store.settled_entry_keys("f")
            store.record_failure("f", "k", None, f"attempt {attempt}")
        assert "k" in store.settled_entry_keys("f")


def test_schema_1_state_is_upgraded(tmp_path: Path) -> None:
    with _store(tmp_path) as store:
        store.save_document(_doc(1))
        for column in ("title", "canonical_url", "jaccard", "containment", "evidence"):
            store.db.execute(f"ALTER TABLE entries DROP COLUMN {column}")
        for column in ("next_poll", "interval", "interval_reason"):
            store.db.execute(f"ALTER TABLE feeds DROP COLUMN {column}")
        store.db.execute("ALTER TABLE documents DROP COLUMN nearest")
        store.db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with _store(tmp_path) as store:
        assert store.meta("schema_version") == "4"
        store.record_duplicate(
            "f", "k", None, "0000000000000001", "near duplicate", jaccard=0.9, containment=1.0, evidence="{}"
        )
        assert store.recent_duplicates(5)[0]["jaccard"] == 0.9
        assert store.recent_duplicates(5)[0]["evidence"] == "{}"
        store.save_document(_doc(2), nearest='{"document_id": "x"}')
        assert store.find_document(_doc(2).doc_id)["nearest"] == '{"document_id": "x"}'
