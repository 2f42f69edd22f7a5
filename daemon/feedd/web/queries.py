"""What the web view reads from the state that `feedd status`, `dups` and `explain` do not: the
saved documents page by page and by search, one saved file, a dedup text, and the counts per hour.
Each call opens the state read-only (no lock, nothing written) and closes it again, so that it
runs in any thread and beside a running daemon."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from feedd.config import Config
from feedd.errors import StateError
from feedd.output import ManifestEntry
from feedd.state import State

#: Rows per page of every list.
PAGE_SIZE = 50
#: LIKE's wildcards and its escape character, escaped.
_LIKE_ESCAPES = str.maketrans({"%": "\\%", "_": "\\_", "\\": "\\\\"})


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """A saved document as the documents list shows it: its manifest line's main fields."""

    seq: int
    doc_id: str
    file: str
    title: str
    feed: str
    feed_name: str | None
    tags: tuple[str, ...]
    saved_at: datetime
    published: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class DocumentSearch:
    """A documents query; empty fields do not filter."""

    #: Words the title contains, each anywhere in it and in any order (parts of words too;
    #: case-insensitive for ASCII letters, as SQLite's LIKE).
    title: str = ""
    #: A feed's URL, as the state names it.
    feed: str = ""
    tag: str = ""
    #: Saved on or after this day, and on or before that one (UTC).
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True, slots=True)
class DocumentFile:
    """One saved document: its file exactly as written, and its manifest line."""

    seq: int
    doc_id: str
    file: str
    saved_at: datetime
    manifest_line: str
    #: The file's text (None when the file is gone from the output folder).
    text: str | None
    title: str
    #: The article's link, as its manifest line gives it.
    url: str | None


@dataclass(frozen=True, slots=True)
class HourCounts:
    """What happened in one hour (UTC): documents saved, entries dropped and entries failed."""

    hour: datetime
    saved: int
    dropped: int
    failed: int


def state_of(config: Config) -> State:
    """The state, to be opened read-only: no lock, no write, no recovery."""
    return State(config.database, config.output_dir, config.storage.filename, read_only=True)


@contextmanager
def _reading(config: Config) -> Iterator[sqlite3.Connection]:
    with state_of(config) as state:
        try:
            yield state.db.connection
        except sqlite3.Error as exc:
            raise StateError(f"state database {config.database}: {exc}") from None


def search_documents(
    config: Config, search: DocumentSearch, *, offset: int = 0, limit: int = PAGE_SIZE
) -> list[DocumentRow]:
    """Saved documents matching `search`, newest first."""
    query, parameters = search_query(search, offset=offset, limit=limit)
    with _reading(config) as db:
        rows = db.execute(query, parameters).fetchall()
    return [_document_row(row) for row in rows]


def search_query(search: DocumentSearch, *, offset: int, limit: int) -> tuple[str, list[object]]:
    """The SQL of `search_documents` and its parameters."""
    clauses, parameters = ["state = 'saved'"], list[object]()
    # Plain LIKEs over the stored line first, so that no JSON is parsed for rows that cannot
    # match (SQLite tries the terms in order); then the title and the tags themselves.
    words = search.title.split()
    for word in words:
        clauses.append("manifest_line LIKE ? ESCAPE '\\'")
        parameters.append(f"%{_json_text(word).translate(_LIKE_ESCAPES)}%")
    if search.tag:
        # The tag then its closing quote, not the opening one: a pattern that starts with a
        # character as common as '"' in JSON makes LIKE twice as slow.
        clauses.append("manifest_line LIKE ? ESCAPE '\\'")
        parameters.append(f'%{_json_text(search.tag).translate(_LIKE_ESCAPES)}"%')
    for word in words:  # every word in the title, in any order
        clauses.append("json_extract(manifest_line, '$.title') LIKE ? ESCAPE '\\'")
        parameters.append(f"%{word.translate(_LIKE_ESCAPES)}%")
    if search.tag:
        clauses.append("EXISTS (SELECT 1 FROM json_each(manifest_line, '$.tags') WHERE value = ?)")
        parameters.append(search.tag)
    if search.feed:
        clauses.append("feed_url = ?")
        parameters.append(search.feed)
    # The unary plus keeps SQLite off the saved_at index: through it, a range of many days was
    # read whole and sorted by seq (230 ms over 100,000 documents); in seq order, the scan stops
    # at the page's last row (at worst, when little matches, it reads every row: 30 ms).
    if search.since:
        clauses.append("+saved_at >= ?")
        parameters.append(search.since.isoformat())
    if search.until:
        clauses.append("+saved_at < ?")
        parameters.append((search.until + timedelta(days=1)).isoformat())
    query = (
        "SELECT seq, id, path, feed_url, saved_at, manifest_line FROM documents"
        f" WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT ? OFFSET ?"
    )
    return query, [*parameters, limit, offset]


