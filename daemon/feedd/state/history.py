"""What feedd did, kept and dropped, and why: the library behind `feedd status`, `feedd dups` and
`feedd explain`.

Reads the state without locking it, so it works beside a running pass.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from feedd.config.settings import Config
from feedd.dedup.verify import Evidence
from feedd.state.store import Store


@dataclass(frozen=True, slots=True)
class Drop:
    """An entry dropped as a duplicate of a saved document."""

    detected: str
    feed: str
    link: str | None
    title: str | None
    canonical_url: str | None
    duplicate_of: str
    kept_file: str | None
    reason: str
    jaccard: float | None
    containment: float | None
    #: The shared runs that made it a copy, where they were verified.
    evidence: Evidence | None = None


@dataclass(frozen=True, slots=True)
class NearestStory:
    """The closest saved document a kept one was compared with and found to be another story."""

    doc_id: str
    file: str | None
    jaccard: float | None
    containment: float | None
    evidence: Evidence | None


@dataclass(frozen=True, slots=True)
class KeptDocument:
    seq: int
    doc_id: str
    file: str
    canonical_url: str | None
    feed: str
    entry_link: str | None
    saved_at: str
    nearest: NearestStory | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    """Everything the state says about one document id or URL."""

    query: str
    #: The saved document the query names, if any.
    kept: KeptDocument | None
    #: Entries with that URL that were dropped, and, for a kept document, its dropped copies.
    drops: tuple[Drop, ...]


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """One feed, as `feedd status` shows it."""

    url: str
    name: str | None
    last_polled: str | None
    last_result: str | None
    last_error: str | None
    consecutive_errors: int
    next_poll: str | None
    interval: float | None
    interval_reason: str | None
    saved: int
    dropped: int
    failed: int


def feed_statuses(config: Config) -> list[FeedStatus]:
    """The configured feeds, in config order, with what the state knows of them."""
    with _store(config) as store:
        rows = {row["url"]: row for row in store.feed_statuses()}
    statuses = []
    for feed in config.feeds:
        url, name, row = feed.url, feed.name, rows.get(feed.url)

        def known(column: str, default: object = None, row: sqlite3.Row | None = row) -> Any:
            return row[column] if row is not None else default

        statuses.append(
            FeedStatus(
                url=url,
                name=name,
                last_polled=known("last_polled"),
                last_result=known("last_result", "never polled"),
                last_error=known("last_error"),
                consecutive_errors=known("consecutive_errors", 0),
                next_poll=known("next_poll") if feed.enabled else None,
                interval=known("interval") if feed.enabled else None,
                interval_reason=known("interval_reason") if feed.enabled else "disabled in the config",
                saved=known("saved", 0),
                dropped=known("dropped", 0),
                failed=known("failed", 0),
            )
        )
    return statuses


def _store(config: Config) -> Store:
    return Store(config.database, config.output_dir, config.storage.filename, read_only=True)


def _drop(row: sqlite3.Row, kept_file: str | None) -> Drop:
    return Drop(
        detected=row["last_seen"],
        feed=row["feed_url"],
        link=row["link"],
        title=row["title"],
        canonical_url=row["canonical_url"],
        duplicate_of=row["document_id"],
        kept_file=kept_file,
        reason=row["reason"],
        jaccard=row["jaccard"],
        containment=row["containment"],
        evidence=Evidence.from_dict(json.loads(row["evidence"])) if row["evidence"] else None,
    )


def _nearest(store: Store, recorded: str | None) -> NearestStory | None:
    if not recorded:
        return None
    data = json.loads(recorded)
    found = store.find_document(data["document_id"])
    return NearestStory(
        doc_id=data["document_id"],
        file=found["path"] if found else None,
        jaccard=data["jaccard"],
        containment=data["containment"],
        evidence=Evidence.from_dict(data["evidence"]) if data["evidence"] else None,
    )


def recent_drops(config: Config, limit: int = 20) -> list[Drop]:
    """The most recent duplicates dropped, newest first."""
    with _store(config) as store:
        return [_drop(row, row["kept_path"]) for row in store.recent_duplicates(limit)]


def explain(config: Config, ident: str) -> Explanation:
    """Why the document with this id, canonical URL or entry link was kept or dropped."""
    with _store(config) as store:
        row = store.find_document(ident)
        kept = None
        if row is not None:
            kept = KeptDocument(
                seq=row["seq"],
                doc_id=row["id"],
                file=row["path"],
                canonical_url=row["canonical_url"],
                feed=row["feed_url"],
                entry_link=row["entry_link"],
                saved_at=row["saved_at"],
                nearest=_nearest(store, row["nearest"]),
            )
        drops = [row for row in store.find_entries(ident) if row["status"] == "duplicate"]
        if kept is not None:
            drops += [row for row in store.find_entries(kept.doc_id) if row["status"] == "duplicate"]
        unique = {(r["feed_url"], r["entry_key"]): r for r in drops}
        files = {}
        for doc_id in {r["document_id"] for r in unique.values()}:
            if found := store.find_document(doc_id):
                files[doc_id] = found["path"]
        return Explanation(
            query=ident,
            kept=kept,
            drops=tuple(_drop(r, files.get(r["document_id"])) for r in unique.values()),
        )
