"""The save protocol: atomic, durable saves; seq never reused; interrupted saves finished on open."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import manifest_entry
from feedd.errors import DocumentWriteError
from feedd.state import MANIFEST, NewDocument, State
from feedd.state import documents as documents_module

ROOT = Path(__file__).resolve().parents[2]


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
        "manifest": manifest_entry(f"Title {n}"),
    }
    fields.update(changes)
    return NewDocument(**fields)  # type: ignore[arg-type]


def _state(tmp_path: Path, template: str = "{seq:03d}_{id}.txt") -> State:
    return State(tmp_path / "state" / "db.sqlite3", tmp_path / "out", template)


def _manifest(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "out" / MANIFEST).read_text().splitlines()]


def test_save_writes_file_manifest_and_state(tmp_path: Path) -> None:
    with _state(tmp_path) as state:
        first = state.documents.save(_doc(1))
        second = state.documents.save(_doc(2))
        assert (first.seq, second.seq) == (0, 1)
        assert first.path.read_text() == _doc(1).text
        assert state.documents.document_id_by_url("https://news.example/2") == second.doc_id
        assert state.documents.document_id_by_body_hash("hash1") == first.doc_id
        assert state.entries.settled_keys("https://news.example/feed") == {"guid:1", "guid:2"}
        stored = state.documents.find("https://news.example/1")
        assert stored is not None
        assert (stored.seq, stored.doc_id, stored.file, stored.state) == (
            0,
            first.doc_id,
            "000_0000000000000001.txt",
            "saved",
        )
        assert stored.entry_link == "https://news.example/1" and stored.nearest is None
        assert stored.saved_at.tzinfo is not None
        assert abs((datetime.now(UTC) - stored.saved_at).total_seconds()) < 60
    assert [(line["seq"], line["file"], line["title"]) for line in _manifest(tmp_path)] == [
        (0, "000_0000000000000001.txt", "Title 1"),
        (1, "001_0000000000000002.txt", "Title 2"),
    ]


def test_files_honour_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with _state(tmp_path, "{date:%Y/%m}/{seq:03d}_{id}.txt") as state:
            saved = state.documents.save(_doc(1))
    finally:
        os.umask(old)
    assert stat.S_IMODE(saved.path.stat().st_mode) == 0o644
    assert stat.S_IMODE(saved.path.parent.stat().st_mode) == 0o755
    assert saved.path.relative_to(tmp_path / "out").as_posix() == "2024/05/000_0000000000000001.txt"


def test_seq_continues_across_restarts(tmp_path: Path) -> None:
    with _state(tmp_path) as state:
        state.documents.save(_doc(1))
    with _state(tmp_path) as state:
        assert state.documents.save(_doc(2)).seq == 1


def test_disk_full_keeps_the_document_pending_and_the_next_open_saves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _state(tmp_path) as state:
        state.documents.save(_doc(1))

        def disk_full(path: Path, data: bytes) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(documents_module, "write_atomically", disk_full)
        with pytest.raises(DocumentWriteError, match="No space left on device"):
            state.documents.save(_doc(2))
        monkeypatch.undo()
        pending = state.documents.find(_doc(2).doc_id)
        assert pending is not None and pending.state == "pending"
    assert len(_manifest(tmp_path)) == 1
    with _state(tmp_path) as state:
        assert state.documents.save(_doc(3)).seq == 2
    assert [line["seq"] for line in _manifest(tmp_path)] == [0, 1, 2]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.txt")) == [
        "000_0000000000000001.txt",
        "001_0000000000000002.txt",
        "002_0000000000000003.txt",
    ]


def test_a_folder_that_cannot_be_created_fails_the_save_and_the_next_open_finishes_it(
    tmp_path: Path,
) -> None:
    """A real failure in the real write: the document's folder is taken by a file."""
    with _state(tmp_path, "{date:%Y}/{seq:03d}_{id}.txt") as state:
        (tmp_path / "out" / "2024").write_text("in the way")
        with pytest.raises(DocumentWriteError, match="cannot write .*2024/000_0000000000000001.txt"):
            state.documents.save(_doc(1))
    assert not (tmp_path / "out" / MANIFEST).exists()
    (tmp_path / "out" / "2024").unlink()
    with _state(tmp_path, "{date:%Y}/{seq:03d}_{id}.txt") as state:
        stored = state.documents.find(_doc(1).doc_id)
        assert stored is not None and stored.state == "saved"
    assert (tmp_path / "out" / "2024" / "000_0000000000000001.txt").read_text() == _doc(1).text
    assert [line["seq"] for line in _manifest(tmp_path)] == [0]


