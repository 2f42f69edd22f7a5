"""The `dropped_texts` table: the dedup text of entries dropped as near duplicates, kept for the
dedup window, so a dropped copy can be read beside the document it copies (the web view's pair)."""

from __future__ import annotations

from datetime import datetime

from feedd.dedup import FingerprintRecord, text_from_record
from feedd.state.database import Database, stored_time


class DroppedTexts:
    """Dropped entries' texts by (feed, entry key)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def keep(self, feed_url: str, entry_key: str, record: FingerprintRecord, dropped_at: datetime) -> None:
        """Keep what a dropped entry said (its fingerprint's compressed dedup text)."""
        self._database.connection.execute(
            "INSERT OR REPLACE INTO dropped_texts (feed_url, entry_key, dropped_at, text)"
            " VALUES (?, ?, ?, ?)",
            (feed_url, entry_key, stored_time(dropped_at), record.text),
        )

    def text_of(self, feed_url: str, entry_key: str) -> str | None:
        """The dedup text of a dropped entry; None once it fell out of the window, or when it
        was dropped before feedd kept these, or without a fingerprint (exact duplicates)."""
        row = self._database.connection.execute(
            "SELECT text FROM dropped_texts WHERE feed_url = ? AND entry_key = ?", (feed_url, entry_key)
        ).fetchone()
        return text_from_record(row[0]) if row else None

    def forget_before(self, older_than: datetime) -> int:
        """Forget texts of entries dropped before `older_than`; how many were forgotten."""
        cursor = self._database.connection.execute(
            "DELETE FROM dropped_texts WHERE dropped_at < ?", (stored_time(older_than),)
        )
        return cursor.rowcount
