"""The `entries` table: what became of every feed entry (saved, duplicate, failed), and the
duplicates log beside the documents."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedd.dedup import DuplicateMatch, Evidence
from feedd.output import append_line
from feedd.state.database import Database, now_stored, read_time, stored_time
from feedd.state.records import DroppedEntry, EntryRecord, EntryStatus

#: A failing entry is retried on this many passes before it is given up.
MAX_ENTRY_ATTEMPTS = 3
#: With [dedup] log_duplicates, one JSON line per dropped entry, in the output folder.
DUPLICATES_LOG = "duplicates.jsonl"


class Entries:
    """Every entry seen, by feed and entry key."""

    def __init__(self, database: Database, output_dir: Path, *, log_duplicates: bool = False) -> None:
        self._database = database
        self._output_dir = output_dir
        self._log_duplicates = log_duplicates

    def settled_keys(self, feed_url: str) -> set[str]:
        """Keys of this feed's entries that need no more work from a poll (saved, duplicate,
        given up, or rendered and waiting for the shared dedup index)."""
        rows = self._database.connection.execute(
            "SELECT entry_key FROM entries WHERE feed_url = ? AND (status != 'failed' OR attempts >= ?)"
            " UNION SELECT entry_key FROM waiting WHERE feed_url = ?",
            (feed_url, MAX_ENTRY_ATTEMPTS, feed_url),
        )
        return {row[0] for row in rows}

    def failed_attempts(self, feed_url: str) -> dict[str, int]:
        """How often each of this feed's still-unsettled entries has failed so far."""
        rows = self._database.connection.execute(
            "SELECT entry_key, attempts FROM entries"
            " WHERE feed_url = ? AND status = 'failed' AND attempts < ?",
            (feed_url, MAX_ENTRY_ATTEMPTS),
        )
        return {row[0]: row[1] for row in rows}

    def new_per_day(self, feed_url: str, days: int = 7) -> float | None:
        """How many entries a feed brought per day over the last `days` (None before a day of
        history: a new feed has no rhythm yet)."""
        db = self._database.connection
        now = datetime.now(UTC)
        row = db.execute(
            "SELECT COUNT(*) FROM entries WHERE feed_url = ? AND first_seen >= ?",
            (feed_url, stored_time(now - timedelta(days=days))),
        ).fetchone()
        (first,) = db.execute(
            "SELECT MIN(first_seen) FROM entries WHERE feed_url = ?", (feed_url,)
        ).fetchone()
        if first is None:
            return None
        observed = min(days * 86400.0, (now - read_time(first)).total_seconds())
        if observed < 86400.0:
            return None
        return float(row[0]) / (observed / 86400.0)

    def record_duplicate(
        self,
        feed_url: str,
        entry_key: str,
        link: str | None,
        match: DuplicateMatch,
        *,
        title: str | None = None,
        canonical_url: str | None = None,
    ) -> None:
        """Record a dropped entry: which saved document it matched, how closely, and on what
        evidence; with log_duplicates, a line in the duplicates log too."""
        self.record(feed_url, entry_key, link, "duplicate", match.document_id, match.reason)
        evidence = match.evidence
        self._database.connection.execute(
            "UPDATE entries SET title = ?, canonical_url = ?, jaccard = ?, containment = ?, evidence = ?"
            " WHERE feed_url = ? AND entry_key = ?",
            (
                title,
                canonical_url or None,
                match.jaccard,
                match.containment,
                evidence.to_json() if evidence else None,
                feed_url,
                entry_key,
            ),
        )
        if self._log_duplicates:
            line = {
                "detected": now_stored(),
                "feed": feed_url,
                "entry_link": link,
                "canonical_url": canonical_url or None,
                "title": title,
                "duplicate_of": match.document_id,
                "reason": match.reason,
                "jaccard": match.jaccard,
                "containment": match.containment,
                "evidence": evidence.as_dict() if evidence else None,
            }
            append_line(self._output_dir / DUPLICATES_LOG, json.dumps(line, ensure_ascii=False))

    def record_failure(
        self, feed_url: str, entry_key: str, link: str | None, reason: str, *, count_attempt: bool = True
    ) -> None:
        """Record a failed entry; with count_attempt=False the failure is not the entry's fault
        (a shared index down) and does not bring it closer to being given up."""
        self.record(feed_url, entry_key, link, "failed", None, reason, count_attempt=count_attempt)

    def record(
        self,
        feed_url: str,
        entry_key: str,
        link: str | None,
        status: EntryStatus,
        document_id: str | None,
        reason: str | None,
        *,
        count_attempt: bool = True,
    ) -> None:
        """Insert or update an entry's outcome (inside the caller's transaction, if any)."""
        now = now_stored()
        attempt = 1 if count_attempt else 0
        self._database.connection.execute(
            """
            INSERT INTO entries (feed_url, entry_key, link, status, document_id, reason, attempts,
                                 first_seen, last_seen)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (feed_url, entry_key) DO UPDATE SET
                status = excluded.status, document_id = excluded.document_id,
                reason = excluded.reason, attempts = entries.attempts + ?, last_seen = excluded.last_seen
            """,
            (feed_url, entry_key, link, status, document_id, reason, attempt, now, now, attempt),
        )

    def recent_duplicates(self, limit: int, offset: int = 0) -> list[DroppedEntry]:
        """The latest entries dropped as duplicates, newest first (after the `offset` newest)."""
        rows = self._database.connection.execute(
            "SELECT e.*, d.path AS kept_path FROM entries e"
            " LEFT JOIN documents d ON d.id = e.document_id"
            " WHERE e.status = 'duplicate' ORDER BY e.last_seen DESC, e.rowid DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [DroppedEntry(entry_record(row), row["kept_path"]) for row in rows]

    def find(self, ident: str) -> list[EntryRecord]:
        """Entries whose link or canonical URL is `ident`, or that matched document `ident`."""
        rows = self._database.connection.execute(
            "SELECT * FROM entries WHERE link = ? OR canonical_url = ? OR document_id = ? ORDER BY last_seen",
            (ident, ident, ident),
        )
        return [entry_record(row) for row in rows]


def entry_record(row: sqlite3.Row) -> EntryRecord:
    return EntryRecord(
        feed_url=row["feed_url"],
        entry_key=row["entry_key"],
        link=row["link"],
        status=row["status"],
        document_id=row["document_id"],
        reason=row["reason"],
        attempts=row["attempts"],
        first_seen=read_time(row["first_seen"]),
        last_seen=read_time(row["last_seen"]),
        title=row["title"],
        canonical_url=row["canonical_url"],
        jaccard=row["jaccard"],
        containment=row["containment"],
        evidence=Evidence.from_dict(json.loads(row["evidence"])) if row["evidence"] else None,
    )
