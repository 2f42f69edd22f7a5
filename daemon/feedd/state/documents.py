"""The `documents` table and the output folder: crash-safe saves, nothing lost or doubled.

Saving a document is a small write-ahead protocol:
1. one transaction allocates `seq`, records the entry as saved and keeps the rendered text and
   manifest line in a `pending` document row;
2. the file is written to a temp file in its folder, fsynced and renamed into place;
3. the manifest line is appended and fsynced;
4. the row is marked `saved`.
A crash anywhere leaves a pending row that `recover` (run by `State.open`) completes, so a
document is never lost, never written twice, and `seq` is never reused.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from feedd.config import MANIFEST, render_filename
from feedd.dedup import INDEPENDENT_WRITE_UP, DuplicateMatch, Evidence
from feedd.errors import DocumentWriteError, StateError
from feedd.output import (
    append_line,
    remove_temp_files,
    write_atomically,
)
from feedd.state.database import Database, read_time, stored_time
from feedd.state.entries import Entries
from feedd.state.extensions import Extensions
from feedd.state.fingerprints import Fingerprints
from feedd.state.records import NewDocument, SavedDocument, StoredDocument

log = logging.getLogger(__name__)


class Documents:
    """Saved documents by seq, id, canonical URL and body hash; their files and manifest."""

    def __init__(
        self,
        database: Database,
        output_dir: Path,
        filename_template: str,
        entries: Entries,
        fingerprints: Fingerprints,
        extensions: Extensions,
    ) -> None:
        self._database = database
        self._output_dir = output_dir
        self._template = filename_template
        self._entries = entries
        self._fingerprints = fingerprints
        self._extensions = extensions

    def document_id_by_url(self, canonical_url: str) -> str | None:
        row = self._database.connection.execute(
            "SELECT id FROM documents WHERE canonical_url = ?", (canonical_url,)
        ).fetchone()
        return row[0] if row else None

    def document_id_by_body_hash(self, body_hash: str) -> str | None:
        row = self._database.connection.execute(
            "SELECT id FROM documents WHERE body_hash = ? LIMIT 1", (body_hash,)
        ).fetchone()
        return row[0] if row else None

    def file_of(self, doc_id: str) -> str | None:
        """A saved document's path under the output folder."""
        row = self._database.connection.execute(
            "SELECT path FROM documents WHERE id = ?", (doc_id,)
        ).fetchone()
        return row[0] if row else None

    def find(self, ident: str) -> StoredDocument | None:
        """A saved document by id, seq, canonical URL, the link of the entry it came from, or its
        file (as `feedd dups` shows it, or its path under the output folder)."""
        path = self._relative(ident)
        seq = int(ident) if ident.isdigit() else None
        # One indexed lookup per way of naming it (an OR across the join scanned every document);
        # the lowest seq that matches, as before.
        row = self._database.connection.execute(
            "SELECT d.*, e.link AS entry_link FROM documents d"
            " LEFT JOIN entries e ON e.feed_url = d.feed_url AND e.entry_key = d.entry_key"
            " WHERE d.seq IN ("
            "SELECT seq FROM documents WHERE id = ?"
            " UNION ALL SELECT seq FROM documents WHERE canonical_url = ?"
            " UNION ALL SELECT seq FROM documents WHERE path = ? UNION ALL SELECT ?"
            " UNION ALL SELECT l.seq FROM entries le JOIN documents l ON l.id = le.document_id"
            " AND l.feed_url = le.feed_url AND l.entry_key = le.entry_key WHERE le.link = ?"
            ") ORDER BY d.seq LIMIT 1",
            (ident, ident, path, seq, ident),
        ).fetchone()
        return _stored_document(row) if row else None

    def _relative(self, ident: str) -> str:
        """`ident` as a path under the output folder, if it is one."""
        try:
            return Path(ident).resolve().relative_to(self._output_dir.resolve()).as_posix()
        except (ValueError, OSError):
            return ident

    def save(
        self,
        document: NewDocument,
        *,
        nearest: DuplicateMatch | None = None,
        extends: Sequence[DuplicateMatch] = (),
    ) -> SavedDocument:
        """Save atomically and durably; see the module docstring for the protocol. `nearest`:
        the closest saved document found to be another story, and why; `extends`: the saved
        documents it holds most of and adds text to (also named in its manifest line)."""
        # A save an earlier write failure left pending (a full disk) is finished first, while
        # the daemon runs, not only at the next start.
        self._finish_pending()
        saved_at = datetime.now(UTC)
        with self._database.transaction(durable=True) as db:
            seq = int(db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0])
            relative = render_filename(
                self._template, seq=seq, doc_id=document.doc_id, day=document.filename_date
            )
            manifest_line = document.manifest.line(
                seq=seq,
                doc_id=document.doc_id,
                file=relative,
                extends=tuple(match.document_id for match in extends),
            )
            db.execute(
                """
                INSERT INTO documents (seq, id, canonical_url, body_hash, path, feed_url, entry_key,
                                       saved_at, state, pending_text, manifest_line, nearest)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
                """,
                (
                    seq,
                    document.doc_id,
                    document.canonical_url or None,
                    document.body_hash,
                    relative,
                    document.feed_url,
                    document.entry_key,
                    stored_time(saved_at),
                    document.text,
                    manifest_line,
                    _nearest_column(nearest),
                ),
            )
            if document.fingerprint is not None:
                self._fingerprints.add(seq, document.fingerprint, saved_at)
            self._extensions.record(document.doc_id, extends, saved_at)
            db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (str(seq + 1),))
            self._entries.record(
                document.feed_url, document.entry_key, document.entry_link, "saved", document.doc_id, None
            )
        # The pending row stays if this fails: the next save, or the next State.open, finishes it.
        self._complete(seq, relative, document.text, manifest_line)
        return SavedDocument(seq=seq, doc_id=document.doc_id, path=self._output_dir / relative)

    def recover(self) -> None:
        """Finish saves a crash interrupted and clear what it left half-written."""
        remove_temp_files(self._output_dir)
        try:
            listed = self._check_manifest()
            self._finish_pending(listed)
        except (OSError, DocumentWriteError) as exc:
            raise StateError(str(exc) if isinstance(exc, DocumentWriteError) else f"{exc}") from None

    def _check_manifest(self) -> set[int]:
        """Every line of the manifest must be one saved document's: a line torn by a crash or a
        full disk (by an older feedd, another line may have been appended to it) is dropped,
        and the lines of saved documents it hid are put back, the file rewritten in seq order.
        The seqs it lists."""
        manifest = self._output_dir / MANIFEST
        lines: dict[int, bytes] = {}
        torn = 0
        if manifest.exists():
            with open(manifest, "rb") as handle:
                for line in handle:
                    seq = _seq_of(line)
                    if seq is None:
                        torn += 1
                    else:
                        lines[seq] = line if line.endswith(b"\n") else line + b"\n"
        saved = self._database.connection.execute(
            "SELECT seq, manifest_line FROM documents WHERE state = 'saved'"
        ).fetchall()
        missing = {row["seq"]: row["manifest_line"] for row in saved if row["seq"] not in lines}
        if not torn and not missing:
            return set(lines)
        for seq, line in missing.items():
            lines[seq] = (line + "\n").encode("utf-8")
        log.warning(
            "%s: %d torn line(s) dropped, %d saved document(s) listed again",
            manifest,
            torn,
            len(missing),
        )
        write_atomically(manifest, b"".join(lines[seq] for seq in sorted(lines)))
        return set(lines)

    def _finish_pending(self, listed: set[int] | None = None) -> None:
        """Complete the saves left pending (a crash, a full disk). `listed`: the seqs the
        manifest has (read from it when not given)."""
        pending = self._database.connection.execute(
            "SELECT seq, path, pending_text, manifest_line FROM documents"
            " WHERE state = 'pending' ORDER BY seq"
        ).fetchall()
        if not pending:
            return
        if listed is None:
            listed = _manifest_seqs(self._output_dir / MANIFEST)
        for row in pending:
            self._complete(
                row["seq"], row["path"], row["pending_text"], row["manifest_line"], manifest_seqs=listed
            )

    def _complete(
        self, seq: int, relative: str, text: str, manifest_line: str, *, manifest_seqs: set[int] | None = None
    ) -> None:
        """Steps 2-4 of a save; safe to repeat after a crash. Raises DocumentWriteError naming
        the file that could not be written."""
        path = self._output_dir / relative
        manifest = self._output_dir / MANIFEST
        try:
            if not path.exists():
                write_atomically(path, text.encode("utf-8"))
        except OSError as exc:
            raise DocumentWriteError(f"cannot write {path}: {exc.strerror or exc}") from None
        try:
            if manifest_seqs is None or seq not in manifest_seqs:
                append_line(manifest, manifest_line)
        except OSError as exc:
            raise DocumentWriteError(f"cannot append to {manifest}: {exc.strerror or exc}") from None
        self._database.connection.execute(
            "UPDATE documents SET state = 'saved', pending_text = NULL WHERE seq = ?", (seq,)
        )


