"""The `waiting` table: rendered documents kept while the shared dedup index cannot answer."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from feedd.dedup import FingerprintRecord
from feedd.output import ManifestEntry
from feedd.state.database import Database, now_stored, read_time
from feedd.state.records import NewDocument, WaitingDocument


class Waiting:
    """Documents waiting for a dedup decision, by feed and entry key."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def queue(self, document: NewDocument, body_words: int) -> None:
        """Keep a rendered document until the shared index can decide on it (Redis down)."""
        fields = {
            "doc_id": document.doc_id,
            "canonical_url": document.canonical_url,
            "body_hash": document.body_hash,
            "text": document.text,
            "filename_date": document.filename_date.isoformat(),
            "entry_link": document.entry_link,
            "metadata": document.manifest.as_dict(),  # the key states written before kept
        }
        fingerprint = document.fingerprint
        self._database.connection.execute(
            "INSERT OR REPLACE INTO waiting VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                document.feed_url,
                document.entry_key,
                now_stored(),
                body_words,
                json.dumps(fields, ensure_ascii=False),
                fingerprint.text if fingerprint else None,
                fingerprint.shingles if fingerprint else None,
                fingerprint.minhash if fingerprint else None,
            ),
        )

    def documents(self) -> list[WaitingDocument]:
        """The documents waiting, oldest first."""
        rows = self._database.connection.execute("SELECT * FROM waiting ORDER BY queued_at, rowid")
        return [_waiting(row) for row in rows]

    def count(self) -> int:
        return int(self._database.connection.execute("SELECT COUNT(*) FROM waiting").fetchone()[0])

    def remove(self, feed_url: str, entry_key: str) -> None:
        self._database.connection.execute(
            "DELETE FROM waiting WHERE feed_url = ? AND entry_key = ?", (feed_url, entry_key)
        )


def _waiting(row: sqlite3.Row) -> WaitingDocument:
    fields = json.loads(row["document"])
    fingerprint = None
    if row["fingerprint_text"] is not None:
        fingerprint = FingerprintRecord(
            text=row["fingerprint_text"],
            shingles=row["fingerprint_shingles"],
            minhash=row["fingerprint_minhash"],
        )
    document = NewDocument(
        doc_id=fields["doc_id"],
        canonical_url=fields["canonical_url"],
        body_hash=fields["body_hash"],
        text=fields["text"],
        filename_date=datetime.fromisoformat(fields["filename_date"]),
        feed_url=row["feed_url"],
        entry_key=row["entry_key"],
        entry_link=fields["entry_link"],
        manifest=ManifestEntry.from_dict(fields["metadata"]),
        fingerprint=fingerprint,
    )
    return WaitingDocument(document, row["body_words"], read_time(row["queued_at"]))
