"""The records the state takes and gives: frozen, typed, times as aware UTC datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from feedd.dedup import DuplicateMatch, Evidence, FingerprintRecord
from feedd.output import ManifestEntry

EntryStatus = Literal["saved", "duplicate", "failed"]


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the previous poll of a feed left for the next: its HTTP validators."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """A polled feed: its last result, its schedule and its entry counts (for `feedd status`)."""

    url: str
    etag: str | None
    last_modified: str | None
    last_polled: datetime | None
    last_result: str | None
    last_error: str | None
    consecutive_errors: int
    next_poll: datetime | None
    interval: float | None
    interval_reason: str | None
    #: Its entries saved, dropped as duplicates, and failed (still retried or given up).
    saved: int
    dropped: int
    failed: int
    #: When its current run of failed polls began: the time of the run's first error. None
    #: while its last poll succeeded, and for a run already under way when the state was
    #: upgraded to schema 8 (its start is unknown) until a poll succeeds and a new run begins.
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """What became of one feed entry."""

    feed_url: str
    entry_key: str
    link: str | None
    status: EntryStatus
    #: The saved document it became, or the one it duplicates.
    document_id: str | None
    #: Why it was dropped or why it failed.
    reason: str | None
    attempts: int
    first_seen: datetime
    last_seen: datetime
    #: For a duplicate: its title and canonical URL, and how closely it matched.
    title: str | None
    canonical_url: str | None
    jaccard: float | None
    containment: float | None
    evidence: Evidence | None


@dataclass(frozen=True, slots=True)
class DroppedEntry:
    """A duplicate entry, with the file of the saved document it duplicates (None if gone)."""

    entry: EntryRecord
    kept_file: str | None


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A rendered document ready to be saved, with what its manifest line says."""

    doc_id: str
    canonical_url: str
    body_hash: str
    text: str
    filename_date: datetime
    feed_url: str
    entry_key: str
    entry_link: str | None
    manifest: ManifestEntry
    #: Near-duplicate detection's record, opaque here.
    fingerprint: FingerprintRecord | None = None


@dataclass(frozen=True, slots=True)
class SavedDocument:
    seq: int
    doc_id: str
    path: Path


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document in the state, with the link of the entry it came from."""

    seq: int
    doc_id: str
    #: Its path under the output folder.
    file: str
    canonical_url: str | None
    feed_url: str
    entry_key: str
    entry_link: str | None
    saved_at: datetime
    #: "pending" until its file and manifest line are written (see feedd.state.documents).
    state: Literal["pending", "saved"]
    #: The closest saved document it was compared with and found to be another story.
    nearest: DuplicateMatch | None


@dataclass(frozen=True, slots=True)
class Extension:
    """A kept document that holds most of a saved one and adds text of its own."""

    doc_id: str
    saved_at: datetime
    #: The saved document it extends, and the evidence.
    match: DuplicateMatch


@dataclass(frozen=True, slots=True)
class WaitingDocument:
    """A rendered document kept until the shared dedup index can decide on it."""

    document: NewDocument
    body_words: int
    queued_at: datetime


@dataclass(frozen=True, slots=True)
class StoredFingerprint:
    """A saved document's near-duplicate fingerprint."""

    seq: int
    doc_id: str
    record: FingerprintRecord


@dataclass(frozen=True, slots=True)
class FingerprintSketch:
    """The MinHash values of a saved document: all the LSH index loads."""

    seq: int
    #: FingerprintRecord.minhash: the whole document's MinHash, then its lead's.
    minhash: bytes


@dataclass(frozen=True, slots=True)
class CachedRobots:
    """A robots.txt as last fetched."""

    status: int
    body: str
    expires: datetime


@dataclass(frozen=True, slots=True)
class HostQueue:
    """One host's queue in the frontier of the running feedd, as of its last snapshot."""

    host: str
    queued: int
    in_flight: int
    next_allowed: datetime
    #: Seconds between two request starts (host_gap, or the site's Crawl-delay).
    gap: float
    #: Requests started since the process began, and the seconds they waited for their turn.
    started: int
    waited: float
    as_of: datetime