def _seq_of(line: bytes) -> int | None:
    """The seq of a whole manifest line, or None for a torn one."""
    try:
        seq = json.loads(line)["seq"]
    except (ValueError, KeyError, TypeError):
        return None
    return seq if isinstance(seq, int) and line.endswith(b"\n") else None


def _manifest_seqs(manifest: Path) -> set[int]:
    seqs = set()
    if manifest.exists():
        with open(manifest, "rb") as handle:
            for line in handle:
                try:
                    seqs.add(int(json.loads(line)["seq"]))
                except (ValueError, KeyError, TypeError):
                    continue
    return seqs


def _nearest_column(nearest: DuplicateMatch | None) -> str | None:
    if nearest is None:
        return None
    return json.dumps(
        {
            "document_id": nearest.document_id,
            "jaccard": nearest.jaccard,
            "containment": nearest.containment,
            "evidence": nearest.evidence.as_dict() if nearest.evidence else None,
        },
        ensure_ascii=False,
    )


def _nearest_match(column: str | None) -> DuplicateMatch | None:
    if not column:
        return None
    data = json.loads(column)
    evidence = data.get("evidence")
    return DuplicateMatch(
        data["document_id"],
        INDEPENDENT_WRITE_UP,
        jaccard=data.get("jaccard"),
        containment=data.get("containment"),
        evidence=Evidence.from_dict(evidence) if evidence else None,
    )


def _stored_document(row: sqlite3.Row) -> StoredDocument:
    return StoredDocument(
        seq=row["seq"],
        doc_id=row["id"],
        file=row["path"],
        canonical_url=row["canonical_url"],
        feed_url=row["feed_url"],
        entry_key=row["entry_key"],
        entry_link=row["entry_link"],
        saved_at=read_time(row["saved_at"]),
        state=row["state"],
        nearest=_nearest_match(row["nearest"]),
    )