def test_torn_manifest_line_and_temp_files_are_cleaned_on_open(tmp_path: Path) -> None:
    with _state(tmp_path) as state:
        state.documents.save(_doc(1))
    out = tmp_path / "out"
    with open(out / MANIFEST, "a") as handle:
        handle.write('{"seq": 1, "id": "tor')
    (out / ".001_x.txt.123.feedd-tmp").write_text("half")
    with _state(tmp_path) as state:
        state.documents.save(_doc(2))
    assert [line["seq"] for line in _manifest(tmp_path)] == [0, 1]
    assert not list(out.glob(".*feedd-tmp"))


_KILLED_SAVE = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from feedd.output import ManifestEntry
from feedd.state import NewDocument, State

root, statement = Path(sys.argv[1]), sys.argv[2]
state = State(root / "state" / "db.sqlite3", root / "out", "{seq:03d}_{id}.txt").open()


def kill_before(sql: str) -> None:
    if sql.startswith(statement):
        os.kill(os.getpid(), signal.SIGKILL)


state.db.connection.set_trace_callback(kill_before)
state.documents.save(
    NewDocument(
        doc_id="0000000000000001",
        canonical_url="https://news.example/1",
        body_hash="hash1",
        text="Title 1",
        filename_date=datetime(2024, 5, 2, tzinfo=UTC),
        feed_url="https://news.example/feed",
        entry_key="guid:1",
        entry_link="https://news.example/1",
        manifest=ManifestEntry(
            url="https://news.example/1",
            canonical_url=None,
            title="Title 1",
            published=None,
            fetched=datetime(2024, 5, 2, tzinfo=UTC),
            feed="https://news.example/feed",
            feed_name=None,
            tags=None,
            guid=None,
            entry_link=None,
            language=None,
            source="page",
            fallback_reason=None,
            body_sha256="0" * 64,
        ),
    )
)
"""


@pytest.mark.parametrize(
    ("statement", "written_before_the_kill"),
    [
        # Right after step 1 commits (the connection goes back to synchronous NORMAL).
        ("PRAGMA synchronous=NORMAL", False),
        # After steps 2 and 3 (file written, manifest line appended), before step 4 marks it saved.
        ("UPDATE documents SET state = 'saved'", True),
    ],
)
def test_a_save_killed_midway_is_finished_on_open_and_listed_once(
    tmp_path: Path, statement: str, written_before_the_kill: bool
) -> None:
    """The real save, in a process SIGKILLed just before the given SQL statement runs."""
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_SAVE, str(tmp_path), statement],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "daemon")},
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    path = tmp_path / "out" / "000_0000000000000001.txt"
    assert path.exists() == written_before_the_kill
    manifest = tmp_path / "out" / MANIFEST
    assert manifest.exists() == written_before_the_kill
    with State(tmp_path / "state" / "db.sqlite3", tmp_path / "out", "", read_only=True) as state:
        stored = state.documents.find("0000000000000001")
        assert stored is not None and stored.state == "pending"
    with _state(tmp_path) as state:
        stored = state.documents.find("0000000000000001")
        assert stored is not None and stored.state == "saved"
        assert state.documents.save(_doc(2)).seq == 1
    assert path.read_text() == "Title 1"
    assert [line["seq"] for line in _manifest(tmp_path)] == [0, 1]
