"""State (SQLite, WAL) and output (documents, manifest): crash-safe, nothing lost or doubled.

Saving a document is a small write-ahead protocol:
1. one transaction allocates `seq`, records the entry as saved and keeps the rendered text and
   manifest line in a `pending` document row;
2. the file is written to a temp file in its folder, fsynced and renamed into place;
3. the manifest line is appended and fsynced;
4. the row is marked `saved`.
A crash anywhere leaves a pending row that `Store.open` completes, so a document is never lost,
never written twice, and `seq` is never reused.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feedd.dedup.fingerprint import FingerprintRecord
from feedd.errors import DocumentWriteError, StateError, StateLockedError
from feedd.output.render import render_filename

SCHEMA_VERSION = 4
MANIFEST = "manifest.jsonl"
DUPLICATES_LOG = "duplicates.jsonl"
_TEMP_SUFFIX = ".feedd-tmp"
#: A failing entry is retried on this many passes before it is given up.
MAX_ENTRY_ATTEMPTS = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    last_polled TEXT,
    last_result TEXT,
    last_error TEXT,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    next_poll TEXT,
    interval REAL,
    interval_reason TEXT
);
CREATE TABLE IF NOT EXISTS documents (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    canonical_url TEXT UNIQUE,
    body_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    feed_url TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'saved')),
    pending_text TEXT,
    manifest_line TEXT NOT NULL,
    nearest TEXT
);
CREATE INDEX IF NOT EXISTS documents_body_hash ON documents (body_hash);
CREATE INDEX IF NOT EXISTS documents_pending ON documents (state) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS entries (
    feed_url TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    link TEXT,
    status TEXT NOT NULL CHECK (status IN ('saved', 'duplicate', 'failed')),
    document_id TEXT,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    title TEXT,
    canonical_url TEXT,
    jaccard REAL,
    containment REAL,
    evidence TEXT,
    PRIMARY KEY (feed_url, entry_key)
);
CREATE INDEX IF NOT EXISTS entries_status_seen ON entries (status, last_seen);
CREATE TABLE IF NOT EXISTS fingerprints (
    seq INTEGER PRIMARY KEY,
    saved_at TEXT NOT NULL,
    text BLOB NOT NULL,
    shingles BLOB NOT NULL,
    minhash BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS fingerprints_saved_at ON fingerprints (saved_at);
CREATE TABLE IF NOT EXISTS waiting (
    feed_url TEXT NOT NULL,
    entry_key TEXT NOT NULL,
    queued_at TEXT NOT NULL,
    body_words INTEGER NOT NULL,
    document TEXT NOT NULL,
    fingerprint_text BLOB,
    fingerprint_shingles BLOB,
    fingerprint_minhash BLOB,
    PRIMARY KEY (feed_url, entry_key)
);
CREATE TABLE IF NOT EXISTS robots (
    origin TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    expires TEXT NOT NULL
);
"""
# Statements that bring a database of schema version N-1 to N.
_MIGRATIONS = {
    2: [
        "ALTER TABLE entries ADD COLUMN title TEXT",
        "ALTER TABLE entries ADD COLUMN canonical_url TEXT",
        "ALTER TABLE entries ADD COLUMN jaccard REAL",
        "ALTER TABLE entries ADD COLUMN containment REAL",
    ],
    3: [
        "ALTER TABLE feeds ADD COLUMN next_poll TEXT",
        "ALTER TABLE feeds ADD COLUMN interval REAL",
        "ALTER TABLE feeds ADD COLUMN interval_reason TEXT",
    ],
    4: [
        "ALTER TABLE entries ADD COLUMN evidence TEXT",
        "ALTER TABLE documents ADD COLUMN nearest TEXT",
    ],
}


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the previous poll of a feed left for the next: its HTTP validators."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A rendered document ready to be saved, with its manifest metadata."""

    doc_id: str
    canonical_url: str
    body_hash: str
    text: str
    filename_date: datetime
    feed_url: str
    entry_key: str
    entry_link: str | None
    metadata: dict[str, Any]
    #: Near-duplicate detection's record: (compressed text, shingles, minhash), opaque here.
    fingerprint: FingerprintRecord | None = None


