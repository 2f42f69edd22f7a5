"""The `hosts` table: the running feedd's per-host queues, as of its last snapshot, so that
`feedd status` can show where a pass or the daemon spends its time."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta

from feedd.errors import StateError
from feedd.http import HostLoad
from feedd.state.database import Database, read_time, stored_time
from feedd.state.records import HostQueue


class HostQueues:
    """The last snapshot of the frontier; replaced whole each time."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def record(self, loads: Iterable[HostLoad], now: datetime) -> None:
        """Replace the snapshot with `loads`, seen at `now`."""
        rows = [
            (
                load.host,
                load.queued,
                load.in_flight,
                stored_time(now + timedelta(seconds=load.next_allowed_in)),
                load.gap,
                load.started,
                load.waited,
                stored_time(now),
            )
            for load in loads
        ]
        try:
            with self._database.transaction() as db:
                db.execute("DELETE FROM hosts")
                db.executemany("INSERT INTO hosts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            raise StateError(f"recording the host queues: {exc}") from None

    def current(self) -> list[HostQueue]:
        """The hosts with the most work queued first."""
        rows = self._database.connection.execute(
            "SELECT * FROM hosts ORDER BY queued + in_flight DESC, host"
        ).fetchall()
        return [
            HostQueue(
                host=row["host"],
                queued=row["queued"],
                in_flight=row["in_flight"],
                next_allowed=read_time(row["next_allowed"]),
                gap=row["gap"],
                started=row["started"],
                waited=row["waited"],
                as_of=read_time(row["as_of"]),
            )
            for row in rows
        ]
