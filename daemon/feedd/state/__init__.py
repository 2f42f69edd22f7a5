"""The state (SQLite, WAL) and the saved documents: crash-safe, nothing lost or doubled.

`State` opens the database (feedd.state.database) and gives one repository per table: `feeds`,
`entries`, `documents` (with the save protocol), `extensions` (what a kept document extends),
`fingerprints`, `dropped_texts` (what near duplicates said), `waiting`, `robots`, `hosts` (the
frontier's last snapshot). They take and return the records of feedd.state.records, and times
as aware UTC datetimes. The history (feedd.state.history) reads them for `feedd status`, `dups` and `explain`.
"""

from feedd.state.core import State
from feedd.state.documents import MANIFEST
from feedd.state.entries import DUPLICATES_LOG, MAX_ENTRY_ATTEMPTS
from feedd.state.history import (
    Drop,
    Explanation,
    Extended,
    FeedStatus,
    KeptDocument,
    RelatedStory,
    explain,
    feed_statuses,
    host_queues,
    recent_drops,
    recent_extensions,
)
from feedd.state.records import (
    CachedRobots,
    DroppedEntry,
    EntryRecord,
    EntryStatus,
    FeedRecord,
    FeedState,
    FingerprintSketch,
    HostQueue,
    NewDocument,
    SavedDocument,
    StoredDocument,
    StoredFingerprint,
    WaitingDocument,
)
from feedd.state.schema import SCHEMA_VERSION

__all__ = [
    "DUPLICATES_LOG",
    "MANIFEST",
    "MAX_ENTRY_ATTEMPTS",
    "SCHEMA_VERSION",
    "CachedRobots",
    "Drop",
    "DroppedEntry",
    "EntryRecord",
    "EntryStatus",
    "Explanation",
    "Extended",
    "FeedRecord",
    "FeedState",
    "FeedStatus",
    "FingerprintSketch",
    "HostQueue",
    "KeptDocument",
    "RelatedStory",
    "NewDocument",
    "SavedDocument",
    "State",
    "StoredDocument",
    "StoredFingerprint",
    "WaitingDocument",
    "explain",
    "feed_statuses",
    "host_queues",
    "recent_drops",
    "recent_extensions",
]