@dataclass(frozen=True, slots=True)
class SavedDocument:
    seq: int
    doc_id: str
    path: Path


class Store:
    """The state database and the output folder of one feedd installation."""

    def __init__(
        self,
        database: Path,
        output_dir: Path,
        filename_template: str,
        *,
        log_duplicates: bool = False,
        read_only: bool = False,
    ) -> None:
        self.database = database
        self.output_dir = output_dir
        self.log_duplicates = log_duplicates
        #: Read-only stores take no lock, so `feedd dups` and `explain` work beside a running pass.
        self.read_only = read_only
        self._template = filename_template
        self._db: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    # -- life cycle ---------------------------------------------------------------------------

    def open(self) -> Store:
        """Lock the state, create what is missing, and finish any interrupted save."""
        if self.read_only:
            return self._open_read_only()
        for folder, what in ((self.database.parent, "database folder"), (self.output_dir, "output_dir")):
            if folder.exists() and not folder.is_dir():
                raise StateError(f"{what} {folder} exists and is not a folder")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StateError(f"cannot create {what} {folder}: {exc.strerror}") from None
        if not os.access(self.output_dir, os.W_OK):
            raise StateError(f"output_dir {self.output_dir} is not writable")
        self._lock()
        try:
            self._db = sqlite3.connect(self.database, isolation_level=None, timeout=30)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit survives a process crash but may be lost with power. Only the
            # seq-allocating commit must survive power loss too; save_document makes it FULL.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._check_schema()
            self._recover()
        except sqlite3.Error as exc:
            self.close()
            raise StateError(f"state database {self.database}: {exc}") from None
        return self

    def _open_read_only(self) -> Store:
        if not self.database.exists():
            raise StateError(f"no state database at {self.database} (has feedd run yet?)")
        try:
            self._db = sqlite3.connect(f"{self.database.as_uri()}?mode=ro", uri=True, timeout=30)
            self._db.row_factory = sqlite3.Row
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.Error as exc:
            self.close()
            raise StateError(f"state database {self.database}: {exc}") from None
        if row is None or int(row["value"]) != SCHEMA_VERSION:
            self.close()
            raise StateError(
                f"{self.database} has schema {row and row['value']}; run feedd once to upgrade it"
            )
        return self

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Store:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _lock(self) -> None:
        lock_path = self.database.with_name(self.database.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateLockedError(
                f"another feedd process is using {self.database} (lock held on {lock_path})"
            ) from None
        self._lock_fd = fd

    def _check_schema(self) -> None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self.db.execute("INSERT OR IGNORE INTO meta VALUES ('next_seq', '0')")
            return
        version = int(row["value"])
        if version > SCHEMA_VERSION:
            raise StateError(f"{self.database} was written by a newer feedd (schema {version})")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            self.db.execute("BEGIN IMMEDIATE")
            for statement in _MIGRATIONS[target]:
                self.db.execute(statement)
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(target),))
            self.db.execute("COMMIT")

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise StateError("the store is not open")
        return self._db

    # -- feeds --------------------------------------------------------------------------------

    def feed_state(self, url: str) -> FeedState:
        row = self.db.execute("SELECT etag, last_modified FROM feeds WHERE url = ?", (url,)).fetchone()
        return FeedState(row["etag"], row["last_modified"]) if row else FeedState()

    def record_poll(
        self,
        url: str,
        *,
        result: str,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        clear_validators: bool = False,
    ) -> None:
        """Remember a poll's outcome. Validators are kept from earlier polls unless replaced, or
        cleared so that the next poll fetches the whole feed."""
        now = _now()
        failed = error is not None
        if clear_validators:
            self.db.execute("UPDATE feeds SET etag = NULL, last_modified = NULL WHERE url = ?", (url,))
        self.db.execute(
            """
            INSERT INTO feeds (url, etag, last_modified, last_polled, last_result, last_error,
                               consecutive_errors)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (url) DO UPDATE SET
                etag = COALESCE(excluded.etag, feeds.etag),
                last_modified = COALESCE(excluded.last_modified, feeds.last_modified),
                last_polled = excluded.last_polled,
                last_result = excluded.last_result,
                last_error = excluded.last_error,
                consecutive_errors = CASE WHEN ? THEN feeds.consecutive_errors + 1 ELSE 0 END
            """,
            (url, etag, last_modified, now, result, error, int(failed), failed),
        )

    def record_schedule(self, url: str, *, next_poll: str, interval: float, reason: str) -> None:
        self.db.execute(
            "UPDATE feeds SET next_poll = ?, interval = ?, interval_reason = ? WHERE url = ?",
            (next_poll, interval, reason, url),
        )

    def consecutive_errors(self, url: str) -> int:
        row = self.db.execute("SELECT consecutive_errors FROM feeds WHERE url = ?", (url,)).fetchone()
        return row[0] if row else 0

    def new_entries_per_day(self, url: str, days: int = 7) -> float | None:
        """How many entries a feed brought per day over the last `days` (None before a day of
        history: a new feed has no rhythm yet)."""
        row = self.db.execute(
            "SELECT MIN(first_seen), COUNT(*) FROM entries WHERE feed_url = ? AND first_seen >= ?",
            (url, (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")),
        ).fetchone()
        first = self.db.execute("SELECT MIN(first_seen) FROM entries WHERE feed_url = ?", (url,)).fetchone()[
            0
        ]
        if first is None:
            return None
        observed = min(days * 86400.0, (datetime.now(UTC) - datetime.fromisoformat(first)).total_seconds())
        if observed < 86400.0:
            return None
        return row[1] / (observed / 86400.0)

    def feed_statuses(self) -> list[sqlite3.Row]:
        """Every polled feed with its last result, schedule and entry counts (for `feedd status`)."""
        return self.db.execute(
            """
            SELECT f.*,
                   (SELECT COUNT(*) FROM entries e WHERE e.feed_url = f.url AND e.status = 'saved') AS saved,
                   (SELECT COUNT(*) FROM entries e WHERE e.feed_url = f.url AND e.status = 'duplicate')
                       AS dropped,
                   (SELECT COUNT(*) FROM entries e WHERE e.feed_url = f.url AND e.status = 'failed')
                       AS failed
            FROM feeds f ORDER BY f.url
            """
        ).fetchall()

    # -- documents waiting for the shared dedup index ------------------------------------------

    def queue_waiting(self, document: NewDocument, body_words: int) -> None:
        """Keep a rendered document until the shared index can decide on it (Redis down)."""
        fields = {
            "doc_id": document.doc_id,
            "canonical_url": document.canonical_url,
            "body_hash": document.body_hash,
            "text": document.text,
            "filename_date": document.filename_date.isoformat(),
            "entry_link": document.entry_link,
            "metadata": document.metadata,
        }
        fingerprint = _blobs(document.fingerprint) if document.fingerprint else (None, None, None)
        self.db.execute(
            "INSERT OR REPLACE INTO waiting VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document.feed_url,
                document.entry_key,
                _now(),
                body_words,
                json.dumps(fields, ensure_ascii=False),
                *fingerprint,
            ),
        )

    def waiting(self) -> Iterator[tuple[NewDocument, int]]:
        """The documents waiting, oldest first, with their body word counts."""
        rows = self.db.execute("SELECT * FROM waiting ORDER BY queued_at, rowid").fetchall()
        for row in rows:
            fields = json.loads(row["document"])
            blobs = (row["fingerprint_text"], row["fingerprint_shingles"], row["fingerprint_minhash"])
            yield (
                NewDocument(
                    doc_id=fields["doc_id"],
                    canonical_url=fields["canonical_url"],
                    body_hash=fields["body_hash"],
                    text=fields["text"],
                    filename_date=datetime.fromisoformat(fields["filename_date"]),
                    feed_url=row["feed_url"],
                    entry_key=row["entry_key"],
                    entry_link=fields["entry_link"],
                    metadata=fields["metadata"],
                    fingerprint=FingerprintRecord(*blobs) if blobs[0] is not None else None,
                ),
                row["body_words"],
            )

    def unqueue_waiting(self, feed_url: str, entry_key: str) -> None:
        self.db.execute("DELETE FROM waiting WHERE feed_url = ? AND entry_key = ?", (feed_url, entry_key))

    # -- robots.txt ---------------------------------------------------------------------------

    def cached_robots(self, origin: str, now: datetime) -> tuple[int, str, datetime] | None:
        """The status, body and expiry of `origin`'s robots.txt as last fetched, unless expired."""
        row = self.db.execute(
            "SELECT status, body, expires FROM robots WHERE origin = ? AND expires > ?",
            (origin, now.isoformat(timespec="seconds")),
        ).fetchone()
        return (row["status"], row["body"], datetime.fromisoformat(row["expires"])) if row else None

    def cache_robots(self, origin: str, status: int, body: str, expires: datetime) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO robots VALUES (?, ?, ?, ?)",
            (origin, status, body, expires.isoformat(timespec="seconds")),
        )

    # -- entries ------------------------------------------------------------------------------

    def settled_entry_keys(self, feed_url: str) -> set[str]:
        """Keys of this feed's entries that need no more work from a poll (saved, duplicate,
        given up, or rendered and waiting for the shared dedup index)."""
        rows = self.db.execute(
            "SELECT entry_key FROM entries WHERE feed_url = ? AND (status != 'failed' OR attempts >= ?)"
            " UNION SELECT entry_key FROM waiting WHERE feed_url = ?",
            (feed_url, MAX_ENTRY_ATTEMPTS, feed_url),
        )
        return {row[0] for row in rows}

    def failed_attempts(self, feed_url: str) -> dict[str, int]:
        """How often each of this feed's still-unsettled entries has failed so far."""
        rows = self.db.execute(
            "SELECT entry_key, attempts FROM entries"
            " WHERE feed_url = ? AND status = 'failed' AND attempts < ?",
            (feed_url, MAX_ENTRY_ATTEMPTS),
        )
        return dict(rows.fetchall())

    def record_duplicate(
        self,
        feed_url: str,
        entry_key: str,
        link: str | None,
        of: str,
        reason: str,
        *,
        title: str | None = None,
        canonical_url: str | None = None,
        jaccard: float | None = None,
        containment: float | None = None,
        evidence: str | None = None,
    ) -> None:
        """Record a dropped entry: which saved document it matched, how closely, and the
        verification's evidence (JSON, opaque here)."""
        self._record_entry(feed_url, entry_key, link, "duplicate", of, reason)
        self.db.execute(
            "UPDATE entries SET title = ?, canonical_url = ?, jaccard = ?, containment = ?, evidence = ?"
            " WHERE feed_url = ? AND entry_key = ?",
            (title, canonical_url or None, jaccard, containment, evidence, feed_url, entry_key),
        )
        if self.log_duplicates:
            line = {
                "detected": _now(),
                "feed": feed_url,
                "entry_link": link,
                "canonical_url": canonical_url or None,
                "title": title,
                "duplicate_of": of,
                "reason": reason,
                "jaccard": jaccard,
                "containment": containment,
                "evidence": json.loads(evidence) if evidence else None,
            }
            _append_line(self.output_dir / DUPLICATES_LOG, json.dumps(line, ensure_ascii=False))

    def record_failure(
        self, feed_url: str, entry_key: str, link: str | None, reason: str, *, count_attempt: bool = True
    ) -> None:
        """Record a failed entry; with count_attempt=False the failure is not the entry's fault
        (a shared index down) and does not bring it closer to being given up."""
        self._record_entry(feed_url, entry_key, link, "failed", None, reason, count_attempt=count_attempt)

    def _record_entry(
        self,
        feed_url: str,
        key: str,
        link: str | None,
        status: str,
        document_id: str | None,
        reason: str | None,
        *,
        count_attempt: bool = True,
    ) -> None:
        now = _now()
        attempt = 1 if count_attempt else 0
        self.db.execute(
            """
            INSERT INTO entries (feed_url, entry_key, link, status, document_id, reason, attempts,
                                 first_seen, last_seen)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (feed_url, entry_key) DO UPDATE SET
                status = excluded.status, document_id = excluded.document_id,
                reason = excluded.reason, attempts = entries.attempts + ?, last_seen = excluded.last_seen
            """,
            (feed_url, key, link, status, document_id, reason, attempt, now, now, attempt),
        )

    # -- documents ----------------------------------------------------------------------------

    def document_id_by_url(self, canonical_url: str) -> str | None:
        row = self.db.execute("SELECT id FROM documents WHERE canonical_url = ?", (canonical_url,)).fetchone()
        return row[0] if row else None

    def document_id_by_body_hash(self, body_hash: str) -> str | None:
        row = self.db.execute("SELECT id FROM documents WHERE body_hash = ? LIMIT 1", (body_hash,)).fetchone()
        return row[0] if row else None

    def save_document(self, document: NewDocument, *, nearest: str | None = None) -> SavedDocument:
        """Save atomically and durably; see the module docstring for the protocol. `nearest`:
        the closest saved document found to be another story, and why (JSON, opaque here)."""
        db = self.db
        db.execute("PRAGMA synchronous=FULL")
        db.execute("BEGIN IMMEDIATE")
        try:
            seq = int(db.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()[0])
            relative = render_filename(
                self._template, seq=seq, doc_id=document.doc_id, day=document.filename_date
            )
            manifest_line = json.dumps(
                {"seq": seq, "id": document.doc_id, "file": relative, **document.metadata},
                ensure_ascii=False,
                sort_keys=False,
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
                    _now(),
                    document.text,
                    manifest_line,
                    nearest,
                ),
            )
            if document.fingerprint is not None:
                db.execute(
                    "INSERT INTO fingerprints (seq, saved_at, text, shingles, minhash)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        seq,
                        _now(),
                        document.fingerprint.text,
                        document.fingerprint.shingles,
                        document.fingerprint.minhash,
                    ),
                )
            db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (str(seq + 1),))
            self._record_entry(
                document.feed_url, document.entry_key, document.entry_link, "saved", document.doc_id, None
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.execute("PRAGMA synchronous=NORMAL")
        try:
            self._complete(seq, relative, document.text, manifest_line)
        except OSError as exc:
            # The pending row stays: the next Store.open finishes this save.
            raise DocumentWriteError(
                f"cannot write {self.output_dir / relative}: {exc.strerror or exc}"
            ) from None
        return SavedDocument(seq=seq, doc_id=document.doc_id, path=self.output_dir / relative)

    def _complete(
        self, seq: int, relative: str, text: str, manifest_line: str, *, manifest_seqs: set[int] | None = None
    ) -> None:
        """Steps 2-4 of a save; safe to repeat after a crash."""
        path = self.output_dir / relative
        if not path.exists():
            _write_atomically(path, text.encode("utf-8"))
        if manifest_seqs is None or seq not in manifest_seqs:
            self._append_manifest(manifest_line)
        self.db.execute("UPDATE documents SET state = 'saved', pending_text = NULL WHERE seq = ?", (seq,))

    def _append_manifest(self, line: str) -> None:
        _append_line(self.output_dir / MANIFEST, line)

    def _recover(self) -> None:
        """Finish saves a crash interrupted and clear what it left half-written."""
        for temp in self.output_dir.rglob(f".*{_TEMP_SUFFIX}"):
            temp.unlink(missing_ok=True)
        manifest = self.output_dir / MANIFEST
        _drop_torn_last_line(manifest)
        pending = self.db.execute(
            "SELECT seq, path, pending_text, manifest_line FROM documents"
            " WHERE state = 'pending' ORDER BY seq"
        ).fetchall()
        if not pending:
            return
        listed = _manifest_seqs(manifest)
        for row in pending:
            try:
                self._complete(
                    row["seq"], row["path"], row["pending_text"], row["manifest_line"], manifest_seqs=listed
                )
            except OSError as exc:
                raise StateError(
                    f"cannot finish saving {self.output_dir / row['path']}: {exc.strerror or exc}"
                ) from None

    # -- near-duplicate fingerprints ---------------------------------------------------------

    def fingerprint_shingles(self, seqs: Iterable[int]) -> Iterator[tuple[int, str, bytes, bytes]]:
        """(seq, document id, shingles blob, compressed text) of the given documents."""
        seqs = list(seqs)
        for start in range(0, len(seqs), 500):
            chunk = seqs[start : start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self.db.execute(
                f"SELECT f.seq, d.id, f.shingles, f.text FROM fingerprints f JOIN documents d USING (seq)"
                f" WHERE f.seq IN ({marks})",
                chunk,
            )

    def fingerprints_since(self, since: str, *, with_text: bool = False) -> Iterator[tuple]:
        """(seq, minhash blob), or (seq, compressed text, minhash blob), of documents saved at or
        after `since`."""
        columns = "seq, text, minhash" if with_text else "seq, minhash"
        yield from self.db.execute(
            f"SELECT {columns} FROM fingerprints WHERE saved_at >= ? ORDER BY seq", (since,)
        )

    def replace_fingerprints(self, rows: Iterable[tuple[int, bytes, bytes]]) -> None:
        """Store recomputed (seq, shingles, minhash), after a change of detector parameters."""
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany(
            "UPDATE fingerprints SET shingles = ?, minhash = ? WHERE seq = ?",
            ((shingles, minhash, seq) for seq, shingles, minhash in rows),
        )
        self.db.execute("COMMIT")

    def forget_fingerprints_before(self, cutoff: str) -> list[int]:
        """Drop fingerprints older than the window; return their seqs."""
        seqs = [
            row[0] for row in self.db.execute("SELECT seq FROM fingerprints WHERE saved_at < ?", (cutoff,))
        ]
        if seqs:
            self.db.execute("DELETE FROM fingerprints WHERE saved_at < ?", (cutoff,))
        return seqs

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def instance_id(self) -> str:
        """This state's identity, made on first use: which feedd instance claimed a story."""
        if (known := self.meta("instance_id")) is None:
            known = uuid.uuid4().hex
            self.set_meta("instance_id", known)
        return known

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- history, for `feedd dups` and `feedd explain` -----------------------------------------

    def recent_duplicates(self, limit: int) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT e.*, d.path AS kept_path, d.seq AS kept_seq FROM entries e"
            " LEFT JOIN documents d ON d.id = e.document_id"
            " WHERE e.status = 'duplicate' ORDER BY e.last_seen DESC, e.rowid DESC LIMIT ?",
            (limit,),
        ).fetchall()

    def find_document(self, ident: str) -> sqlite3.Row | None:
        """A saved document by id, canonical URL, or the link of the entry it came from."""
        return self.db.execute(
            "SELECT d.*, e.link AS entry_link FROM documents d"
            " LEFT JOIN entries e ON e.feed_url = d.feed_url AND e.entry_key = d.entry_key"
            " WHERE d.id = ? OR d.canonical_url = ? OR e.link = ? LIMIT 1",
            (ident, ident, ident),
        ).fetchone()

    def find_entries(self, ident: str) -> list[sqlite3.Row]:
        """Entries whose link or canonical URL is `ident`, or that matched document `ident`."""
        return self.db.execute(
            "SELECT * FROM entries WHERE link = ? OR canonical_url = ? OR document_id = ? ORDER BY last_seen",
            (ident, ident, ident),
        ).fetchall()


def _append_line(path: Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        _write_all(fd, (line + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _drop_torn_last_line(manifest: Path) -> None:
    """A crash mid-append can leave a partial last line; cut it (its save is still pending)."""
    try:
        handle = open(manifest, "r+b")
    except FileNotFoundError:
        return
    with handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return
        handle.seek(size - 1)
        if handle.read(1) == b"\n":
            return
        handle.seek(0)
        keep = handle.read().rfind(b"\n") + 1
        handle.truncate(keep)
        os.fsync(handle.fileno())


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


def _write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename, fsync the folder. Mode 0666 minus umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}{_TEMP_SUFFIX}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(temp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _blobs(record: FingerprintRecord) -> tuple[bytes, bytes, bytes]:
    return record.text, record.shingles, record.minhash
