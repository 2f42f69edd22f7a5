"""The `extensions` table: which saved documents a kept one holds most of and adds text to (a
full story after its teaser, a write-through, a roll-up with reporting of its own). Written with
the document, in its save's transaction; read by `feedd explain` and `feedd dups --extends`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime

from feedd.dedup import EXTENDS, DuplicateMatch, Evidence
from feedd.state.database import Database, read_time, stored_time
from feedd.state.records import Extension


class Extensions:
    """Kept document -> the saved documents it extends."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def record(self, doc_id: str, extends: Sequence[DuplicateMatch], saved_at: datetime) -> None:
        """What `doc_id` extends (inside its save's transaction)."""
        self._database.connection.executemany(
            "INSERT OR REPLACE INTO extensions VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    doc_id,
                    match.document_id,
                    match.jaccard,
                    match.containment,
                    match.evidence.to_json() if match.evidence else None,
                    stored_time(saved_at),
                )
                for match in extends
            ],
        )

    def of(self, doc_id: str) -> list[Extension]:
        """What `doc_id` extends, the most held first."""
        return sorted(self._select("WHERE document_id = ?", (doc_id,)), key=lambda e: -_held(e.match))

    def extended_by(self, doc_id: str) -> list[Extension]:
        """The kept documents that extend `doc_id`, oldest first."""
        return self._select("WHERE extends_id = ? ORDER BY saved_at, document_id", (doc_id,))

    def recent(self, limit: int) -> list[Extension]:
        """The latest extensions, newest first."""
        return self._select("ORDER BY saved_at DESC, document_id LIMIT ?", (limit,))

    def _select(self, clause: str, parameters: tuple[object, ...]) -> list[Extension]:
        rows = self._database.connection.execute(f"SELECT * FROM extensions {clause}", parameters)
        return [_extension(row) for row in rows]


def _held(match: DuplicateMatch) -> float:
    """How much of the extended document the kept one holds."""
    if match.evidence is not None and match.evidence.saved_share is not None:
        return match.evidence.saved_share
    return match.containment or 0.0


def _extension(row: sqlite3.Row) -> Extension:
    evidence = row["evidence"]
    return Extension(
        doc_id=row["document_id"],
        saved_at=read_time(row["saved_at"]),
        match=DuplicateMatch(
            row["extends_id"],
            EXTENDS,
            jaccard=row["jaccard"],
            containment=row["containment"],
            evidence=Evidence.from_dict(json.loads(evidence)) if evidence else None,
        ),
    )
