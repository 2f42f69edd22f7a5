"""The `feeds` table: each feed's HTTP validators, last poll and next poll."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from feedd.state.database import Database, now_stored, read_optional_time, read_time, stored_time
from feedd.state.records import FeedRecord, FeedState


class Feeds:
    """Poll bookkeeping, one row per polled feed."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def state(self, url: str) -> FeedState:
        row = self._database.connection.execute(
            "SELECT etag, last_modified FROM feeds WHERE url = ?", (url,)
        ).fetchone()
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
        failed = error is not None
        now = now_stored()
        with self._database.transaction() as db:
            if clear_validators:
                db.execute("UPDATE feeds SET etag = NULL, last_modified = NULL WHERE url = ?", (url,))
            db.execute(
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
            if failed:
                # Only the first error of a run starts it. A feed already failing when its state
                # was upgraded to schema 8 has no row and gets none until a poll succeeds and a
                # new run begins: its start is unknown, not this poll's time.
                db.execute(
                    "INSERT OR IGNORE INTO feed_failures"
                    " SELECT url, ? FROM feeds WHERE url = ? AND consecutive_errors = 1",
                    (now, url),
                )
            else:
                db.execute("DELETE FROM feed_failures WHERE url = ?", (url,))

    def record_schedule(self, url: str, *, next_poll: datetime, interval: float, reason: str) -> None:
        self._database.connection.execute(
            "UPDATE feeds SET next_poll = ?, interval = ?, interval_reason = ? WHERE url = ?",
            (stored_time(next_poll), interval, reason, url),
        )

    def consecutive_errors(self, url: str) -> int:
        row = self._database.connection.execute(
            "SELECT consecutive_errors FROM feeds WHERE url = ?", (url,)
        ).fetchone()
        return int(row[0]) if row else 0

    def planned_polls(self) -> dict[str, datetime]:
        """The next poll planned for each feed that has one (kept across restarts)."""
        rows = self._database.connection.execute(
            "SELECT url, next_poll FROM feeds WHERE next_poll IS NOT NULL"
        )
        return {row["url"]: read_time(row["next_poll"]) for row in rows}

    def failing(self) -> set[str]:
        """The URLs of the feeds whose last poll failed (few, so cheap to ask after every poll)."""
        rows = self._database.connection.execute("SELECT url FROM feeds WHERE consecutive_errors > 0")
        return {row["url"] for row in rows}

    def statuses(self) -> list[FeedRecord]:
        """Every polled feed with its last result, schedule and entry counts, by URL."""
        # One pass over the entries, grouped in primary-key order: a subquery per feed and status
        # made SQLite scan them all for each feed (12 s at 10,000 feeds).
        rows = self._database.connection.execute(
            """
            WITH counts AS (
                SELECT feed_url,
                       SUM(status = 'saved') AS saved,
                       SUM(status = 'duplicate') AS dropped,
                       SUM(status = 'failed') AS failed
                FROM entries GROUP BY feed_url
            )
            SELECT f.*,
                   COALESCE(c.saved, 0) AS saved,
                   COALESCE(c.dropped, 0) AS dropped,
                   COALESCE(c.failed, 0) AS failed,
                   ff.since AS failing_since
            FROM feeds f LEFT JOIN counts c ON c.feed_url = f.url
            LEFT JOIN feed_failures ff ON ff.url = f.url
            ORDER BY f.url
            """
        )
        return [_feed_record(row) for row in rows]


def _feed_record(row: sqlite3.Row) -> FeedRecord:
    return FeedRecord(
        url=row["url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_polled=read_optional_time(row["last_polled"]),
        last_result=row["last_result"],
        last_error=row["last_error"],
        consecutive_errors=row["consecutive_errors"],
        next_poll=read_optional_time(row["next_poll"]),
        interval=row["interval"],
        interval_reason=row["interval_reason"],
        saved=row["saved"],
        dropped=row["dropped"],
        failed=row["failed"],
        failing_since=read_optional_time(row["failing_since"]),
    )
