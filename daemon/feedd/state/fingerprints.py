"""The `fingerprints` table: near-duplicate fingerprints of saved documents, kept for the dedup
window, and the parameters they were made with."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from feedd.dedup import FingerprintRecord
from feedd.state.database import Database, stored_time
from feedd.state.records import FingerprintSketch, StoredFingerprint

#: The `meta` key under which the parameters of the stored fingerprints are recorded.
_PARAMS_KEY = "near_duplicate_params"
#: Seqs per query: SQLite allows a limited number of bound parameters.
_CHUNK = 500


class Fingerprints:
    """Fingerprints by document seq."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def add(self, seq: int, record: FingerprintRecord, saved_at: datetime) -> None:
        """Keep a saved document's fingerprint (inside the save's transaction)."""
        self._database.connection.execute(
            "INSERT INTO fingerprints (seq, saved_at, text, shingles, minhash) VALUES (?, ?, ?, ?, ?)",
            (seq, stored_time(saved_at), record.text, record.shingles, record.minhash),
        )

    def of_documents(self, seqs: Iterable[int]) -> Iterator[StoredFingerprint]:
        """The fingerprints of these documents (those still kept), in no particular order."""
        seqs = list(seqs)
        for start in range(0, len(seqs), _CHUNK):
            chunk = seqs[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._database.connection.execute(
                "SELECT f.seq, d.id, f.text, f.shingles, f.minhash FROM fingerprints f"
                f" JOIN documents d USING (seq) WHERE f.seq IN ({marks})",
                chunk,
            )
            yield from map(_stored, rows)

    def since(self, since: datetime) -> Iterator[StoredFingerprint]:
        """The fingerprints of documents saved at or after `since`, by seq."""
        rows = self._database.connection.execute(
            "SELECT f.seq, d.id, f.text, f.shingles, f.minhash FROM fingerprints f"
            " JOIN documents d USING (seq) WHERE f.saved_at >= ? ORDER BY f.seq",
            (stored_time(since),),
        )
        yield from map(_stored, rows)

    def sketches_since(self, since: datetime) -> Iterator[FingerprintSketch]:
        """The MinHash values only (what an index loads), of documents saved at or after `since`."""
        rows = self._database.connection.execute(
            "SELECT seq, minhash FROM fingerprints WHERE saved_at >= ? ORDER BY seq", (stored_time(since),)
        )
        for seq, minhash in rows:
            yield FingerprintSketch(seq, minhash)

    def replace(self, recomputed: Mapping[int, FingerprintRecord]) -> None:
        """Store fingerprints recomputed from the same text (after a change of detector
        parameters): their shingles and MinHash values, by seq."""
        with self._database.transaction() as db:
            db.executemany(
                "UPDATE fingerprints SET shingles = ?, minhash = ? WHERE seq = ?",
                ((record.shingles, record.minhash, seq) for seq, record in recomputed.items()),
            )

    def forget_before(self, cutoff: datetime) -> list[int]:
        """Drop fingerprints of documents saved before `cutoff`; return their seqs."""
        db = self._database.connection
        cutoff_text = stored_time(cutoff)
        seqs = [
            row[0] for row in db.execute("SELECT seq FROM fingerprints WHERE saved_at < ?", (cutoff_text,))
        ]
        if seqs:
            db.execute("DELETE FROM fingerprints WHERE saved_at < ?", (cutoff_text,))
        return seqs

    def parameters(self) -> str | None:
        """The detector parameters the stored fingerprints were made with, as recorded."""
        return self._database.meta(_PARAMS_KEY)

    def record_parameters(self, recorded: str) -> None:
        self._database.set_meta(_PARAMS_KEY, recorded)


def _stored(row: sqlite3.Row) -> StoredFingerprint:
    seq, doc_id, text, shingles, minhash = row
    return StoredFingerprint(seq, doc_id, FingerprintRecord(text=text, shingles=shingles, minhash=minhash))
