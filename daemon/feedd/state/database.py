"""The state database: one SQLite file in WAL mode, one writing process at a time.

A writer holds an flock on `<database>.lock` for as long as it is open; read-only opens take no
lock, so `feedd status`, `dups` and `explain` work beside a running pass. Times are stored as
UTC ISO 8601 text to the second, so that text order is time order; they cross this package's
boundary as aware `datetime`s only.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from feedd.config import redacted_url
from feedd.errors import StateError, StateLockedError
from feedd.state.schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION

log = logging.getLogger(__name__)


class Database:
    """The connection to the state database, its lock, its schema and its `meta` table."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._lock_fd: int | None = None

    def open(self) -> None:
        """Lock the database for this process, create or upgrade its tables."""
        self._lock()
        try:
            self._connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._connection.row_factory = sqlite3.Row
            self._connection.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit survives a process crash but may be lost with power. Only the
            # seq-allocating commit must survive power loss too; see `transaction(durable=True)`.
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.create_function("feedd_redacted", 1, _redacted, deterministic=True)
            self._connection.create_function("feedd_redacted_json", 1, _redacted_json, deterministic=True)
            self._connection.executescript(SCHEMA)
            self._migrate()
        except sqlite3.Error as exc:
            self.close()
            raise StateError(f"state database {self.path}: {exc}") from None
        except BaseException:
            self.close()  # a refused open keeps no lock
            raise

    def open_read_only(self) -> None:
        """Open without a lock and without writing; the schema must be current."""
        if not self.path.exists():
            raise StateError(f"no state database at {self.path} (has feedd run yet?)")
        try:
            self._connection = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=30)
            self._connection.row_factory = sqlite3.Row
            version = self.meta("schema_version")
        except sqlite3.Error as exc:
            self.close()
            raise StateError(f"state database {self.path}: {exc}") from None
        if version is None or int(version) != SCHEMA_VERSION:
            self.close()
            raise StateError(f"{self.path} has schema {version}; run feedd once to upgrade it")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @property
    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            raise StateError("the store is not open")
        return self._connection

    @contextmanager
    def transaction(self, *, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction, rolled back on any exception. `durable`: its commit survives
        power loss too (synchronous FULL for this commit only)."""
        db = self.connection
        if durable:
            db.execute("PRAGMA synchronous=FULL")
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (a full disk) may leave the transaction open, or not.
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        finally:
            if durable:
                db.execute("PRAGMA synchronous=NORMAL")

    def meta(self, key: str) -> str | None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.connection.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def instance_id(self) -> str:
        """This state's identity, made on first use: which feedd instance claimed a story."""
        if (known := self.meta("instance_id")) is None:
            known = uuid.uuid4().hex
            self.set_meta("instance_id", known)
        return known

    def _lock(self) -> None:
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateLockedError(
                f"another feedd process is using {self.path} (lock held on {lock_path})"
            ) from None
        self._lock_fd = fd

    def _migrate(self) -> None:
        version = self.meta("schema_version")
        if version is None:
            self.connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self.connection.execute("INSERT OR IGNORE INTO meta VALUES ('next_seq', '0')")
            return
        if int(version) > SCHEMA_VERSION:
            raise StateError(f"{self.path} was written by a newer feedd (schema {version})")
        if int(version) == SCHEMA_VERSION:
            return
        # A migration may move secrets out of rows (7): their old bytes must not stay behind in
        # freed pages or the write-ahead log.
        secure_delete = self.connection.execute("PRAGMA secure_delete").fetchone()[0]
        self.connection.execute("PRAGMA secure_delete=ON")
        for target in range(int(version) + 1, SCHEMA_VERSION + 1):
            with self.transaction() as db:
                for statement in MIGRATIONS[target]:
                    db.execute(statement)
                db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(target),))
        busy = self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        self.connection.execute(f"PRAGMA secure_delete={int(secure_delete)}")
        if busy:  # another reader held the log: its old pages go at the next checkpoint
            log.warning("%s: upgraded; the write-ahead log could not be emptied yet", self.path)


def stored_time(when: datetime) -> str:
    """A time as the state stores it: UTC, ISO 8601, to the second."""
    if when.tzinfo is None:
        raise ValueError(f"the state stores aware times only, not {when!r}")
    return when.astimezone(UTC).isoformat(timespec="seconds")


def read_time(text: str) -> datetime:
    """A stored time, back as an aware datetime (a time stored without an offset is UTC)."""
    when = datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def read_optional_time(text: str | None) -> datetime | None:
    return read_time(text) if text is not None else None


def now_stored() -> str:
    return stored_time(datetime.now(UTC))


def _redacted(url: str | None) -> str | None:
    return None if url is None else redacted_url(url)


#: The keys of a manifest line (and of a waiting document's JSON) that hold URLs.
_URL_KEYS = frozenset({"feed", "url", "canonical_url", "entry_link", "feed_url"})


def _redacted_json(text: str | None) -> str | None:
    """A JSON object's URL fields with their secrets masked, written as the manifest writes it."""
    if not text:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return json.dumps(_mask(data), ensure_ascii=False)


def _mask(value: object) -> object:
    if isinstance(value, dict):
        return {
            key: redacted_url(item) if key in _URL_KEYS and isinstance(item, str) else _mask(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return value