def document_file(config: Config, doc_id: str) -> DocumentFile | None:
    """The saved document `doc_id`: its file as written and its manifest line."""
    with _reading(config) as db:
        row = db.execute(
            "SELECT seq, id, path, saved_at, manifest_line FROM documents WHERE id = ? AND state = 'saved'",
            (doc_id,),
        ).fetchone()
    if row is None:
        return None
    manifest = ManifestEntry.from_line(row["manifest_line"])
    return DocumentFile(
        seq=row["seq"],
        doc_id=row["id"],
        file=row["path"],
        saved_at=_time(row["saved_at"]),
        manifest_line=row["manifest_line"],
        text=_read_saved(config.output_dir, row["path"]),
        title=manifest.title if manifest else "",
        url=manifest.url if manifest else None,
    )


def dedup_text(config: Config, doc_id: str) -> str | None:
    """The text duplicate detection compared for a saved document (title, lead, body: the word
    offsets of shared runs count in it), while its fingerprint is kept (the dedup window)."""
    with state_of(config) as state:
        found = state.documents.find(doc_id)
        if found is None:
            return None
        stored = next(state.fingerprints.of_documents([found.seq]), None)
    return stored.record.plain_text() if stored else None


def dropped_text(config: Config, feed_url: str, entry_key: str) -> str | None:
    """What an entry dropped as a near duplicate said (its dedup text), while it is kept; None
    also for a text that does not decompress (the pair then shows the runs alone)."""
    try:
        with state_of(config) as state:
            return state.dropped_texts.text_of(feed_url, entry_key)
    except sqlite3.Error as exc:
        raise StateError(f"state database {config.database}: {exc}") from None
    except (zlib.error, UnicodeDecodeError):
        return None


@dataclass(slots=True)
class _Tally:
    saved: int = 0
    dropped: int = 0
    failed: int = 0


def hourly_counts(config: Config, hours: int, now: datetime) -> list[HourCounts]:
    """Per hour over the last `hours`, oldest first, every hour there: the documents saved in it
    (by their save time, pending ones included), and the entries dropped and failed, each entry
    counted once, by its current status, at the hour it was last seen."""
    end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    since = start.isoformat(timespec="seconds")
    counts: dict[str, _Tally] = {}
    queries = {
        "saved": "SELECT substr(saved_at, 1, 13), COUNT(*) FROM documents WHERE saved_at >= ? GROUP BY 1",
        "dropped": "SELECT substr(last_seen, 1, 13), COUNT(*) FROM entries"
        " WHERE status = 'duplicate' AND last_seen >= ? GROUP BY 1",
        "failed": "SELECT substr(last_seen, 1, 13), COUNT(*) FROM entries"
        " WHERE status = 'failed' AND last_seen >= ? GROUP BY 1",
    }
    with _reading(config) as db:
        for kind, query in queries.items():
            for hour, count in db.execute(query, (since,)):
                setattr(counts.setdefault(hour, _Tally()), kind, count)
    found = []
    for index in range(hours):
        hour = start + timedelta(hours=index)
        tally = counts.get(hour.isoformat()[:13], _Tally())
        found.append(HourCounts(hour, tally.saved, tally.dropped, tally.failed))
    return found


def saved_count(config: Config) -> int:
    with _reading(config) as db:
        return int(db.execute("SELECT MAX(seq) + 1 FROM documents").fetchone()[0] or 0)


def _document_row(row: sqlite3.Row) -> DocumentRow:
    manifest = ManifestEntry.from_line(row["manifest_line"])
    return DocumentRow(
        seq=row["seq"],
        doc_id=row["id"],
        file=row["path"],
        title=manifest.title if manifest else "",
        feed=row["feed_url"],
        feed_name=manifest.feed_name if manifest else None,
        tags=(manifest.tags or ()) if manifest else (),
        saved_at=_time(row["saved_at"]),
        published=manifest.published.isoformat() if manifest and manifest.published else None,
        url=manifest.url if manifest else None,
    )


def _read_saved(output_dir: Path, relative: str) -> str | None:
    """A saved file's text; None when it is gone, or when the stored path would lead out of the
    output folder."""
    root = output_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        return None
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None


def _json_text(text: str) -> str:
    """`text` as it appears inside a JSON string the manifest wrote (ensure_ascii off)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _time(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)
