"""The `robots` table: each origin's robots.txt as last fetched, until it expires."""

from __future__ import annotations

from datetime import datetime

from feedd.state.database import Database, read_time, stored_time
from feedd.state.records import CachedRobots


class RobotsFiles:
    """robots.txt files by origin."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def cached(self, origin: str, now: datetime) -> CachedRobots | None:
        """`origin`'s robots.txt as last fetched, unless it has expired by `now`."""
        row = self._database.connection.execute(
            "SELECT status, body, expires FROM robots WHERE origin = ? AND expires > ?",
            (origin, stored_time(now)),
        ).fetchone()
        return CachedRobots(row["status"], row["body"], read_time(row["expires"])) if row else None

    def cache(self, origin: str, status: int, body: str, expires: datetime) -> None:
        self._database.connection.execute(
            "INSERT OR REPLACE INTO robots VALUES (?, ?, ?, ?)",
            (origin, status, body, stored_time(expires)),
        )
